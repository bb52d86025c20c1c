"""``ektp-server relay``: a kecamatan relay's set-up (provision at its upstream), its
forwarding state and the requeue of held packets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from server.core import ServerCore

COMMANDS = ("relay",)


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    rl = sub.add_parser("relay", help="kecamatan relay set-up")
    rsub = rl.add_subparsers(dest="relay_cmd", parser_class=parser_class, required=True)
    rp = rsub.add_parser("provision", help="enroll this server at its upstream")
    rp.add_argument("--upstream", required=True)
    rp.add_argument("--code", required=True)
    rp.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain http:// to an upstream outside the private LAN",
    )
    rp.add_argument(
        "--ca-file",
        metavar="FILE",
        help="trust only this certificate (PEM) for the upstream's https",
    )
    rs = rsub.add_parser("status", help="forwarding state")
    rs.add_argument("--json", action="store_true")
    rq = rsub.add_parser("requeue", help="put held packets back in the forwarding queue")
    rq.add_argument("--station", help="only this station's packets")


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))


def run(args: argparse.Namespace, core: ServerCore) -> int:
    from app.sync.provision import ProvisionError
    from server.relay import provision
    from server.relay_fates import status as relay_fates_status
    from server.relay_outbox import RelayOutbox
    from server.relay_pull import pull_status

    if args.relay_cmd == "provision":
        try:
            result = provision(
                core,
                args.upstream,
                args.code,
                allow_insecure_http=args.insecure_http,
                ca_file=Path(args.ca_file) if args.ca_file else None,
            )
        except ProvisionError as exc:
            print(f"ektp-server: {exc}", file=sys.stderr)
            return 1
        print(
            f"relay enrolled at {result['upstream']} as station {result['relay_station_id']}; "
            f"stations here now seal to key {result['sealing_key_id']}"
        )
        return 0
    outbox = RelayOutbox(core)
    if args.relay_cmd == "requeue":
        print(f"{outbox.release_held(args.station)} held packet(s) back in the queue")
        return 0
    doc = {
        "upstream": core.meta_get("upstream_url"),
        "relay_station_id": core.meta_get("upstream_station_id"),
        "forward": outbox.counts(),
        # Packets the upstream refused for their station, with the reason.
        "held": outbox.held(),
        # Stations not (yet) registered upstream, with the upstream's refusal if any.
        "unregistered_stations": [
            {"station_id": st.id, "name": st.name, "error": st.row["upstream_error"]}
            for st in core.list_stations()
            if st.public_key and st.row["upstream_registered_at"] is None
        ],
        # The last pull of the central state of this relay's stations (assignments,
        # revocations), its last failure, and stations the upstream does not list as ours.
        "pull": pull_status(core),
        "fates": relay_fates_status(core),
    }
    if args.json:
        _print_json(doc)
    else:
        _print_relay_status(doc)
    return 0


def _print_relay_status(doc: dict[str, Any]) -> None:
    if not doc["upstream"]:
        print("not a relay: run `ektp-server relay provision --upstream URL --code CODE`")
        return
    print(f"upstream: {doc['upstream']} (this relay is station {doc['relay_station_id']})")
    forward = ", ".join(f"{n} {status}" for status, n in sorted(doc["forward"].items()))
    print(f"packets: {forward or 'none yet'}")
    pull = doc["pull"]
    print(f"last pull of the station state: {pull['last_success_at'] or 'never'}")
    if pull["error"]:
        print(f"last pull failed at {pull['error_at']}: {pull['error']}")
    for sid in pull["unlisted_stations"]:
        print(f"station {sid}: the upstream does not list it as this relay's (left as it is)")
    fates = doc["fates"]
    held = ", ".join(f"{n} {f}" for f, n in fates["held"].items() if n)
    print(
        f"fates kept for the kits: {held or 'none yet'} (last pull {fates['last_pull_at'] or 'never'})"
    )
    if fates["refused"]:
        print(f"fates refused: {fates['refused']}")
    print(f"payloads purged (the centre holds them): {fates['purged_payloads']}")
    for h in doc["held"]:
        print(f"held {h['uuid']} (station {h['station']}): {h['reason']}")
    for u in doc["unregistered_stations"]:
        print(f"not registered upstream: {u['station_id']} ({u['name']}): {u['error'] or '-'}")
