"""``provision --server URL --code CODE``: online set-up with a one-time code.

On a fresh home: makes the Ed25519 key pair, registers its public key with the code, and
stores the id, the server's sealing key and the kecamatan the server assigned. On a station
set up offline with ``init``: registers its existing id and key, then points it at the server.
Nothing is written unless the server accepted the code.
"""

from __future__ import annotations

import argparse
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.commands.context import UsageError, home_of, open_home, print_json
from app.store.db import DB_NAME
from app.store.station import (
    StationIdentity,
    get_identity,
    init_station,
    set_assignment,
    update_server,
)
from app.sync.provision import ProvisionError, enroll


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("provision", help="set up this station online with a one-time code")
    p.add_argument("--server", required=True, metavar="URL", help="e.g. http://10.0.0.5:8000")
    p.add_argument("--code", required=True, help="one-time code from `ektp-server station add`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    url = args.server.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise UsageError("server", f"{args.server!r} is not an http(s) URL")
    code = args.code.strip()
    if not code:
        raise UsageError("code", "the one-time code is empty")
    existing = None
    if (home_of(args) / DB_NAME).exists():
        with open_home(args) as store:
            existing = get_identity(store)
    key = existing.signing_key if existing else Ed25519PrivateKey.generate()
    try:
        result = enroll(
            url, code, key.public_key(), station_id=existing.station_id if existing else None
        )
    except ProvisionError as exc:
        refused = "refused" in str(exc)
        print(f"ektp-station: error: {'code' if refused else 'server'}: {exc}", file=sys.stderr)
        return 2 if refused else 1
    identity: StationIdentity | None
    with open_home(args, create=True) as store:
        if existing is None:
            identity = init_station(
                store,
                server_key_pem=result.server_key_pem,
                kecamatan=result.kecamatan,
                name=result.name,
                station_id=result.station_id,
                server_url=url,
                signing_key=key,
                set_by="provision",
            )
        else:
            update_server(store, url, result.server_key_pem, result.station_id)
            if result.kecamatan != existing.kecamatan:
                set_assignment(store, result.kecamatan, "provision", "assigned by the server")
            identity = get_identity(store)
    assert identity is not None
    doc = {
        "station_id": identity.station_id,
        "name": identity.name,
        "kecamatan": identity.kecamatan,
        "server_url": url,
        "server_key_id": result.server_key_id,
    }
    if args.json:
        print_json(doc)
    else:
        print(identity.station_id)
    return 0
