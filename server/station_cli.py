"""``ektp-server station``: add, list, revoke, mark-relay, assign and code (the parsers,
their checks and what each prints; the work is in ServerCore)."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from server.core import CODE_TTL_S, InputError, ServerCore, iso

COMMANDS = ("station",)


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    st = sub.add_parser("station", help="manage stations")
    ssub = st.add_subparsers(dest="station_cmd", parser_class=parser_class, required=True)
    a = ssub.add_parser("add", help="add a station; prints its one-time code (last line)")
    a.add_argument("--name", required=True)
    a.add_argument("--kecamatan", required=True)
    a.add_argument("--expires-hours", type=float, default=CODE_TTL_S / 3600)
    a.add_argument(
        "--relay",
        action="store_true",
        help="a kecamatan relay: may register (vouch for) the stations enrolled at it",
    )
    a.add_argument(
        "--verifier",
        action="store_true",
        help="a kelurahan desk's card-check station: checks cards, records nothing (issue 19)",
    )
    a.add_argument("--json", action="store_true")
    ls = ssub.add_parser("list", help="list stations")
    ls.add_argument("--json", action="store_true")
    r = ssub.add_parser(
        "revoke",
        help="revoke a station (its uploads are refused); a relay's stations are revoked with it",
    )
    r.add_argument("id")
    r.add_argument(
        "--since",
        help="the time of the theft (ISO 8601, e.g. 2026-12-01T08:00:00+07:00): the packets "
        "received after it are quarantined for the office to decide on",
    )
    mr = ssub.add_parser(
        "mark-relay", help="make an existing station a relay (may vouch for its stations)"
    )
    mr.add_argument("id")
    asg = ssub.add_parser("assign", help="set a station's kecamatan")
    asg.add_argument("id")
    asg.add_argument("--kecamatan", required=True)
    c = ssub.add_parser("code", help="a new one-time code for an existing station")
    c.add_argument("id")
    c.add_argument("--expires-hours", type=float, default=CODE_TTL_S / 3600)


def validate(args: argparse.Namespace) -> None:
    """Checks that need no database (bad input writes nothing)."""
    if args.cmd != "station":
        return
    # The time of a theft cannot lie ahead; a filter's --since may (it finds nothing).
    since = parse_since(getattr(args, "since", None))
    if since is not None and since > time.time():
        raise InputError("--since: the time is in the future")
    if args.station_cmd == "add" and not args.name.strip():
        raise InputError("--name: give the station a name (1-200 characters)")


def parse_since(value: str | None) -> float | None:
    """``--since``: an ISO 8601 time; without a zone it is UTC."""
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(
            f"--since: expected a time like 2026-12-01T08:00:00+07:00, got {value!r}"
        ) from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))


def run(args: argparse.Namespace, core: ServerCore) -> int:
    sc = args.station_cmd
    if sc == "add":
        st, code = core.add_station(
            args.name, args.kecamatan, args.expires_hours * 3600, relay=args.relay
        )
        if args.verifier:
            from server.cards import make_verifier

            make_verifier(core.engine, st.id)
        if args.json:
            doc = st.as_json()
            doc["verifier"] = bool(args.verifier)
            doc["code"] = code
            _print_json(doc)
        else:
            kind = "relay" if st.is_relay else "station"
            print(f"{kind} {st.id} ({st.name}, kecamatan {st.kecamatan}) added")
            print(f"one-time enrollment code (expires in {args.expires_hours:g} h):")
            print(code)
        return 0
    if sc == "list":
        from server.health import station_health

        reports = station_health(core.engine)
        # Each kit's latest health report (null: never reported), server/health.py.
        stations = [{**s.as_json(), "health": reports.get(s.id)} for s in core.list_stations()]
        if args.json:
            _print_json({"count": len(stations), "stations": stations})
        else:
            for s in stations:
                seen = (s["health"] or {}).get("last_seen") or "never seen"
                print(
                    f"{s['station_id']}  {s['kecamatan']}  {s['state']:<20}  {s['name']}  ({seen})"
                )
        return 0
    if sc == "revoke":
        st, cascaded, held = core.revoke(args.id, parse_since(args.since))
        print(f"station {st.id} revoked at {iso(st.row['revoked_at'])}")
        for sid in cascaded:
            print(f"station {sid} revoked with its relay")
        if args.since is not None:
            print(
                f"{held} packet(s) received since {iso(parse_since(args.since))} quarantined: "
                "`ektp-server quarantine list`"
            )
        return 0
    if sc == "mark-relay":
        st = core.mark_relay(args.id)
        print(f"station {st.id} ({st.name}) is a relay")
        return 0
    if sc == "assign":
        st = core.assign(args.id, args.kecamatan)
        print(f"station {st.id} assigned to kecamatan {st.kecamatan}")
        return 0
    if sc == "code":
        print(core.new_code_for(args.id, args.expires_hours * 3600))
        return 0
    raise InputError(f"unknown station command {sc}")
