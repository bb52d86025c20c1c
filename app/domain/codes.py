"""Enumerations exactly as the e-KTP prints them.

Pekerjaan (occupation) is a *versioned* list kept in ``pekerjaan_v<N>.json`` beside this
module: the Dukcapil SIAK occupation table (codes 1-89, the values printed on e-KTP), compiled
from public copies used by village information systems, since no machine-readable decree was
at hand. When Dukcapil changes the list, add ``pekerjaan_v2.json`` and point
``PEKERJAAN_VERSION`` at it; keep the old file, so records sealed under v1 (the version goes in
the packet manifest) still validate against the list they were made with.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

JENIS_KELAMIN: tuple[str, ...] = ("LAKI-LAKI", "PEREMPUAN")

AGAMA: tuple[str, ...] = (
    "ISLAM",
    "KRISTEN",
    "KATOLIK",
    "HINDU",
    "BUDDHA",
    "KHONGHUCU",
    # Recognised on the card since the 2017 Constitutional Court ruling (97/PUU-XIV/2016).
    "KEPERCAYAAN TERHADAP TUHAN YME",
)

STATUS_PERKAWINAN: tuple[str, ...] = ("BELUM KAWIN", "KAWIN", "CERAI HIDUP", "CERAI MATI")

GOLONGAN_DARAH: tuple[str, ...] = (
    "A",
    "B",
    "AB",
    "O",
    "A+",
    "A-",
    "B+",
    "B-",
    "AB+",
    "AB-",
    "O+",
    "O-",
    "TIDAK TAHU",
)

KEWARGANEGARAAN: tuple[str, ...] = ("WNI", "WNA")

PEKERJAAN_VERSION = "pekerjaan-v1"
_PEKERJAAN_FILES = {"pekerjaan-v1": "pekerjaan_v1.json"}


class UnknownVersionError(KeyError):
    """A pekerjaan list version this build does not ship."""


@functools.cache
def pekerjaan(version: str = PEKERJAAN_VERSION) -> tuple[str, ...]:
    """The occupations of one list version, in Dukcapil code order."""
    try:
        filename = _PEKERJAAN_FILES[version]
    except KeyError:
        raise UnknownVersionError(version) from None
    doc = json.loads(resources.files("app.domain").joinpath(filename).read_text("utf-8"))
    if doc["version"] != version:
        raise ValueError(f"{filename} says version {doc['version']!r}, expected {version!r}")
    return tuple(item["name"] for item in doc["items"])


def pekerjaan_versions() -> tuple[str, ...]:
    """Every pekerjaan list version this build can validate against."""
    return tuple(_PEKERJAAN_FILES)


PEKERJAAN: tuple[str, ...] = pekerjaan()
