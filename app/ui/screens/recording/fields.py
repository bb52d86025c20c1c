"""The card's fields as the recording steps show them: order, kind and label."""

from __future__ import annotations

from app.domain.biodata import FIELDS
from app.ui.i18n import tr

TEXT_FIELDS = ("nik", "nama", "tempat_lahir", "tanggal_lahir", "alamat", "rt", "rw", "no_kk")
CHOICE_FIELDS = (
    "jenis_kelamin",
    "golongan_darah",
    "agama",
    "status_perkawinan",
    "pekerjaan",
    "kewarganegaraan",
)
# The card's field order, from the domain (one list, not two).
FIELD_ORDER = FIELDS
NOTE_COLOURS = {"error": "#c5221f", "warning": "#b06000"}


def field_label(name: str) -> str:
    return {
        "nik": tr("N&IK"),
        "nama": tr("&Nama"),
        "tempat_lahir": tr("&Tempat lahir"),
        "tanggal_lahir": tr("Tanggal la&hir (HH-BB-TTTT)"),
        "jenis_kelamin": tr("&Jenis kelamin"),
        "golongan_darah": tr("&Golongan darah"),
        "alamat": tr("Alam&at"),
        "rt": tr("&RT"),
        "rw": tr("R&W"),
        "kode_wilayah": tr("Kel&urahan/desa"),
        "agama": tr("Aga&ma"),
        "status_perkawinan": tr("&Status perkawinan"),
        "pekerjaan": tr("&Pekerjaan"),
        "kewarganegaraan": tr("K&ewarganegaraan"),
        "no_kk": tr("N&o. KK"),
    }[name]
