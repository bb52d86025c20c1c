"""``provision --server URL --code CODE``: online set-up with a one-time code.

On a fresh home: makes the Ed25519 key pair (stored in the home first, as the pending key),
registers its public key with the code, and stores the id, the server's sealing key and the
kecamatan the server assigned. On a station set up offline with ``init``: registers its
existing id and key, then points it at the server. The identity is written only after the
server accepted the code; if that write fails (disk full, database locked), running
``provision`` again with the same code works: the same key is registered again, and the
server answers a repeated redemption by the same key (docs/sync.md).
"""

from __future__ import annotations

import argparse
import sys

from app.commands.context import UsageError, home_of, open_home, print_json, read_file
from app.store.db import DB_NAME
from app.store.errors import StorageError
from app.store.station import discard_pending_key, get_identity
from app.sync import provision as provisioning
from app.sync.provision import (
    CodeRefused,
    InvalidServerUrl,
    ProvisionError,
    check_server_url,
)
from app.sync.tls import BadCertificateFile, check_certificate_file, pin_certificate


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("provision", help="set up this station online with a one-time code")
    p.add_argument("--server", required=True, metavar="URL", help="e.g. http://10.0.0.5:8000")
    p.add_argument("--code", required=True, help="one-time code from `ektp-server station add`")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--ca-file",
        metavar="FILE",
        help="trust only this certificate (PEM) for the server's https, e.g. a relay's own",
    )
    p.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain http:// to an address outside the private LAN",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        url = check_server_url(args.server, allow_insecure_http=args.insecure_http)
    except InvalidServerUrl as exc:
        raise UsageError("server", str(exc)) from exc
    code = args.code.strip()
    if not code:
        raise UsageError("code", "the one-time code is empty")
    ca: bytes | None = None
    if args.ca_file is not None:
        ca = read_file(args.ca_file, "ca-file", 1024 * 1024)
        try:
            check_certificate_file(ca)
        except BadCertificateFile as exc:
            raise UsageError("ca-file", f"{args.ca_file}: {exc}") from exc
    home = home_of(args)
    fresh = not (home / DB_NAME).exists()
    with open_home(args, create=True) as store:
        existing = get_identity(store)
        key = provisioning.station_key(store, existing)
        try:
            reg = provisioning.register(
                url, code, existing, key, verify=args.ca_file if ca is not None else True
            )
        except CodeRefused as exc:
            if exc.reason == "key_in_use" and existing is None and get_identity(store):
                # Another process set this home up meanwhile, with its pending key.
                print(
                    "ektp-station: error: station: this station was set up meanwhile "
                    f"(its key is the server's station now): {exc.detail}",
                    file=sys.stderr,
                )
                return 1
            field = "server" if isinstance(exc, provisioning.WrongAddress) else "code"
            print(f"ektp-station: error: {field}: {exc}", file=sys.stderr)
            if fresh and existing is None and exc.reason != "key_in_use":
                # The key made in this run is bound nowhere (the server refused it): forgotten,
                # in one transaction and only while no identity took it. The database stays:
                # another process (a second provision, init, the GUI) may have opened it.
                # Never after key_in_use (the key is bound to another station) nor after a
                # failure to get an answer (the code may have been used with this key).
                try:
                    discard_pending_key(store, key)
                except StorageError:
                    pass  # the key stays pending: harmless, the next run registers it
            return 2
        except ProvisionError as exc:  # no usable answer: the pending key is kept
            print(f"ektp-station: error: server: {exc}", file=sys.stderr)
            return 1
        try:
            if ca is not None:  # kept before the identity: the next sync must trust it too
                pin_certificate(store.home, ca)
            identity = provisioning.save(store, url, reg, "provision")
        except provisioning.IdentityChanged as exc:  # set up by another process meanwhile
            print(f"ektp-station: error: station: {exc}", file=sys.stderr)
            return 1
        except StorageError as exc:
            print(
                f"ektp-station: error: storage ({exc.kind}): {exc.message}; "
                f"{provisioning.NOT_SAVED_HINT}",
                file=sys.stderr,
            )
            return 1
    doc = {
        "station_id": identity.station_id,
        "name": identity.name,
        "kecamatan": identity.kecamatan,
        "server_url": url,
        "server_key_id": reg.enrollment.server_key_id,
    }
    if args.json:
        print_json(doc)
    else:
        print(identity.station_id)
    return 0
