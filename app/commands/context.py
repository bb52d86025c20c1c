"""What every subcommand needs: the home, the store, input files, and errors for bad input."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from app.paths import station_home
from app.store.db import DB_NAME, Store, open_store
from app.store.errors import NotInitialized


class UsageError(Exception):
    """Bad input: exit 2 with one line naming ``field``; nothing was written."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def home_of(args: argparse.Namespace) -> Path:
    """The station home; UsageError("home") when it names something that is not a folder."""
    home = station_home(getattr(args, "home", None))
    if home.exists() and not home.is_dir():
        raise UsageError("home", f"{home} is not a directory")
    return home


def open_home(args: argparse.Namespace, *, create: bool = False) -> Store:
    """Open the store under the home. Without ``create`` a missing database means the
    station was never set up (NotInitialized), and nothing is created."""
    home = home_of(args)
    if not create and not (home / DB_NAME).exists():
        raise NotInitialized(f"station is not initialized (no database under {home}): run `init`")
    return open_store(home)


def read_file(path: str, field: str, max_bytes: int) -> bytes:
    """A whole input file, or UsageError naming ``field`` (missing, unreadable, too big)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise UsageError(field, f"{path} is not a file")
        if size > max_bytes:
            raise UsageError(
                field, f"{path} is {size // 1024} KB, more than the {max_bytes // 1024} KB allowed"
            )
        return p.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(field, f"{path} does not exist") from exc
    except PermissionError as exc:
        raise UsageError(field, f"{path} cannot be read (permission denied)") from exc
    except IsADirectoryError as exc:
        raise UsageError(field, f"{path} is a directory") from exc


def read_json_object(path: str, field: str, max_bytes: int = 64 * 1024) -> dict[str, Any]:
    raw = read_file(path, field, max_bytes)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise UsageError(field, f"{path} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(field, f"{path} is not valid JSON (line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise UsageError(field, f"{path} must hold a JSON object")
    return data


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n")
    sys.stdout.flush()


def issue_line(issue: object) -> str:
    """``field: message`` for a FieldIssue; the domain's messages already start with the
    field name, so it is not repeated."""
    field = str(getattr(issue, "field", ""))
    message = str(getattr(issue, "message", issue))
    return message if message.startswith(field) else f"{field}: {message}"


def read_secret(prompt: str, max_len: int = 1024) -> str:
    """One password line from stdin, without the line end. A script pipes it; at a
    terminal it is asked for with ``prompt`` and not echoed (it would stay on the screen
    and in the scrollback)."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline(max_len + 2).rstrip("\r\n")
