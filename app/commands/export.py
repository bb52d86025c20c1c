"""``export --to DIR``: every packet that still has its payload, as ``<uuid>.ektp`` files.

The work is :func:`app.service.records.export` (shared with the queue screen): files
written atomically and fsynced, a ``manifest.json``, idempotent, never overwriting.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from app.commands.context import open_home, print_json
from app.service.records import check_export_target, export


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="copy sealed packets (any status) to a directory")
    p.add_argument("--to", required=True, metavar="DIR")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = Path(args.to)
    check_export_target(target)  # bad input: nothing is created
    with open_home(args) as store:
        result = export(store, target, actor="cli")
    if args.json:
        print_json(asdict(result))
    else:
        print(
            f"exported {result.written} packet(s) to {result.to} ({result.skipped} already there)"
        )
    return 0
