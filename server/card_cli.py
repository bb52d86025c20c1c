"""``ektp-server card`` (issue 19): the office marks a card lost or replaced, reads the
card checks the kelurahan stations made, and links records processed before revision 0019
to their card (``backfill``). The work is in server/cards.py."""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from app.cards import MARKS
from server import cards
from server.core import ServerCore

COMMANDS = ("card",)


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    cd = sub.add_parser("card", help="e-KTP cards: mark one lost or replaced, the checks made")
    csub = cd.add_subparsers(dest="card_cmd", parser_class=parser_class, required=True)
    mk = csub.add_parser("mark", help="mark a card lost or replaced (clear: remove the mark)")
    mk.add_argument("uid", metavar="UID", help="the card's UID, hex")
    mk.add_argument("status", metavar="STATUS", help="lost | replaced | clear")
    mk.add_argument("--by", help="who marks it (default: the login name)")
    mk.add_argument("--json", action="store_true")
    lk = csub.add_parser("lookups", help="the card checks made (audited), newest first")
    lk.add_argument("--station", metavar="ID", help="only this station's")
    lk.add_argument("--uid", help="only this card's")
    lk.add_argument("--limit", type=int, default=200)
    lk.add_argument("--json", action="store_true")
    bf = csub.add_parser(
        "backfill",
        help="link records processed before the card links (revision 0019) to their card, "
        "from the packets held (opens them with the sealing key)",
    )
    bf.add_argument("--json", action="store_true")


def validate(args: argparse.Namespace) -> None:
    """Checks that need no database (bad input writes nothing)."""
    if args.cmd == "station" and args.station_cmd == "add" and args.verifier and args.relay:
        raise cards.InputError("--verifier: a relay cannot be a card-check station")
    if args.cmd != "card":
        return
    if args.card_cmd == "mark":
        cards.check_uid(args.uid, "UID")
        if args.status not in (*MARKS, "clear"):
            raise cards.InputError(
                f"STATUS: one of {', '.join((*MARKS, 'clear'))}, got {args.status!r}"
            )
    elif args.uid is not None:
        cards.check_uid(args.uid, "--uid")
    if args.card_cmd == "lookups" and not 1 <= args.limit <= 10000:
        raise cards.InputError("--limit: a whole number from 1 to 10000")


def run(args: argparse.Namespace, core: ServerCore) -> int:
    if args.card_cmd == "mark":
        done = cards.mark(core.engine, args.uid, args.status, args.by or getpass.getuser())
        if args.json:
            print(json.dumps(done, indent=2))
        else:
            print(f"card {done['uid']}: {done['card_status']}")
        return 0
    if args.card_cmd == "backfill":
        done = cards.backfill(core)
        if args.json:
            print(json.dumps(done, indent=2))
        else:
            print(
                f"{done['linked']} record(s) linked to their card; {done['scanned']} without a "
                f"link opened, {done['without_card']} recorded without a card, "
                f"{done['unreadable']} packet(s) not opened"
            )
            for line in done["unreadable_first"]:
                print(f"  not opened: {line}")
        return 1 if done["unreadable"] else 0
    found = cards.lookups(core.engine, args.station, args.uid, args.limit)
    if args.json:
        print(json.dumps({"count": len(found), "lookups": found}, indent=2))
    else:
        for f in found:
            print(f"{f['at']}  {f['station_id']}  {f['operator']}  {f['detail']}")
    return 0
