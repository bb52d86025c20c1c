"""``ektp-station``: the station's command line (``python -m app``).

Exit codes: 0 ok; 1 a machine fault (disk full, database locked, I/O, mirror, falling
behind) or an unhealthy ``doctor``; 2 bad input or a refused request (one line on stderr
naming the field, nothing written); 70 an internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from types import ModuleType
from typing import NoReturn

from app import __version__
from app.commands import (
    assign,
    card,
    demo,
    doctor,
    enroll,
    export,
    fates,
    init,
    operator,
    provision,
    requeue,
    settings,
    status,
    sync,
)
from app.errors import EXIT_BUG, EXIT_USAGE, funnel

# One list: every subcommand module is named here, each with its own register().
COMMANDS: list[ModuleType] = [
    init,
    provision,
    operator,
    enroll,
    sync,
    requeue,
    status,
    fates,
    card,
    export,
    doctor,
    settings,
    assign,
    demo,
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: scripts and technicians read the last line.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ektp-station", description="e-KTP enrollment station")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--home",
        metavar="DIR",
        help="station data directory (default: $EKTP_STATION_HOME, else the platform data dir)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def _fail(code: int, message: str) -> int:
    print(f"ektp-station: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    from app.sync.tls import use_system_trust_store

    use_system_trust_store()  # https checks the system's certificates, not a frozen bundle
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        if args.command is not None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        # No subcommand: the GUI, whose bad input (a --home that is a file) is reported here too.
        func = demo.run_station_gui
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
