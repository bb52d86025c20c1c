"""NIK format: region codes, birth date with the female +40, century, serial."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.nik import LAKI_LAKI, PEREMPUAN, NikError, encode_nik, parse_nik
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN

TODAY = date(2026, 11, 23)


def nik_with(ddmmyy: str, serial: str = "0007", region: str = "360332") -> str:
    return f"{region}{ddmmyy}{serial}"


def error_code(text: str, today: date = TODAY) -> str:
    with pytest.raises(NikError) as info:
        parse_nik(text, today=today)
    return info.value.code


def test_residents_parse_to_their_biodata() -> None:
    budi = parse_nik(BUDI_LAKI["nik"], today=TODAY)
    assert budi.district == "36.03.32"
    assert budi.regency == "36.03"
    assert budi.province == "36"
    assert budi.birth_date.isoformat() == BUDI_LAKI["tanggal_lahir"]
    assert budi.sex == BUDI_LAKI["jenis_kelamin"] == LAKI_LAKI
    assert budi.serial == 7
    ratna = parse_nik(RATNA_PEREMPUAN["nik"], today=TODAY)
    assert ratna.district == "36.03.07"
    assert ratna.birth_date.isoformat() == RATNA_PEREMPUAN["tanggal_lahir"]
    assert ratna.sex == PEREMPUAN


@pytest.mark.parametrize(
    "typed",
    ["3603 3212 0890 0007", "36.03.32.120890.0007", "360332-120890-0007", " 3603321208900007\n"],
)
def test_separators_are_stripped(typed: str) -> None:
    assert parse_nik(typed, today=TODAY).nik == "3603321208900007"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("360332120890000", "format"),  # 15 digits
        ("36033212089000071", "format"),  # 17 digits
        ("36033212089O0007", "format"),  # letter O
        ("3603321208900007/", "format"),
        ("٣603321208900007", "format"),  # Arabic-Indic digit is not a NIK digit
        ("", "format"),
        ("0003321208900007", "province"),
        ("3600321208900007", "regency"),
        ("3603001208900007", "district"),
    ],
)
def test_malformed_nik_rejected(text: str, code: str) -> None:
    assert error_code(text) == code


def test_non_text_rejected() -> None:
    with pytest.raises(NikError) as info:
        parse_nik(3603321208900007, today=TODAY)  # type: ignore[arg-type]
    assert info.value.code == "type"


@pytest.mark.parametrize(("dd", "day", "sex"), [("01", 1, LAKI_LAKI), ("31", 31, LAKI_LAKI)])
def test_male_days(dd: str, day: int, sex: str) -> None:
    info = parse_nik(nik_with(f"{dd}0190"), today=TODAY)
    assert (info.birth_date.day, info.sex) == (day, sex)


@pytest.mark.parametrize(("dd", "day"), [("41", 1), ("63", 23), ("71", 31)])
def test_female_days_are_plus_40(dd: str, day: int) -> None:
    info = parse_nik(nik_with(f"{dd}0190"), today=TODAY)
    assert info.birth_date == date(1990, 1, day)
    assert info.sex == PEREMPUAN


@pytest.mark.parametrize("dd", ["00", "32", "39", "40", "72", "99"])
def test_day_outside_both_ranges_rejected(dd: str) -> None:
    with pytest.raises(NikError) as info:
        parse_nik(nik_with(f"{dd}0190"), today=TODAY)
    assert info.value.code == "day"
    assert info.value.message == f"day of birth {dd} is not 01-31 (male) or 41-71 (female)"


@pytest.mark.parametrize("mm", ["00", "13", "99"])
def test_month_out_of_range_rejected(mm: str) -> None:
    assert error_code(nik_with(f"01{mm}90")) == "month"


def test_leap_years() -> None:
    assert parse_nik(nik_with("290200"), today=TODAY).birth_date == date(2000, 2, 29)
    assert parse_nik(nik_with("290224"), today=TODAY).birth_date == date(2024, 2, 29)
    assert parse_nik(nik_with("690296"), today=TODAY).birth_date == date(1996, 2, 29)
    # 2023 and 1923 are not leap years.
    assert error_code(nik_with("290223")) == "date"
    # Before 2000 existed, "00" can only mean 1900, which was not a leap year.
    assert error_code(nik_with("290200"), today=date(1999, 12, 31)) == "date"
    assert error_code(nik_with("310490")) == "date"  # 31 April
    assert error_code(nik_with("300290")) == "date"


def test_century_is_the_most_recent_past_one() -> None:
    assert parse_nik(nik_with("010126"), today=TODAY).birth_date == date(2026, 1, 1)
    assert parse_nik(nik_with("231126"), today=TODAY).birth_date == date(2026, 11, 23)
    # 24 Nov 2026 is tomorrow: the same digits mean 1926.
    assert parse_nik(nik_with("241126"), today=TODAY).birth_date == date(1926, 11, 24)
    assert parse_nik(nik_with("010127"), today=TODAY).birth_date == date(1927, 1, 1)
    assert parse_nik(nik_with("010199"), today=TODAY).birth_date == date(1999, 1, 1)


def test_serial_range() -> None:
    assert error_code(nik_with("120890", serial="0000")) == "serial"
    assert parse_nik(nik_with("120890", serial="0001"), today=TODAY).serial == 1
    assert parse_nik(nik_with("120890", serial="9999"), today=TODAY).serial == 9999


def test_today_defaults_to_the_real_date() -> None:
    # Born yesterday in this century: a default "today" must not push it back 100 years.
    yesterday = date.today() - timedelta(days=1)
    text = encode_nik("36.03.32", yesterday, LAKI_LAKI, 1)
    assert parse_nik(text).birth_date == yesterday


districts = st.sampled_from(["36.03.32", "36.03.07", "11.01.01", "94.71.02", "99.99.99"])
# Every date in the last 100 years up to today can be told apart by its 2-digit year.
recent_dates = st.dates(min_value=date(1926, 11, 24), max_value=TODAY)


@given(districts, recent_dates, st.sampled_from([LAKI_LAKI, PEREMPUAN]), st.integers(1, 9999))
def test_any_valid_date_round_trips(district: str, born: date, sex: str, serial: int) -> None:
    text = encode_nik(district, born, sex, serial)
    info = parse_nik(text, today=TODAY)
    assert (info.nik, info.district, info.birth_date, info.sex, info.serial) == (
        text,
        district,
        born,
        sex,
        serial,
    )


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_any_16_digits_parse_consistently_or_raise_nik_error(text: str) -> None:
    try:
        info = parse_nik(text, today=TODAY)
    except NikError as exc:
        assert exc.code in {"province", "regency", "district", "day", "month", "date", "serial"}
        assert exc.message
        return
    assert encode_nik(info.district, info.birth_date, info.sex, info.serial) == text
    assert info.birth_date <= TODAY


def test_encode_rejects_bad_parts() -> None:
    with pytest.raises(ValueError):
        encode_nik("36.03", date(1990, 1, 1), LAKI_LAKI, 1)
    with pytest.raises(ValueError):
        encode_nik("36.03.32", date(1990, 1, 1), "L", 1)
    with pytest.raises(ValueError):
        encode_nik("36.03.32", date(1990, 1, 1), LAKI_LAKI, 0)
