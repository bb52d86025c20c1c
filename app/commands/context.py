"""What every subcommand needs: the home, the store, input files, and errors for bad input."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from app.errors import BadInput
from app.paths import station_home
from app.store.db import DB_NAME, Store, open_store
from app.store.errors import NotInitialized


def home_of(args: argparse.Namespace) -> Path:
    """The station home; BadInput("home") when it names something that is not a folder."""
    home = station_home(getattr(args, "home", None))
    if home.exists() and not home.is_dir():
        raise BadInput("home", f"{home} is not a directory")
    return home


def open_home(args: argparse.Namespace, *, create: bool = False) -> Store:
    """Open the store under the home. Without ``create`` a missing database means the
    station was never set up (NotInitialized), and nothing is created."""
    home = home_of(args)
    if not create and not (home / DB_NAME).exists():
        raise NotInitialized(f"station is not initialized (no database under {home}): run `init`")
    return open_store(home)


def read_file(path: str, field: str, max_bytes: int) -> bytes:
    """A whole input file, or BadInput naming ``field`` (missing, unreadable, too big)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise BadInput(field, f"{path} is not a file")
        if size > max_bytes:
            raise BadInput(
                field, f"{path} is {size // 1024} KB, more than the {max_bytes // 1024} KB allowed"
            )
        return p.read_bytes()
    except FileNotFoundError as exc:
        raise BadInput(field, f"{path} does not exist") from exc
    except PermissionError as exc:
        raise BadInput(field, f"{path} cannot be read (permission denied)") from exc
    except IsADirectoryError as exc:
        raise BadInput(field, f"{path} is a directory") from exc


MAX_JSON_DEPTH = 20
MAX_NUMBER_DIGITS = 30


class _Refused(Exception):
    """Raised inside the JSON parser's hooks; becomes a BadInput naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class _TooLong:
    """A number with too many digits, kept as a marker until its key is known."""


def _number(text: str) -> object:
    digits = sum(ch.isdigit() for ch in text)
    return _TooLong() if digits > MAX_NUMBER_DIGITS else None


def _float(text: str) -> object:
    value = _number(text) or float(text)
    return _TooLong() if value in (float("inf"), float("-inf")) else value


def _holds_too_long(value: Any) -> bool:
    if isinstance(value, list):
        return any(_holds_too_long(v) for v in value)
    return isinstance(value, _TooLong)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(key, "appears more than once (which one is meant?)")
        if _holds_too_long(value):
            raise _Refused(key, f"holds a number of more than {MAX_NUMBER_DIGITS} digits")
        out[key] = value
    return out


def _depth(text: str) -> int:
    """How deep arrays and objects nest (outside strings), without parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _constant(name: str) -> Any:
    raise _Refused("value", f"{name} is not a number JSON allows")


def read_json_object(path: str, field: str, max_bytes: int = 64 * 1024) -> dict[str, Any]:
    """A JSON object from a file, strictly: a key twice, a number of more than 30 digits,
    NaN/Infinity, or nesting deeper than 20 are refused naming the key (or ``field``)."""
    raw = read_file(path, field, max_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(field, f"{path} is not UTF-8 text") from exc
    if _depth(text) > MAX_JSON_DEPTH:
        raise BadInput(field, f"{path} nests more than {MAX_JSON_DEPTH} levels deep")
    try:
        data = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=lambda t: _number(t) or int(t),
            parse_float=_float,
            parse_constant=_constant,
        )
    except _Refused as exc:
        raise BadInput(exc.field, exc.message) from exc
    except json.JSONDecodeError as exc:
        raise BadInput(field, f"{path} is not valid JSON (line {exc.lineno})") from exc
    except (ValueError, RecursionError) as exc:  # the parser's own limits, should ours miss
        raise BadInput(field, f"{path} cannot be read as JSON ({exc})") from exc
    if _holds_too_long(data):
        raise BadInput(field, f"holds a number of more than {MAX_NUMBER_DIGITS} digits")
    if not isinstance(data, dict):
        raise BadInput(field, f"{path} must hold a JSON object")
    return data


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n")
    sys.stdout.flush()


def read_secret(prompt: str, max_len: int = 1024) -> str:
    """One password line from stdin, without the line end. A script pipes it; at a
    terminal it is asked for with ``prompt`` and not echoed (it would stay on the screen
    and in the scrollback)."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline(max_len + 2).rstrip("\r\n")
