"""``ektp-station``: the station's command line (``python -m app``).

Exit codes: 0 ok; 1 a machine fault (disk full, database locked, I/O, mirror, falling
behind) or an unhealthy ``doctor``; 2 bad input or a refused request (one line on stderr
naming the field, nothing written); 70 an internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from app import program_version
from app.errors import EXIT_BUG, EXIT_USAGE, funnel

# One list: every subcommand, each the module of that name in app/commands/ with its own
# register(). A command line that names one imports only that one: the others' imports
# (the sync machinery, the packet code, the server's URL checks) would cost every command
# half a second of start-up.
COMMANDS: list[str] = [
    "init",
    "provision",
    "operator",
    "enroll",
    "sync",
    "requeue",
    "status",
    "fates",
    "card",
    "export",
    "doctor",
    "settings",
    "assign",
    "demo",
]

# The commands that never talk to a server: they skip setting up the trust store (0.15 s).
OFFLINE_COMMANDS = frozenset(
    {"init", "operator", "enroll", "status", "export", "settings", "assign"}
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: scripts and technicians read the last line.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _Version(argparse.Action):
    """``--version``, reading the version only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=str(kwargs.get("help"))
        )

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        print(f"{parser.prog} {program_version()}")
        parser.exit()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; ``only``: with that subcommand alone (the one being run)."""
    parser = _Parser(prog="ektp-station", description="e-KTP enrollment station")
    parser.add_argument("--version", action=_Version, help="show the program's version and exit")
    parser.add_argument(
        "--home",
        metavar="DIR",
        help="station data directory (default: $EKTP_STATION_HOME, else the platform data dir)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in [only] if only else COMMANDS:
        importlib.import_module(f"app.commands.{name}").register(sub)
    return parser


def named_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` runs, when it names one of COMMANDS before any other option
    than ``--home`` (else None: the whole parser decides, help and errors included)."""
    args = iter(argv)
    for arg in args:
        if arg == "--home":
            next(args, None)
        elif not arg.startswith("--home="):
            return arg if arg in COMMANDS else None
    return None


def _fail(code: int, message: str) -> int:
    print(f"ektp-station: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = named_command(argv)
    if command not in OFFLINE_COMMANDS:
        from app.sync.tls import use_system_trust_store

        use_system_trust_store()  # https checks the system's certificates, not a frozen bundle
    parser = build_parser(command)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        if args.command is not None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        # No subcommand: the GUI, whose bad input (a --home that is a file) is reported here too.
        from app.commands.demo import run_station_gui

        func = run_station_gui
    try:
        return int(func(args))
    except Exception as exc:
        code, message = explain(exc)
        if code == EXIT_BUG:
            if os.environ.get("EKTP_DEBUG"):
                traceback.print_exc()
        return _fail(code, message)
    except KeyboardInterrupt:
        return _fail(130, "interrupted")


def explain(exc: BaseException) -> tuple[int, str]:
    """Exit code and one line for an error escaping a subcommand: the station's error
    vocabulary decides (app/errors.py), as it does for the GUI."""
    err = funnel(exc)
    return err.exit_code, err.line()


if __name__ == "__main__":
    raise SystemExit(main())
