"""``provision --server URL --code CODE``: online set-up with a one-time code (the work is
:func:`app.service.provision.provision`, which Teknisi runs too).

On a fresh home: makes the Ed25519 key pair (stored in the home first, as the pending key),
registers its public key with the code, and stores the id, the server's sealing key and the
kecamatan the server assigned. On a station set up offline with ``init``: registers its
existing id and key, then points it at the server. The identity is written only after the
server accepted the code; if that write fails (disk full, database locked), running
``provision`` again with the same code works: the same key is registered again, and the
server answers a repeated redemption by the same key (docs/sync.md).

Once the station has a technician or supervisor, pointing it at a server (another one, or
the same again) needs one: ``--by U`` and their password on stdin; the audit names them.
Without it anyone at the keyboard could point the kit at a server of their own and read
every record sealed after (docs/security.md, "An insider at the keyboard").
"""

from __future__ import annotations

import argparse

from app.commands.context import open_home, print_json, read_file
from app.commands.operator import allowed_by
from app.errors import BadInput
from app.service.provision import check_url, provision
from app.sync.tls import BadCertificateFile, check_certificate_file


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
    p.add_argument(
        "--by",
        metavar="U",
        help="the technician or supervisor who allows it, once the station has one "
        "(password on stdin)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Bad input is refused before the home is opened: nothing is created for it.
    url = check_url(args.server, allow_insecure_http=args.insecure_http)
    code = args.code.strip()
    if not code:
        raise BadInput("code", "the one-time code is empty")
    ca: bytes | None = None
    if args.ca_file is not None:
        ca = read_file(args.ca_file, "ca-file", 1024 * 1024)
        try:
            check_certificate_file(ca)
        except BadCertificateFile as exc:
            raise BadInput("ca-file", f"{args.ca_file}: {exc}") from exc
    with open_home(args, create=True) as store:
        by = allowed_by(store, args)
        done = provision(
            store,
            url,
            code,
            actor="provision" if by == "cli" else by,
            allow_insecure_http=args.insecure_http,
            ca=(args.ca_file, ca) if ca is not None else None,
        )
    if args.json:
        print_json(
            {
                "station_id": done.identity.station_id,
                "name": done.identity.name,
                "kecamatan": done.identity.kecamatan,
                "server_url": done.server_url,
                "server_key_id": done.server_key_id,
            }
        )
    else:
        print(done.identity.station_id)
    return 0
