"""Card enumerations and the versioned pekerjaan list."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from app.domain import codes


def test_enumerations_as_printed_on_the_card() -> None:
    assert len(codes.AGAMA) == 7
    assert "KEPERCAYAAN TERHADAP TUHAN YME" in codes.AGAMA
    assert codes.STATUS_PERKAWINAN == ("BELUM KAWIN", "KAWIN", "CERAI HIDUP", "CERAI MATI")
    assert len(codes.GOLONGAN_DARAH) == 13 and "TIDAK TAHU" in codes.GOLONGAN_DARAH
    assert codes.JENIS_KELAMIN == ("LAKI-LAKI", "PEREMPUAN")
    assert codes.KEWARGANEGARAAN == ("WNI", "WNA")
    for values in (codes.AGAMA, codes.GOLONGAN_DARAH, codes.STATUS_PERKAWINAN):
        assert len(set(values)) == len(values)
        assert all(v == v.upper().strip() for v in values)


def test_pekerjaan_v1_is_the_dukcapil_list() -> None:
    jobs = codes.pekerjaan("pekerjaan-v1")
    assert jobs == codes.PEKERJAAN
    assert len(jobs) == 89 and len(set(jobs)) == 89
    assert jobs[:4] == (
        "BELUM/TIDAK BEKERJA",
        "MENGURUS RUMAH TANGGA",
        "PELAJAR/MAHASISWA",
        "PENSIUNAN",
    )
    for job in ("PEGAWAI NEGERI SIPIL (PNS)", "PETANI/PEKEBUN", "WIRASWASTA", "LAINNYA"):
        assert job in jobs
    assert all(j == j.upper().strip() for j in jobs)


def test_pekerjaan_file_codes_are_1_to_89_in_order() -> None:
    doc = json.loads(resources.files("app.domain").joinpath("pekerjaan_v1.json").read_text())
    assert doc["version"] == "pekerjaan-v1"
    assert [item["code"] for item in doc["items"]] == list(range(1, 90))


def test_versions() -> None:
    assert codes.PEKERJAAN_VERSION in codes.pekerjaan_versions()
    with pytest.raises(codes.UnknownVersionError):
        codes.pekerjaan("pekerjaan-v0")
