"""``ektp-server policy`` and ``ektp-server audit`` (issue 12): the limits the office sets for
its kits, and the audit events and offline moves the kits uploaded. The work is in
server/policy.py, server/audit_log.py and server/moves.py."""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from app import policy as keys
from server import audit_log, moves, policy
from server.core import InputError, ServerCore

COMMANDS = ("policy", "audit")


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    pol = sub.add_parser("policy", help="the limits the kits receive (backlog, retention, ...)")
    psub = pol.add_subparsers(dest="policy_cmd", parser_class=parser_class, required=True)
    for name, helptext in (
        ("set", "set KEY to VALUE for every kit, a kecamatan's kits or one kit"),
        ("unset", "remove KEY from that scope (a wider one, or the kit's own value, applies)"),
    ):
        p = psub.add_parser(name, help=helptext)
        where = p.add_mutually_exclusive_group()
        where.add_argument("--station", metavar="ID", help="only this kit")
        where.add_argument("--kecamatan", metavar="KODE", help="the kits assigned there")
        p.add_argument("key", metavar="KEY", help="one of: " + ", ".join(keys.KEYS))
        if name == "set":
            p.add_argument("value", metavar="VALUE")
            p.add_argument("--by", help="who sets it (default: the login name)")
    sh = psub.add_parser("show", help="the values set (--station: what that kit receives)")
    sh.add_argument("--station", metavar="ID", help="the policy this kit receives")
    sh.add_argument("--json", action="store_true")

    au = sub.add_parser("audit", help="a kit's audit events as uploaded, and its offline moves")
    au.add_argument("--station", metavar="ID", required=True)
    au.add_argument("--after", type=int, default=0, help="events after this sequence number")
    au.add_argument("--limit", type=int, help="at most this many events")
    au.add_argument("--json", action="store_true")


def validate(args: argparse.Namespace) -> None:
    """Checks that need no database (bad input writes nothing)."""
    if args.cmd == "policy" and args.policy_cmd in ("set", "unset"):
        if args.key not in keys.KEYS:
            raise InputError(
                f"KEY: {args.key!r} is not a policy key (one of {', '.join(keys.KEYS)})"
            )
        if args.policy_cmd == "set":
            try:
                args.value = keys.check_value(args.key, args.value)
            except keys.PolicyValueError as exc:
                raise InputError(f"VALUE: {exc}") from exc
    if args.cmd == "audit":
        if args.after < 0:
            raise InputError(f"--after: must not be negative, got {args.after}")
        if args.limit is not None and args.limit < 1:
            raise InputError(f"--limit: must be at least 1, got {args.limit}")


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))


def run(args: argparse.Namespace, core: ServerCore) -> int:
    if args.cmd == "policy":
        return _policy(args, core)
    doc = audit_log.events(core.engine, args.station, args.after, args.limit)
    doc["moves"] = moves.history(core.engine, args.station)
    if args.json:
        _print_json(doc)
        return 0
    for ev in doc["events"]:
        print(f"{ev['seq']:>6}  {ev['at']}  {ev['actor']:<20}  {ev['kind']}")
    for m in doc["moves"]:
        print(
            f"moved {m['moved_at']}: {m['from'] or '-'} -> {m['to']} by {m['moved_by']}, "
            f"approved by {m['approved_by']}: {m['outcome']}"
        )
    print(f"{doc['count']} event(s) held for station {args.station}")
    return 0


def _policy(args: argparse.Namespace, core: ServerCore) -> int:
    if args.policy_cmd == "set":
        doc = policy.set_value(
            core.engine,
            args.key,
            args.value,
            station=args.station,
            kecamatan=args.kecamatan,
            by=args.by or getpass.getuser(),
        )
        where = {"all": "every kit", "kecamatan": "the kits of kecamatan", "station": "station"}
        print(f"{doc['key']} = {doc['value']} for {where[doc['scope']]} {doc['target']}".rstrip())
        return 0
    if args.policy_cmd == "unset":
        gone = policy.unset_value(
            core.engine, args.key, station=args.station, kecamatan=args.kecamatan
        )
        print(f"{args.key} unset" if gone else f"{args.key} was not set there")
        return 0
    if args.station:
        st = core.find_station(args.station)
        if st is None:
            raise InputError(f"--station: no station {args.station!r}")
        effective = policy.effective_for(core.engine, st)
        if args.json:
            _print_json({"station_id": st.id, "kecamatan": st.kecamatan, "policy": effective})
        else:
            for k, v in effective.items():
                print(f"{k} = {v}")
            if not effective:
                print("nothing set: the kit keeps its own settings")
        return 0
    rows = policy.listed(core.engine)
    if args.json:
        _print_json({"keys": {k: v.describe() for k, v in keys.KEYS.items()}, "values": rows})
    else:
        for r in rows:
            where = r["scope"] + (f" {r['target']}" if r["target"] else "")
            print(f"{where:<24}  {r['key']} = {r['value']}  (by {r['set_by']}, {r['set_at']})")
        if not rows:
            print("no policy set: every kit keeps its own settings")
    return 0
