"""``ektp-server``: serve the API, and the admin commands of the central office.

Home: ``--home DIR`` before the subcommand, else EKTP_SERVER_HOME, else the platform data dir.
Database: ``--db URL`` (before the subcommand or on ``serve``), else EKTP_SERVER_DB, else the
URL the last ``serve --db`` remembered in the home, else the SQLite file in the home.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from app import packet as pkt
from app.paths import server_home
from server import (
    card_cli,
    db,
    keys_cli,
    kit_cli,
    office_cli,
    packets_cli,
    relay_cli,
    serve_cli,
    station_cli,
)
from server.blobs import BlobConfigError, BlobStoreError
from server.cluster_key import ClusterKeyError
from server.core import InputError, ServerCore, ServiceError, check_kecamatan
from server.coverage import CoverageInputError
from server.keys import KeyFileError
from server.schema import NewerSchemaError
from server.web import cli as web_cli
from server.web.accounts import AccountError

DB_ENV = "EKTP_SERVER_DB"

# Each family of commands: its parsers, its checks (no database) and its handler. The
# parsers are added in this order (``--help`` lists the commands so).
FAMILIES: tuple[Any, ...] = (
    serve_cli,
    keys_cli,
    station_cli,
    packets_cli,
    relay_cli,
    office_cli,
    kit_cli,
    card_cli,
    web_cli,
)


class UsageError(Exception):
    """Bad command-line input: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ektp-server", description="e-KTP central server (or kecamatan relay)")
    p.add_argument("--home", help="server data directory")
    p.add_argument("--db", help="database URL (sqlite:///... or postgresql://...)")
    p.add_argument(
        "--sealing-key",
        action="append",
        metavar="FILE",
        help="the cluster's sealing key (PEM); again for each earlier key kept after a "
        "rotation (default: EKTP_SEALING_KEY_FILE, EKTP_SEALING_KEY, the home's)",
    )
    p.add_argument(
        "--blobs",
        metavar="s3://BUCKET[/PREFIX]",
        help="keep packet bytes in this S3 bucket (endpoint, credentials: AWS_* variables); "
        "default EKTP_BLOBS, else what the database records, else the database itself",
    )
    sub = p.add_subparsers(dest="cmd", parser_class=_Parser)
    for family in FAMILIES:
        family.add_parsers(sub, _Parser)
    return p


def _db_url(args: argparse.Namespace, home: Path) -> str | None:
    url = getattr(args, "serve_db", None) or args.db or os.environ.get(DB_ENV)
    if url:
        return db.normalize_url(url)
    remembered = serve_cli.config(home).get("db")
    return str(remembered) if remembered else None


def _fail(message: str, code: int = 2) -> int:
    print(f"ektp-server: {message}", file=sys.stderr)
    return code


def _parse(argv: list[str]) -> argparse.Namespace:
    args = _parser().parse_args(argv)
    if args.cmd is None:  # no subcommand: serve on the defaults
        args = _parser().parse_args([*argv, "serve"])
    return args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from app.sync.tls import use_system_trust_store

    use_system_trust_store()  # a relay's https to its upstream checks the system's certificates
    try:
        args = _parse(argv)
    except UsageError as exc:
        return _fail(str(exc))
    home = server_home(args.home)
    try:
        return _run(args, home)
    except (
        InputError,
        db.DatabaseURLError,
        UsageError,
        CoverageInputError,
        AccountError,
        ClusterKeyError,
        KeyFileError,
        BlobConfigError,
    ) as exc:
        return _fail(str(exc))
    except (BlobStoreError, NewerSchemaError, pkt.PacketError) as exc:
        return _fail(str(exc), 1)
    except ServiceError as exc:
        return _fail(exc.message, 1)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback: one line, and 1 (machine) or 70 (bug)
        code, message = _explain(exc)
        if os.environ.get("EKTP_DEBUG"):
            import traceback

            traceback.print_exc()
        return _fail(message, code)


def _run(args: argparse.Namespace, home: Path) -> int:
    url = _db_url(args, home)
    _validate(args, home)
    if args.cmd == "serve":
        return serve_cli.run(args, home, url)
    if args.cmd == "keys" and args.keys_cmd == "new":
        return keys_cli.new_key(Path(args.file))
    handler = _handler(args.cmd)
    core = ServerCore(home, url, sealing_keys=args.sealing_key, blobs=serve_cli.blobs_url(args))
    try:
        return handler(args, core)
    finally:
        core.close()


def _handler(cmd: str) -> Callable[[argparse.Namespace, ServerCore], int]:
    for family in FAMILIES:
        if cmd in family.COMMANDS:
            run: Callable[[argparse.Namespace, ServerCore], int] = family.run
            return run
    raise UsageError(f"unknown command {cmd}")


def _explain(exc: BaseException) -> tuple[int, str]:
    """Exit code and one line for an error no command handled."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return 1, f"database: {type(exc.orig).__name__}: {first}"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return 1, f"{exc.strerror or exc}{where}"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return 70, f"internal error, please report it: {type(exc).__name__}: {first}"


def _validate(args: argparse.Namespace, home: Path) -> None:
    """Checks that need no database, so bad input writes nothing (not even a new home)."""
    if home.exists() and not home.is_dir():
        raise InputError(f"--home: {home} is not a directory")
    _check_out(getattr(args, "out", None))
    if getattr(args, "kecamatan", None) is not None:
        args.kecamatan = check_kecamatan(args.kecamatan)
    if getattr(args, "since", None) is not None:
        station_cli.parse_since(args.since)
    station_cli.validate(args)
    packets_cli.validate(args)
    serve_cli.validate(args)
    hours = getattr(args, "expires_hours", None)
    if hours is not None and not (math.isfinite(hours) and hours > 0):
        raise InputError("--expires-hours: must be positive")
    upstream = getattr(args, "upstream", None)
    if upstream is not None and not upstream.startswith(("http://", "https://")):
        raise InputError(f"--upstream: expected an http(s) URL, got {upstream!r}")
    office_cli.validate(args, home)
    kit_cli.validate(args)
    web_cli.validate(args)


def _check_out(out: str | None) -> None:
    if out is not None and Path(out).exists():
        if not Path(out).is_dir():
            raise InputError(f"--out: {out} is not a directory")
        mode = Path(out).stat().st_mode & 0o777
        if mode & 0o077:
            # Decrypted personal data: never into a folder other users can read.
            raise InputError(
                f"--out: {out} can be read by other users (mode {mode:04o}): give a new "
                "folder (it is made 0700) or `chmod 700` this one"
            )
