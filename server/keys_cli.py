"""``ektp-server keys``: the cluster's sealing key (print, fingerprint, new, rotate)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app import packet as pkt
from server import cluster_key
from server.core import InputError, ServerCore

COMMANDS = ("keys",)


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    k = sub.add_parser("keys", help="sealing keys")
    ksub = k.add_subparsers(dest="keys_cmd", parser_class=parser_class, required=True)
    kp = ksub.add_parser(
        "public", help="print the key file for `ektp-station init`: sealing and signing keys (PEM)"
    )
    kp.add_argument("--out", metavar="FILE", help="write it to FILE instead (for a USB stick)")
    ksub.add_parser("fingerprint", help="the keys' fingerprints, to compare with a station's")
    kr = ksub.add_parser(
        "rotate",
        help="make a new hybrid (ML-KEM-768 + X25519) sealing key, or the key in FILE, the "
        "cluster's; the old key is kept to open what was sealed to it",
    )
    kr.add_argument("--new", metavar="FILE", dest="new_key", help="the key `keys new` wrote")
    kn = ksub.add_parser("new", help="write a fresh sealing key to FILE (0600), for a rotation")
    kn.add_argument("file", metavar="FILE")


def new_key(path: Path) -> int:
    """``keys new FILE``: needs no database, so it runs before one is opened."""
    if path.exists():
        raise InputError(f"FILE: {path} exists (a key is never overwritten)")
    print(cluster_key.write_new_key(path))
    return 0


def _rotate(core: ServerCore, path: Path | None) -> int:
    """``keys rotate [--new FILE]``: FILE's key, or a fresh hybrid one, becomes the cluster's;
    the old one is kept to open what was, and still is, sealed to it."""
    if core.meta_get("upstream_sealing_key"):
        raise InputError(
            "keys rotate: this server is a relay: its stations seal to the central server's "
            "key; rotate it there, then run `relay provision` here again"
        )
    if path is None:
        if not core.keyring.in_home:
            raise InputError(
                "--new: this host's keys come from --sealing-key or the environment; make one "
                "with `keys new FILE`, then `keys rotate --new FILE`"
            )
        new: pkt.SealingPrivateKey = pkt.HybridPrivateKey.generate()
    else:
        new = (cluster_key.given_keys([path]) or [])[0]
    old = core.keyring.current
    new_id = cluster_key.rotate(core.engine, core.home, core.keyring, new)
    print(
        f"sealing key {pkt.key_id(old.public_key())} ({pkt.suite_of(old)}) retired: kept "
        "to open what was sealed to it"
    )
    print(
        f"the cluster's sealing key is now {new_id} ({pkt.suite_of(new)}): stations move to it "
        "at their next sync; restart the server's processes to use it"
    )
    where = "this home's sealing_key.pem" if core.keyring.in_home else f"--sealing-key {path}"
    print(
        f"with several hosts: give each the new key first ({where}) and keep the old one "
        "after it; a host holding only the old key refuses to start"
    )
    return 0


def run(args: argparse.Namespace, core: ServerCore) -> int:
    signing = core.signing_key.public_key()
    if args.keys_cmd == "rotate":
        return _rotate(core, Path(args.new_key) if args.new_key else None)
    if args.keys_cmd == "fingerprint":
        sealing = core.sealing_public_key()
        print(f"sealing {pkt.fingerprint(sealing)} ({pkt.suite_of(sealing)})")
        print(f"signing {pkt.fingerprint(signing)}")
        return 0
    key_file = pkt.server_key_file(core.sealing_public_key(), signing)
    if args.out:
        try:
            Path(args.out).write_bytes(key_file)  # public keys: no secret in it
        except OSError as exc:
            raise InputError(f"--out: cannot write {args.out} ({exc.strerror})") from exc
        print(f"wrote {args.out}: give it to `ektp-station init --server-key`")
        return 0
    sys.stdout.write(key_file.decode())
    return 0
