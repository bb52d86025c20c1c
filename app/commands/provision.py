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
from pathlib import Path

from app.commands.context import UsageError, home_of, open_home, print_json
from app.store.db import DB_NAME
from app.store.errors import StorageError
from app.store.station import get_identity
from app.sync import provision as provisioning
from app.sync.provision import InvalidServerUrl, ProvisionError, check_server_url


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("provision", help="set up this station online with a one-time code")
    p.add_argument("--server", required=True, metavar="URL", help="e.g. http://10.0.0.5:8000")
    p.add_argument("--code", required=True, help="one-time code from `ektp-server station add`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        url = check_server_url(args.server)
    except InvalidServerUrl as exc:
        raise UsageError("server", str(exc)) from exc
    code = args.code.strip()
    if not code:
        raise UsageError("code", "the one-time code is empty")
    home = home_of(args)
    home_existed, fresh = home.exists(), not (home / DB_NAME).exists()
    with open_home(args, create=True) as store:
        existing = get_identity(store)
        key = provisioning.station_key(store, existing)
        try:
            reg = provisioning.register(url, code, existing, key)
        except ProvisionError as exc:
            refused = "refused" in str(exc)
            print(f"ektp-station: error: {'code' if refused else 'server'}: {exc}", file=sys.stderr)
            reg = None
        if reg is not None:
            try:
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
    if reg is None:
        if not refused:
            return 1  # the server could not be reached: the pending key is kept
        if fresh:
            # A refused code is bad input: nothing stays written. The key made in this run
            # is bound nowhere (the server refused it). Not after a network failure: then
            # the code may have been used with this key, which must be kept.
            _discard(home, home_existed)
        return 2
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


def _discard(home: Path, home_existed: bool) -> None:
    """Remove the database this run created in a fresh home (and the home, if it made it)."""
    for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
        (home / name).unlink(missing_ok=True)
    if not home_existed:
        try:
            home.rmdir()
        except OSError:
            pass  # something else is in it now: leave it
