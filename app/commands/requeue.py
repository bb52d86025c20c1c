"""``requeue (UUID... | --all)``: send records the server rejected again.

A rejected record stays on the station with its reason (``status``, the queue screen) until
a technician requeues it, for instance after the central office fixed what the server
refused. Audited (``record.requeued``); the next sync sends it. Once the station has a
technician or supervisor, one allows it: ``--by U`` and their password on stdin, and the
audit names them (the queue screen shows the button to a technician only).
"""

from __future__ import annotations

import argparse

from app.commands.context import open_home, print_json
from app.commands.operator import allowed_by
from app.errors import BadInput
from app.service.records import check_uuids, requeue


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "requeue",
        help="send records the server rejected again",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("uuid", nargs="*", metavar="UUID", help="rejected record(s) to send again")
    p.add_argument("--all", action="store_true", help="every rejected record")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument(
        "--by",
        metavar="U",
        help="the technician or supervisor who allows it, once the station has one "
        "(password on stdin)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.all and args.uuid:
        raise BadInput("uuid", "give record UUIDs or --all, not both")
    if not args.all and not args.uuid:
        raise BadInput("uuid", "name the rejected record(s) to send again, or --all")
    uuids = None if args.all else check_uuids(args.uuid)  # checked before the home is opened
    with open_home(args) as store:
        done = requeue(store, uuids, actor=allowed_by(store, args))
    if args.json:
        print_json({"requeued": done, "count": len(done)})
    else:
        for uuid in done:
            print(uuid)
        print(f"requeued {len(done)} record(s): the next sync sends them")
    return 0
