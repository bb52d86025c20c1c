"""The biodata printed on an e-KTP, and its validation with field-level issues.

``validate_biodata`` turns untrusted input (CLI JSON, UI form) into a ``Biodata`` or a list of
errors. Each issue names its field, has a machine code and an English message that starts
with the field name, so a CLI can print it as one line. Things an operator cannot or must not
fix (a NIK keeps the region and date of first registration) are warnings, not errors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from app.domain import codes, regions
from app.domain.nik import NikError, NikInfo, normalize_nik, parse_nik

FIELDS: tuple[str, ...] = (
    "nik",
    "nama",
    "tempat_lahir",
    "tanggal_lahir",
    "jenis_kelamin",
    "golongan_darah",
    "alamat",
    "rt",
    "rw",
    "kode_wilayah",
    "agama",
    "status_perkawinan",
    "pekerjaan",
    "kewarganegaraan",
    "no_kk",
)
OPTIONAL_FIELDS: frozenset[str] = frozenset({"no_kk"})

WAJIB_KTP_AGE = 17
FLAG_USIA_16 = "usia_16"
_MAX_AGE = 130

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RT_RW = re.compile(r"[0-9]{1,3}")
_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")


class FieldIssue(NamedTuple):
    field: str
    code: str  # machine-readable, e.g. "required", "day", "nik_sex_mismatch"
    message: str  # English, starts with the field name


@dataclass(frozen=True, slots=True)
class Biodata:
    nik: str
    nama: str
    tempat_lahir: str
    tanggal_lahir: date
    jenis_kelamin: str
    golongan_darah: str
    alamat: str
    rt: str
    rw: str
    kode_wilayah: str  # desa/kelurahan, dotted: "36.03.32.2001"
    agama: str
    status_perkawinan: str
    pekerjaan: str
    kewarganegaraan: str
    no_kk: str | None = None

    def to_dict(self) -> dict[str, str]:
        """JSON-ready, field names as on the card; ``no_kk`` left out when absent."""
        out: dict[str, str] = {}
        for name in FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = value.isoformat() if isinstance(value, date) else value
        return out


@dataclass(frozen=True)
class Validation:
    biodata: Biodata | None  # None when there are errors
    errors: list[FieldIssue] = field(default_factory=list)
    warnings: list[FieldIssue] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Checker:
    """Collects normalised values and issues for one validation run."""

    def __init__(self, raw: Mapping[str, Any], today: date) -> None:
        self.raw = raw
        self.today = today
        self.values: dict[str, Any] = {}
        self.errors: list[FieldIssue] = []
        self.warnings: list[FieldIssue] = []
        self.flags: list[str] = []

    def error(self, name: str, code: str, message: str) -> None:
        self.errors.append(FieldIssue(name, code, f"{name}: {message}"))

    def warn(self, name: str, code: str, message: str) -> None:
        self.warnings.append(FieldIssue(name, code, f"{name}: {message}"))

    def text(self, name: str) -> str | None:
        """The field as stripped text with single spaces, or None after recording an error."""
        if name not in self.raw or self.raw[name] is None:
            self.error(name, "required", "is required")
            return None
        value = self.raw[name]
        if not isinstance(value, str):
            self.error(name, "type", f"must be text, not {type(value).__name__}")
            return None
        # NFKC: a name typed or pasted as decomposed accents (NFD) or full-width letters is
        # the same name as its plain composed form, and is stored (and later searched) as that.
        value = " ".join(unicodedata.normalize("NFKC", value).split())
        if not value:
            self.error(name, "required", "is empty")
            return None
        return value

    def choice(self, name: str, allowed: tuple[str, ...], described: str | None = None) -> None:
        value = self.text(name)
        if value is None:
            return
        upper = value.upper()
        if upper not in allowed:
            self.error(
                name,
                "not_in_list",
                f"{value!r} is not {described or 'one of: ' + ', '.join(allowed)}",
            )
            return
        self.values[name] = upper

    def letters(self, name: str, extra: str, min_len: int, max_len: int) -> None:
        """Uppercased text of letters plus ``extra`` punctuation, starting with a letter."""
        value = self.text(name)
        if value is None:
            return
        value = value.upper()
        bad = sorted({ch for ch in value if not (ch.isalpha() or ch in extra)})
        # Latin letters only, as printed on the card: a Cyrillic or Greek look-alike ("А",
        # "О") makes another name that reads the same and is searched for in vain.
        foreign = sorted({ch for ch in value if ch.isalpha() and not _latin(ch)})
        if foreign:
            self.error(
                name,
                "characters",
                "must be written in Latin letters; found "
                + ", ".join(f"{unicodedata.name(ch, '?')} {ch!r}" for ch in foreign),
            )
        elif bad:
            allowed = " ".join(repr(c) for c in extra if c != " ")
            self.error(
                name,
                "characters",
                f"may hold only letters, spaces and {allowed}; found {''.join(bad)!r}",
            )
        elif not value[0].isalpha():
            self.error(name, "characters", "must begin with a letter")
        elif not min_len <= len(value) <= max_len:
            self.error(name, "length", f"must be {min_len}-{max_len} characters, got {len(value)}")
        else:
            self.values[name] = value


def _latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN ")


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _check_nik(c: _Checker) -> NikInfo | None:
    value = c.text("nik")
    if value is None:
        return None
    try:
        info = parse_nik(value, today=c.today)
    except NikError as exc:
        c.error("nik", exc.code, exc.message)
        return None
    c.values["nik"] = info.nik
    return info


def _check_tanggal_lahir(c: _Checker) -> None:
    name = "tanggal_lahir"
    value = c.raw.get(name)
    if isinstance(value, date) and not isinstance(value, datetime):
        born: date = value
    else:
        text = c.text(name)
        if text is None:
            return
        if not _ISO_DATE.fullmatch(text):
            c.error(name, "format", f"{text!r} is not a date in the form YYYY-MM-DD")
            return
        try:
            born = date.fromisoformat(text)
        except ValueError:
            c.error(name, "date", f"{text} is not a real calendar date")
            return
    if born > c.today:
        c.error(name, "future", f"{born.isoformat()} is in the future")
    elif _age(born, c.today) > _MAX_AGE:
        c.error(name, "too_old", f"{born.isoformat()} is more than {_MAX_AGE} years ago")
    else:
        c.values[name] = born


def _check_rt_rw(c: _Checker, name: str) -> None:
    value = c.raw.get(name)
    # A bare number ("rt": 3) is a common way to type it; bool is an int but not a number here.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else c.text(name)
    if text is None:
        return
    if not _RT_RW.fullmatch(text) or int(text) == 0:
        c.error(name, "format", f"{text!r} is not a number from 001 to 999")
        return
    c.values[name] = f"{int(text):03d}"


def _check_kode_wilayah(c: _Checker) -> None:
    name = "kode_wilayah"
    text = c.text(name)
    if text is None:
        return
    code = regions.normalize_code(text)
    if code is None or code.count(".") != 3:
        c.error(
            name,
            "format",
            f"{text!r} is not a desa/kelurahan code like 36.03.32.2001 or 3603322001",
        )
        return
    if regions.get(code) is None:
        c.error(name, "unknown_region", f"{code} is not a desa/kelurahan in the Kemendagri list")
        return
    c.values[name] = code


def _check_no_kk(c: _Checker) -> None:
    name = "no_kk"
    value = c.raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        c.values[name] = None
        return
    if not isinstance(value, str):
        c.error(name, "type", f"must be text, not {type(value).__name__}")
        return
    digits = normalize_nik(value.strip())
    if not _SIXTEEN_DIGITS.fullmatch(digits):
        c.error(name, "format", "must be 16 digits")
        return
    c.values[name] = digits


def _cross_checks(c: _Checker, info: NikInfo | None) -> None:
    born: date | None = c.values.get("tanggal_lahir")
    sex: str | None = c.values.get("jenis_kelamin")
    status: str | None = c.values.get("status_perkawinan")
    if info is not None:
        if regions.get(info.district) is None:
            c.warn(
                "nik",
                "nik_region_unknown",
                f"region code {info.district} (digits 1-6) is not a current kecamatan; "
                "kept, as a NIK keeps the code of its first registration",
            )
        nik_date = info.birth_date
        if born is not None and (nik_date.day, nik_date.month, nik_date.year % 100) != (
            born.day,
            born.month,
            born.year % 100,
        ):
            c.warn(
                "nik",
                "nik_birth_date_mismatch",
                f"encodes birth date {nik_date:%d-%m-%y} but tanggal_lahir is {born:%d-%m-%Y}",
            )
        if sex is not None and info.sex != sex:
            c.warn("nik", "nik_sex_mismatch", f"encodes {info.sex} but jenis_kelamin is {sex}")
    if born is not None and status is not None and status == "BELUM KAWIN":
        age = _age(born, c.today)
        if age == WAJIB_KTP_AGE - 1:
            c.flags.append(FLAG_USIA_16)
            c.warn(
                "tanggal_lahir",
                FLAG_USIA_16,
                f"age 16 and not married: recorded now, card due at {WAJIB_KTP_AGE}",
            )
        elif age < WAJIB_KTP_AGE - 1:
            c.error(
                "tanggal_lahir",
                "under_age",
                f"age {age} and not married: e-KTP is for age {WAJIB_KTP_AGE}+ or married "
                "(16-year-olds may be recorded)",
            )


def validate_biodata(
    raw: Mapping[str, Any],
    today: date | None = None,
    *,
    pekerjaan_version: str = codes.PEKERJAAN_VERSION,
) -> Validation:
    """Check and normalise one person's biodata; never raises for bad input.

    ``today`` (default: the real today) is the reference for ages and future dates;
    ``pekerjaan_version`` selects the occupation list (older records keep theirs).
    """
    c = _Checker(raw if isinstance(raw, Mapping) else {}, today or date.today())
    if not isinstance(raw, Mapping):
        c.error("biodata", "type", f"must be an object of fields, not {type(raw).__name__}")
        return Validation(None, c.errors)
    for unknown in sorted(str(k) for k in raw if k not in FIELDS):
        c.error(unknown, "unknown_field", "is not a biodata field (check the spelling)")

    info = _check_nik(c)
    c.letters("nama", " .,'-", 2, 100)
    c.letters("tempat_lahir", " .,'-/()", 2, 60)
    _check_tanggal_lahir(c)
    c.choice("jenis_kelamin", codes.JENIS_KELAMIN)
    c.choice("golongan_darah", codes.GOLONGAN_DARAH)
    alamat = c.text("alamat")
    if alamat is not None:
        if not alamat.isprintable():
            c.error("alamat", "characters", "holds control characters")
        elif len(alamat) > 100:
            c.error("alamat", "length", f"must be at most 100 characters, got {len(alamat)}")
        else:
            c.values["alamat"] = alamat.upper()
    _check_rt_rw(c, "rt")
    _check_rt_rw(c, "rw")
    _check_kode_wilayah(c)
    c.choice("agama", codes.AGAMA)
    c.choice("status_perkawinan", codes.STATUS_PERKAWINAN)
    try:
        occupations = codes.pekerjaan(pekerjaan_version)
    except codes.UnknownVersionError:
        c.error("pekerjaan", "unknown_version", f"list version {pekerjaan_version!r} is unknown")
    else:
        c.choice(
            "pekerjaan",
            occupations,
            f"in the pekerjaan list {pekerjaan_version} ({len(occupations)} occupations)",
        )
    c.choice("kewarganegaraan", codes.KEWARGANEGARAAN)
    _check_no_kk(c)
    _cross_checks(c, info)

    if c.errors:
        return Validation(None, c.errors, c.warnings, c.flags)
    return Validation(Biodata(**c.values), c.errors, c.warnings, c.flags)


def suggest_from_nik(nik: str, today: date | None = None) -> dict[str, str]:
    """What a NIK says, to prefill the form: empty when the NIK does not parse.

    Keys: ``tanggal_lahir`` (YYYY-MM-DD), ``jenis_kelamin``, ``kode_kecamatan`` and, when
    that kecamatan exists, ``kecamatan``, ``kabupaten``, ``provinsi`` (names).
    """
    try:
        info = parse_nik(nik, today=today)
    except NikError:
        return {}
    out = {
        "tanggal_lahir": info.birth_date.isoformat(),
        "jenis_kelamin": info.sex,
        "kode_kecamatan": info.district,
    }
    kecamatan = regions.get(info.district)
    kabupaten = regions.get(info.regency)
    provinsi = regions.get(info.province)
    if kecamatan is not None and kabupaten is not None and provinsi is not None:
        out.update(kecamatan=kecamatan.name, kabupaten=kabupaten.name, provinsi=provinsi.name)
    return out
