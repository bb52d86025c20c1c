"""``export --to DIR``: every packet that still has its payload, as ``<uuid>.ektp`` files.

The work is :func:`app.store.export.export_packets` (shared with the queue screen): files
written atomically and fsynced, a ``manifest.json``, idempotent, never overwriting.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from app.commands.context import UsageError, open_home, print_json
from app.store.export import ExportConflict, export_packets


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="copy sealed packets (any status) to a directory")
    p.add_argument("--to", required=True, metavar="DIR")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = Path(args.to)
    if target.exists() and not target.is_dir():
        raise UsageError("to", f"{target} is not a directory")
    if not target.exists() and not target.absolute().parent.is_dir():
        # The stick is not there (E:\ missing, /media/usb not mounted): bad input, nothing
        # is created (export_packets makes only the last folder).
        raise UsageError(
            "to", f"{target.absolute().parent} does not exist (is the drive plugged in?)"
        )
    with open_home(args) as store:
        try:
            result = export_packets(store, target)
        except ExportConflict as exc:
            raise UsageError("to", str(exc)) from exc
    if args.json:
        print_json(asdict(result))
    else:
        print(
            f"exported {result.written} packet(s) to {result.to} ({result.skipped} already there)"
        )
    return 0
