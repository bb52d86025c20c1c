"""NIK (Nomor Induk Kependudukan): the 16-digit national identity number.

Layout ``PPRRDD DDMMYY SSSS``: province, regency (kabupaten/kota) and district (kecamatan)
of first registration, birth date (day + 40 for women), and a serial within that
region and date. Only the 2-digit year is encoded, so the century is inferred.

This module checks the *format*; whether the region prefix exists and whether the
encoded date/sex agree with the typed biodata are warnings decided in ``biodata``,
because a NIK keeps the code of first registration and is never changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

LAKI_LAKI = "LAKI-LAKI"
PEREMPUAN = "PEREMPUAN"

_SEPARATORS = re.compile(r"[\s.\-]+")
_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")
_FEMALE_OFFSET = 40


class NikError(ValueError):
    """A NIK that is not well-formed. ``code`` is for machines, ``message`` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class NikInfo:
    nik: str  # the 16 digits, separators removed
    province: str  # "36"
    regency: str  # "36.03"
    district: str  # "36.03.32"
    birth_date: date
    sex: str  # LAKI_LAKI or PEREMPUAN
    serial: int  # 1..9999


def normalize_nik(text: str) -> str:
    """Remove the spaces, dots and dashes people type between groups of digits."""
    return _SEPARATORS.sub("", text)


def _birth_date(yy: int, month: int, day: int, today: date) -> date | None:
    """The most recent real date with these YY/MM/DD that is not after ``today``."""
    for century in (today.year // 100 * 100, today.year // 100 * 100 - 100):
        try:
            candidate = date(century + yy, month, day)
        except ValueError:
            continue  # 29 Feb in a non-leap year of this century
        if candidate <= today:
            return candidate
    return None


def parse_nik(text: str, today: date | None = None) -> NikInfo:
    """Parse and check a NIK; raise ``NikError`` naming the first thing wrong.

    ``today`` (default: the real today) decides the century of the 2-digit birth year.
    """
    if not isinstance(text, str):
        raise NikError("type", f"must be text, not {type(text).__name__}")
    digits = normalize_nik(text.strip())
    if not _SIXTEEN_DIGITS.fullmatch(digits):
        raise NikError(
            "format",
            f"must be 16 digits (spaces, dots and dashes allowed), got {len(digits)} characters"
            if digits.isascii() and digits.isdigit()
            else "must be 16 digits (spaces, dots and dashes allowed), found other characters",
        )
    pp, rr, dd = digits[0:2], digits[2:4], digits[4:6]
    day_code, mm, yy, serial = int(digits[6:8]), int(digits[8:10]), int(digits[10:12]), digits[12:]
    if pp == "00":
        raise NikError("province", "province code (digits 1-2) is 00")
    if rr == "00":
        raise NikError("regency", "regency code (digits 3-4) is 00")
    if dd == "00":
        raise NikError("district", "district code (digits 5-6) is 00")
    if 1 <= day_code <= 31:
        sex, day = LAKI_LAKI, day_code
    elif 41 <= day_code <= 71:
        sex, day = PEREMPUAN, day_code - _FEMALE_OFFSET
    else:
        raise NikError(
            "day",
            f"day of birth {digits[6:8]} is not 01-31 (male) or 41-71 (female)",
        )
    if not 1 <= mm <= 12:
        raise NikError("month", f"month of birth {digits[8:10]} is not 01-12")
    born = _birth_date(yy, mm, day, today or date.today())
    if born is None:
        raise NikError(
            "date",
            f"birth date {day:02d}-{mm:02d}-{yy:02d} (DD-MM-YY) is not a real past date",
        )
    if serial == "0000":
        raise NikError("serial", "serial number (digits 13-16) is 0000, must be 0001-9999")
    return NikInfo(
        nik=digits,
        province=pp,
        regency=f"{pp}.{rr}",
        district=f"{pp}.{rr}.{dd}",
        birth_date=born,
        sex=sex,
        serial=int(serial),
    )


def encode_nik(district: str, birth_date: date, sex: str, serial: int) -> str:
    """Build a NIK from its parts (the inverse of ``parse_nik``; for tests and tools)."""
    code = district.replace(".", "")
    if not re.fullmatch(r"[0-9]{6}", code):
        raise ValueError(f"district must be 6 digits like 36.03.32, got {district!r}")
    if sex not in (LAKI_LAKI, PEREMPUAN):
        raise ValueError(f"sex must be {LAKI_LAKI} or {PEREMPUAN}, got {sex!r}")
    if not 1 <= serial <= 9999:
        raise ValueError(f"serial must be 1-9999, got {serial}")
    day = birth_date.day + (_FEMALE_OFFSET if sex == PEREMPUAN else 0)
    return f"{code}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
