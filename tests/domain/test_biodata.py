"""Biodata validation: normalisation, field errors, NIK warnings, wajib KTP."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import codes
from app.domain.biodata import FIELDS, Biodata, FieldIssue, suggest_from_nik, validate_biodata
from app.domain.nik import LAKI_LAKI, PEREMPUAN, encode_nik
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN, resident

TODAY = date(2026, 11, 23)


def check(raw: dict[str, Any], today: date = TODAY) -> tuple[Biodata | None, list[FieldIssue]]:
    v = validate_biodata(raw, today=today)
    assert v.ok == (not v.errors) == (v.biodata is not None)
    return v.biodata, v.errors


def only_error(raw: dict[str, Any], today: date = TODAY) -> FieldIssue:
    v = validate_biodata(raw, today=today)
    assert v.biodata is None
    assert len(v.errors) == 1, v.errors
    return v.errors[0]


@pytest.mark.parametrize("person", [BUDI_LAKI, RATNA_PEREMPUAN])
def test_residents_are_valid_and_consistent(person: dict[str, Any]) -> None:
    v = validate_biodata(person, today=TODAY)
    assert v.ok and v.errors == [] and v.warnings == [] and v.flags == []
    assert v.biodata is not None
    assert v.biodata.to_dict() == person  # already in normal form


def test_to_dict_is_json_ready() -> None:
    v = validate_biodata(BUDI_LAKI, today=TODAY)
    assert v.biodata is not None
    assert v.biodata.tanggal_lahir == date(1990, 8, 12)
    out = v.biodata.to_dict()
    assert out["tanggal_lahir"] == "1990-08-12"
    assert all(isinstance(value, str) for value in out.values())
    assert "no_kk" not in validate_biodata(RATNA_PEREMPUAN, today=TODAY).biodata.to_dict()  # type: ignore[union-attr]


def test_biodata_is_frozen() -> None:
    biodata = validate_biodata(BUDI_LAKI, today=TODAY).biodata
    with pytest.raises(AttributeError):
        biodata.nama = "X"  # type: ignore[misc,union-attr]


def test_normalisation() -> None:
    raw = resident(
        nik=" 3603-3212-0890-0007 ",
        nama="  budi   santoso wirahadi ",
        tempat_lahir="tangerang",
        jenis_kelamin="laki-laki",
        golongan_darah="o",
        alamat="jl. raya kresek  no. 17",
        rt="3",
        rw=5,
        kode_wilayah="3603322001",
        agama="Islam",
        status_perkawinan="kawin",
        pekerjaan="petani/pekebun",
        kewarganegaraan="wni",
        no_kk="3603 3210 0115 0003",
    )
    biodata, errors = check(raw)
    assert errors == []
    assert biodata is not None and biodata.to_dict() == BUDI_LAKI


def test_tanggal_lahir_accepts_a_date_object() -> None:
    biodata, errors = check(resident(tanggal_lahir=date(1990, 8, 12)))
    assert errors == [] and biodata is not None and biodata.tanggal_lahir == date(1990, 8, 12)


@pytest.mark.parametrize("name", [f for f in FIELDS if f != "no_kk"])
def test_every_required_field(name: str) -> None:
    raw = resident()
    del raw[name]
    issue = only_error(raw)
    assert (issue.field, issue.code, issue.message) == (name, "required", f"{name}: is required")
    assert only_error(resident(**{name: None})).code == "required"
    assert only_error(resident(**{name: "   "})).code == "required"


@pytest.mark.parametrize("name", [f for f in FIELDS if f not in ("rt", "rw")])
def test_wrong_type_is_an_error(name: str) -> None:
    issue = only_error(resident(**{name: ["x"]}))
    assert (issue.field, issue.code) == (name, "type")
    assert issue.message.startswith(f"{name}: must be text")


def test_bool_is_not_a_number_for_rt() -> None:
    assert only_error(resident(rt=True)).code == "type"


def test_unknown_field_is_an_error_not_dropped() -> None:
    issue = only_error(resident(tempat_lahr="SERANG"))
    assert (issue.field, issue.code) == ("tempat_lahr", "unknown_field")
    assert issue.message.startswith("tempat_lahr: ")


def test_not_a_mapping() -> None:
    v = validate_biodata(["nik"], today=TODAY)  # type: ignore[arg-type]
    assert not v.ok and v.errors[0].code == "type"


def test_several_errors_reported_together() -> None:
    v = validate_biodata(resident(rt="0", agama="JEDI", pekerjaan="ASTRONOT"), today=TODAY)
    assert [(e.field, e.code) for e in v.errors] == [
        ("rt", "format"),
        ("agama", "not_in_list"),
        ("pekerjaan", "not_in_list"),
    ]


def test_nik_errors_carry_the_nik_parser_code_and_name_the_field() -> None:
    issue = only_error(resident(nik="3603323208900007"))
    assert issue == FieldIssue(
        "nik", "day", "nik: day of birth 32 is not 01-31 (male) or 41-71 (female)"
    )
    assert only_error(resident(nik="3603321208900000")).code == "serial"
    assert only_error(resident(nik="360332120890007")).code == "format"


@pytest.mark.parametrize(
    ("nama", "ok"),
    [
        ("SITI NUR'AINI", True),
        ("DRS. H. ABDUL-RAHMAN, S.H.", True),
        ("YO", True),
        ("Ö", False),  # too short
        ("A" * 100, True),
        ("A" * 101, False),
        ("BUDI 2", False),
        ("BUDI_SANTOSO", False),
        ("-BUDI", False),
        ("BUDI@HOME", False),
    ],
)
def test_nama_rules(nama: str, ok: bool) -> None:
    biodata, errors = check(resident(nama=nama))
    assert (biodata is not None) == ok
    if not ok:
        assert [e.field for e in errors] == ["nama"]
        assert errors[0].message.startswith("nama: ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", "001"), ("07", "007"), ("999", "999"), (12, "012"), (" 5 ", "005")],
)
def test_rt_rw_padded_to_three_digits(value: Any, expected: str) -> None:
    biodata, errors = check(resident(rt=value, rw=value))
    assert errors == [] and biodata is not None
    assert (biodata.rt, biodata.rw) == (expected, expected)


@pytest.mark.parametrize("value", ["0", "000", "1000", "-1", "1A", "0 1", 0, 1000])
def test_rt_rw_out_of_range(value: Any) -> None:
    issue = only_error(resident(rw=value))
    assert (issue.field, issue.code) == ("rw", "format")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1990-02-30", "date"),
        ("12-08-1990", "format"),
        ("1990/08/12", "format"),
        ("2026-11-24", "future"),
        ("1890-01-01", "too_old"),
    ],
)
def test_tanggal_lahir_errors(value: str, code: str) -> None:
    v = validate_biodata(resident(tanggal_lahir=value), today=TODAY)
    assert not v.ok
    assert ("tanggal_lahir", code) in [(e.field, e.code) for e in v.errors]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("36.03.32", "format"),  # a kecamatan, not a desa
        ("36.03.32.9999", "unknown_region"),
        ("36.03.32.20011", "format"),
        ("GUNUNG KALER", "format"),
    ],
)
def test_kode_wilayah_must_be_an_existing_desa(code: str, error: str) -> None:
    issue = only_error(resident(kode_wilayah=code))
    assert (issue.field, issue.code) == ("kode_wilayah", error)


def test_enumeration_values_listed_in_message() -> None:
    issue = only_error(resident(golongan_darah="C"))
    assert issue.message == (
        "golongan_darah: 'C' is not one of: A, B, AB, O, A+, A-, B+, B-, AB+, AB-, O+, O-, "
        "TIDAK TAHU"
    )


@pytest.mark.parametrize("agama", codes.AGAMA)
def test_every_agama_accepted(agama: str) -> None:
    assert check(resident(agama=agama))[1] == []


def test_pekerjaan_version_selects_the_list() -> None:
    v = validate_biodata(BUDI_LAKI, today=TODAY, pekerjaan_version="pekerjaan-v9")
    assert [(e.field, e.code) for e in v.errors] == [("pekerjaan", "unknown_version")]


@pytest.mark.parametrize("value", ["1234", "36033210011500031", "3603321001150O03"])
def test_no_kk_must_be_16_digits(value: str) -> None:
    issue = only_error(resident(no_kk=value))
    assert (issue.field, issue.code) == ("no_kk", "format")


def test_no_kk_optional() -> None:
    for raw in (resident(no_kk=None), resident(no_kk=""), resident(RATNA_PEREMPUAN)):
        biodata, errors = check(raw)
        assert errors == [] and biodata is not None and biodata.no_kk is None


# --- NIK against the typed fields: warnings, never errors --------------------------------


def test_nik_sex_mismatch_is_a_warning() -> None:
    v = validate_biodata(resident(jenis_kelamin=PEREMPUAN), today=TODAY)
    assert v.ok and v.biodata is not None
    assert [(w.field, w.code) for w in v.warnings] == [("nik", "nik_sex_mismatch")]
    assert v.warnings[0].message == "nik: encodes LAKI-LAKI but jenis_kelamin is PEREMPUAN"


def test_nik_birth_date_mismatch_is_a_warning() -> None:
    v = validate_biodata(resident(tanggal_lahir="1990-08-13"), today=TODAY)
    assert v.ok
    assert [(w.field, w.code) for w in v.warnings] == [("nik", "nik_birth_date_mismatch")]


def test_centenarian_birth_date_matches_its_nik() -> None:
    # Born 1920: the NIK's "20" reads as 2020, yet day, month and YY agree: no warning.
    nik = encode_nik("36.03.32", date(1920, 5, 1), LAKI_LAKI, 3)
    v = validate_biodata(resident(nik=nik, tanggal_lahir="1920-05-01"), today=TODAY)
    assert v.ok and v.warnings == []


def test_nik_from_a_vanished_kecamatan_is_a_warning() -> None:
    # 36.03.99 is not a kecamatan today; the NIK keeps its first-registration code.
    v = validate_biodata(resident(nik="3603991208900007"), today=TODAY)
    assert v.ok
    assert [(w.field, w.code) for w in v.warnings] == [("nik", "nik_region_unknown")]


def test_nik_from_another_kecamatan_than_the_address_is_fine() -> None:
    # Moved from Kronjo to Gunung Kaler: the NIK is not changed.
    nik = encode_nik("36.03.07", date(1990, 8, 12), LAKI_LAKI, 7)
    v = validate_biodata(resident(nik=nik), today=TODAY)
    assert v.ok and v.warnings == []


# --- wajib KTP ---------------------------------------------------------------------------


def person_born(born: date, status: str) -> dict[str, Any]:
    return resident(
        nik=encode_nik("36.03.32", born, LAKI_LAKI, 1),
        tanggal_lahir=born.isoformat(),
        status_perkawinan=status,
        no_kk=None,
    )


def test_seventeen_unmarried_is_fine() -> None:
    v = validate_biodata(person_born(date(2009, 11, 23), "BELUM KAWIN"), today=TODAY)
    assert v.ok and v.flags == [] and v.warnings == []


def test_sixteen_unmarried_is_recorded_with_a_flag() -> None:
    v = validate_biodata(person_born(date(2009, 11, 24), "BELUM KAWIN"), today=TODAY)
    assert v.ok and v.biodata is not None
    assert v.flags == ["usia_16"]
    assert [(w.field, w.code) for w in v.warnings] == [("tanggal_lahir", "usia_16")]


def test_fifteen_unmarried_is_an_error() -> None:
    issue = only_error(person_born(date(2010, 11, 24), "BELUM KAWIN"))
    assert (issue.field, issue.code) == ("tanggal_lahir", "under_age")
    assert issue.message.startswith("tanggal_lahir: age 15 and not married")


@pytest.mark.parametrize("status", ["KAWIN", "CERAI HIDUP", "CERAI MATI"])
def test_married_young_person_is_wajib_ktp(status: str) -> None:
    v = validate_biodata(person_born(date(2011, 1, 1), status), today=TODAY)
    assert v.ok and v.flags == []


# --- properties ---------------------------------------------------------------------------

desa_codes = st.sampled_from(["36.03.32.2001", "36.03.07.2001", "36.03.32.2002", "11.01.01.2001"])


@st.composite
def valid_residents(draw: st.DrawFn) -> dict[str, Any]:
    born = draw(st.dates(min_value=date(1927, 1, 1), max_value=date(2009, 11, 23)))
    sex = draw(st.sampled_from(codes.JENIS_KELAMIN))
    desa = draw(desa_codes)
    words = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=12)
    return {
        "nik": encode_nik(desa[:8], born, sex, draw(st.integers(1, 9999))),
        "nama": " ".join(draw(st.lists(words, min_size=1, max_size=4))),
        "tempat_lahir": draw(words),
        "tanggal_lahir": born.isoformat(),
        "jenis_kelamin": sex,
        "golongan_darah": draw(st.sampled_from(codes.GOLONGAN_DARAH)),
        "alamat": "JL. " + draw(words),
        "rt": f"{draw(st.integers(1, 999)):03d}",
        "rw": f"{draw(st.integers(1, 999)):03d}",
        "kode_wilayah": desa,
        "agama": draw(st.sampled_from(codes.AGAMA)),
        "status_perkawinan": draw(st.sampled_from(codes.STATUS_PERKAWINAN)),
        "pekerjaan": draw(st.sampled_from(codes.PEKERJAAN)),
        "kewarganegaraan": draw(st.sampled_from(codes.KEWARGANEGARAAN)),
    }


@settings(max_examples=60, deadline=None)
@given(valid_residents())
def test_valid_residents_round_trip_through_to_dict(raw: dict[str, Any]) -> None:
    v = validate_biodata(raw, today=TODAY)
    assert v.errors == [] and v.warnings == [], (v.errors, v.warnings)
    assert v.biodata is not None and v.biodata.to_dict() == raw
    assert validate_biodata(v.biodata.to_dict(), today=TODAY).biodata == v.biodata


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.sampled_from([*FIELDS, "x"]), st.one_of(st.text(), st.integers(), st.none()))
)
def test_garbage_never_raises(raw: dict[str, Any]) -> None:
    v = validate_biodata(raw, today=TODAY)
    assert not v.ok
    assert all(issue.message.startswith(f"{issue.field}: ") for issue in v.errors)


# --- suggestions for the UI ---------------------------------------------------------------


def test_suggest_from_nik() -> None:
    assert suggest_from_nik(RATNA_PEREMPUAN["nik"], today=TODAY) == {
        "tanggal_lahir": "2000-02-23",
        "jenis_kelamin": PEREMPUAN,
        "kode_kecamatan": "36.03.07",
        "kecamatan": "Kronjo",
        "kabupaten": "Kabupaten Tangerang",
        "provinsi": "Banten",
    }


def test_suggest_from_nik_unknown_region_and_bad_nik() -> None:
    assert suggest_from_nik("3603991208900007", today=TODAY) == {
        "tanggal_lahir": "1990-08-12",
        "jenis_kelamin": LAKI_LAKI,
        "kode_kecamatan": "36.03.99",
    }
    assert suggest_from_nik("3603321208900000", today=TODAY) == {}
    assert suggest_from_nik("", today=TODAY) == {}


def test_decomposed_and_full_width_text_is_the_plain_name() -> None:
    # "JOSÉ" typed with a combining accent (NFD) and "ＢＵＤＩ" in full-width letters: the
    # same names as their plain forms (NFKC), not a refusal or a different stored name.
    import unicodedata

    biodata, errors = check(
        resident(
            nama=unicodedata.normalize("NFD", "JOSÉ MARÍA"),
            tempat_lahir="ＴＡＮＧＥＲＡＮＧ",
        )
    )
    assert errors == []
    assert biodata is not None
    assert biodata.nama == "JOSÉ MARÍA" and unicodedata.is_normalized("NFC", biodata.nama)
    assert biodata.tempat_lahir == "TANGERANG"
