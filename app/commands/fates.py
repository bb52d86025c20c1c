"""``fates [--json] [--needs-action]``: what the centre made of this station's records.

Each record's fate as the centre sent it back (``received``, then ``processed``,
``duplicate``, ``rerecord`` or ``rejected`` with a reason code), pulled after each sync and on
the pull interval. ``--needs-action``: only the records whose fate asks something of the
office (``rerecord``, ``rejected``) and that are neither re-recorded nor marked contacted yet;
the receipt number is the one the resident holds. Changes nothing; no personal data.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.commands.context import open_home, print_json
from app.fates import FATES
from app.store import fates as fate_store
from app.store.timeutil import iso


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fates",
        help="what the centre made of the records (fates pulled back)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument(
        "--needs-action",
        action="store_true",
        help="only records to re-record or rejected, not yet re-recorded nor contacted",
    )
    p.set_defaults(func=run)


def _entry(e: fate_store.FateEntryView) -> dict[str, Any]:
    return {
        "uuid": e.uuid,
        "receipt_number": e.number,
        "fate": e.fate,
        "reason": e.reason,
        "sealed_at": iso(e.sealed_at),
        "fate_at": None if e.fate_at is None else iso(e.fate_at),
        "duplicate_of": e.duplicate_of,
        "contacted_at": None if e.contacted_at is None else iso(e.contacted_at),
        "contacted_by": e.contacted_by,
        "rerecorded_by": e.rerecorded_by,
    }


def run(args: argparse.Namespace) -> int:
    with open_home(args) as store:
        if args.needs_action:
            entries = fate_store.needs_action(store, open_only=True)
        else:
            entries = fate_store.needs_action(store, fates=FATES)
        summary = fate_store.summary(store)
    records = [_entry(e) for e in entries]
    if args.json:
        print_json({"summary": summary, "records": records, "count": len(records)})
        return 0
    for e in records:
        reason = f" ({e['reason']})" if e["reason"] else ""
        print(f"{e['receipt_number']}  {e['sealed_at']}  {e['fate']}{reason}  {e['uuid']}")
    print(f"{len(entries)} record(s)")
    return 0
