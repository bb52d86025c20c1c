"""``export --to DIR``: every packet that still has its payload, as ``<uuid>.ektp`` files.

The work is :func:`app.service.records.export` (shared with the queue screen): files
written atomically and fsynced, a ``manifest.json``, idempotent, never overwriting. Once the
station has an operator, ``--by U`` and U's password on stdin (any role: the queue screen's
export is open to anyone signed in), and the audit names U, as the queue screen's does.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from app.commands.context import open_home, print_json
from app.commands.operator import allowed_by
from app.service.records import check_export_target, export
from app.store.models import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="copy sealed packets (any status) to a directory")
    p.add_argument("--to", required=True, metavar="DIR")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--by",
        metavar="U",
        help="the operator (any role) who takes the copies, once the station has one "
        "(password on stdin)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = Path(args.to)
    check_export_target(target)  # bad input: nothing is created
    with open_home(args) as store:
        result = export(store, target, actor=allowed_by(store, args, ROLES))
    if args.json:
        print_json(asdict(result))
    else:
        print(
            f"exported {result.written} packet(s) to {result.to} ({result.skipped} already there)"
        )
    return 0
