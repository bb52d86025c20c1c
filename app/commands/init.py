"""``init --server-key FILE --kecamatan KODE [--name NAME]``: offline set-up."""

from __future__ import annotations

import argparse
import socket
import sys

from app.commands.context import home_of, open_home, read_file
from app.errors import BadInput
from app.packet import (
    PacketError,
    fingerprint,
    load_sealing_public_key,
    load_server_key_file,
    load_signing_public_key_b64,
    suite_of,
)
from app.store.db import DB_NAME
from app.store.errors import AlreadyInitialized
from app.store.station import get_identity, init_station
from app.sync.provision import InvalidServerUrl, check_server_url


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="set up this station offline from the server's public key")
    p.add_argument("--server-key", required=True, metavar="FILE", help="server sealing key (PEM)")
    p.add_argument("--kecamatan", required=True, metavar="KODE", help="e.g. 36.03.32")
    p.add_argument("--name", help="station name (default: the host name)")
    p.add_argument("--server-url", metavar="URL", help="server to sync to (optional)")
    p.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain http:// to an address outside the private LAN",
    )
    p.set_defaults(func=run)


def check_kecamatan(code: str) -> str:
    """The dotted level-3 code (written dotted or not), or BadInput("kecamatan")."""
    from app.domain import regions

    try:
        return regions.parse_code(code, 3)
    except regions.BadRegionCode as exc:
        raise BadInput("kecamatan", str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    data = read_file(args.server_key, "server-key", 64 * 1024)
    try:
        keys = load_server_key_file(data)
        pem = keys.sealing_pem
    except PacketError as exc:
        raise BadInput("server-key", f"{args.server_key}: {exc}") from exc
    kecamatan = check_kecamatan(args.kecamatan)
    # An explicit --name "" is bad input, not a request for the host name.
    name = (socket.gethostname() if args.name is None else args.name).strip()
    if not name or len(name) > 200:
        raise BadInput("name", "must be 1-200 characters")
    server_url = None
    if args.server_url is not None:
        try:
            server_url = check_server_url(args.server_url, allow_insecure_http=args.insecure_http)
        except InvalidServerUrl as exc:
            raise BadInput("server-url", str(exc)) from exc
    if (home_of(args) / DB_NAME).exists():
        with open_home(args) as store:
            if get_identity(store) is not None:
                raise AlreadyInitialized(f"this station is already initialized ({home_of(args)})")
    with open_home(args, create=True) as store:
        identity = init_station(
            store,
            server_key_pem=pem,
            kecamatan=kecamatan,
            name=name,
            server_url=server_url,
            set_by="init",
            server_signing_key=keys.signing_b64,
        )
    # The technician compares these with `ektp-server keys fingerprint` on the server: a key
    # file swapped on the way would seal every record to someone else.
    # The suite too: ML-KEM-768 + X25519 (hybrid) for a key made since, X25519 for an older.
    sealing_key = load_sealing_public_key(pem)
    sealing = f"{fingerprint(sealing_key)} ({suite_of(sealing_key)})"
    if keys.signing_b64 is None:
        print(
            f"server sealing key: {sealing}; the file has no signing key (written by an older "
            "server): the station learns it at its first sync, vouched for by the sealing key",
            file=sys.stderr,
        )
    else:
        signing = fingerprint(load_signing_public_key_b64(keys.signing_b64))
        print(
            f"server keys: sealing {sealing}, signing {signing}; compare them with "
            "`ektp-server keys fingerprint` on the server",
            file=sys.stderr,
        )
    print(identity.station_id)
    return 0
