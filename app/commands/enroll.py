"""``enroll --operator U --biodata FILE.json --photo IMG [--signature IMG] [--card-uid HEX]``.

For scripts and technicians: the operator is named and gives their password on stdin (its
first line; asked for, not echoed, at a terminal), checked once the input has passed every
other check: a wrong one is one line naming ``operator`` (exit 2) and counts towards the
account's lock like a sign-in. The record and the audit trail carry the name, so nobody at
the keyboard can record under a colleague's (issue 17).
Prints the record UUID on stdout once the record is committed; warnings go to stderr.
"""

from __future__ import annotations

import argparse
import sys

from app.commands.context import open_home, read_file, read_json_object, read_secret
from app.enrollment import EnrollmentRequest, enroll
from app.errors import BadInput, issue_line
from app.store.operators import (
    MAX_PASSWORD_LEN,
    AccountLocked,
    AuthenticationFailed,
    TooSoon,
    confirm_password,
)
from app.store.reconcile import reconcile_quietly

# Above any real photo file; accept_photo applies the finer limits (pixels, decode).
MAX_PHOTO_FILE = 20 * 1024 * 1024
MAX_SIGNATURE_FILE = 512 * 1024


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "enroll",
        help="validate, check the photo, seal and store one record",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--operator", required=True, metavar="U", help="an active operator account")
    p.add_argument("--biodata", required=True, metavar="FILE.json")
    p.add_argument("--photo", required=True, metavar="IMG")
    p.add_argument("--signature", metavar="IMG", help="signature as PNG")
    p.add_argument("--card-uid", metavar="HEX")
    p.add_argument("--card-atr", metavar="HEX")
    p.add_argument(
        "--rerecord-of",
        metavar="UUID",
        help="re-records this earlier record, which the centre sent back (`fates --needs-action`)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    biodata = read_json_object(args.biodata, "biodata")
    photo = read_file(args.photo, "photo", MAX_PHOTO_FILE)
    signature = (
        read_file(args.signature, "signature", MAX_SIGNATURE_FILE) if args.signature else None
    )
    password = read_secret(f"Password of {args.operator}: ", MAX_PASSWORD_LEN)
    with open_home(args) as store:

        def reconcile_first() -> None:
            # The operator's password, once the input has passed every check (bad input
            # writes nothing, not even a failed sign-in).
            try:
                confirm_password(store, args.operator, password)
            except (AccountLocked, TooSoon) as exc:
                raise BadInput("operator", str(exc)) from exc
            except AuthenticationFailed as exc:
                raise BadInput(
                    "operator", f"wrong password for {args.operator!r} (first line of stdin)"
                ) from exc
            # Before sealing: packets an earlier killed seal left in the mirror without a
            # commit go to unconfirmed/ (app/store/reconcile.py). Only once the input has
            # passed every check, so bad input moves and writes nothing.
            rec = reconcile_quietly(store, "enroll")
            if rec is not None and rec.moved and rec.warning:
                print(f"warning: mirror: {rec.warning}", file=sys.stderr)

        result = enroll(
            store,
            EnrollmentRequest(
                operator=args.operator,
                biodata=biodata,
                photo=photo,
                signature_png=signature,
                card_uid=args.card_uid,
                card_atr=args.card_atr,
                rerecord_of=args.rerecord_of.strip().lower() if args.rerecord_of else None,
            ),
            before_seal=reconcile_first,
        )
    print(result.uuid, flush=True)
    for w in result.warnings:
        print(f"warning: {issue_line(w)}", file=sys.stderr)
    for flag in result.flags:
        print(f"flag: {flag}", file=sys.stderr)
    if result.mirror_warning:
        print(f"warning: mirror: {result.mirror_warning}", file=sys.stderr)
    if result.clock_warning:
        print(f"warning: clock: {result.clock_warning}", file=sys.stderr)
    return 0
