"""``card check --operator U [--uid HEX] [--wait S] [--json]``: check a resident's e-KTP at
the centre (a card-check station, set up with ``ektp-server station add --verifier``).

The password of U is read from stdin (one line). Without ``--uid`` the command waits up to
``--wait`` seconds (default 30) for a card on the reader and reads its UID. The centre's
answer (whether a record is linked to the card, its fate, kecamatan and date of recording,
receipt number, name) is printed and never written to disk; the centre audits the lookup.
Exit 0 with an answer (linked or not), 1 when the centre or the reader cannot be reached, 2
for bad input or a refusal (a recording kit, a revoked station, a wrong password).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from app.commands.context import open_home, print_json, read_secret
from app.errors import BadInput
from app.service import card_check
from app.store.operators import MAX_PASSWORD_LEN

_FATE_TEXT = {
    "processed": "processed",
    "duplicate": "duplicate (another record holds the NIK)",
    "rerecord": "to be recorded again",
    "rejected": "rejected",
    "not_processed": "re-recorded, not yet processed",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "card",
        help="check a resident's e-KTP at the centre (card-check stations)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmds = p.add_subparsers(dest="card_command", required=True, metavar="ACTION")
    chk = cmds.add_parser("check", help="whose record is this card? (password on stdin)")
    chk.add_argument("--operator", required=True, metavar="U", help="who checks the card")
    chk.add_argument("--uid", help="the card's UID in hex, instead of reading the reader")
    chk.add_argument(
        "--wait", type=float, default=30.0, metavar="S", help="seconds to wait for a card"
    )
    chk.add_argument("--json", action="store_true", help="one JSON document on stdout")
    chk.set_defaults(func=run_check)


def _print(result: card_check.CardCheck) -> None:
    if result.card_status != "active":
        print(f"card {result.uid}: marked {result.card_status} by the office")
    if not result.found:
        print(f"card {result.uid}: no record is linked to this card")
        return
    where = result.kecamatan_nama or result.kecamatan
    print(f"card {result.uid}: {result.nama}")
    print(f"  fate: {_FATE_TEXT.get(str(result.fate), result.fate)}")
    print(f"  recorded: {result.recorded_at} in kecamatan {where}")
    print(f"  receipt number: {result.record_number}")


def run_check(args: argparse.Namespace) -> int:
    uid = card_check.check_uid(args.uid) if args.uid is not None else None
    if not (math.isfinite(args.wait) and 0 < args.wait <= 600):
        raise BadInput("wait", "seconds from 0 to 600")
    with open_home(args) as store:
        password = read_secret(f"Password of {args.operator}: ", MAX_PASSWORD_LEN)
        result = card_check.check_card(
            store,
            args.operator,
            password,
            uid=uid,
            read_uid=lambda: card_check.wait_for_card(args.wait),
        )
    if args.json:
        doc: dict[str, Any] = result.to_json()
        print_json(doc)
    else:
        _print(result)
    return 0
