"""Made-up residents for tests. NIKs follow the format but belong to no one."""

from __future__ import annotations

import copy
from typing import Any

# A man from Gunung Kaler (Kab. Tangerang), born 12 Aug 1990.
BUDI_LAKI: dict[str, Any] = {
    "nik": "3603321208900007",
    "nama": "BUDI SANTOSO WIRAHADI",
    "tempat_lahir": "TANGERANG",
    "tanggal_lahir": "1990-08-12",
    "jenis_kelamin": "LAKI-LAKI",
    "golongan_darah": "O",
    "alamat": "JL. RAYA KRESEK NO. 17",
    "rt": "003",
    "rw": "005",
    "kode_wilayah": "36.03.32.2001",
    "agama": "ISLAM",
    "status_perkawinan": "KAWIN",
    "pekerjaan": "PETANI/PEKEBUN",
    "kewarganegaraan": "WNI",
    "no_kk": "3603321001150003",
}

# A woman from Kronjo, born 23 Feb 2000 (day + 40 in the NIK).
RATNA_PEREMPUAN: dict[str, Any] = {
    "nik": "3603076302000012",
    "nama": "RATNA KUSUMAWARDHANI",
    "tempat_lahir": "SERANG",
    "tanggal_lahir": "2000-02-23",
    "jenis_kelamin": "PEREMPUAN",
    "golongan_darah": "AB+",
    "alamat": "KP. BLUKBUK RT 01",
    "rt": "001",
    "rw": "002",
    "kode_wilayah": "36.03.07.2001",
    "agama": "KRISTEN",
    "status_perkawinan": "BELUM KAWIN",
    "pekerjaan": "PELAJAR/MAHASISWA",
    "kewarganegaraan": "WNI",
}


def resident(base: dict[str, Any] = BUDI_LAKI, **changes: Any) -> dict[str, Any]:
    """A copy of a made-up resident with some fields changed."""
    data = copy.deepcopy(base)
    data.update(changes)
    return data
