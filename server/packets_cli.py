"""``ektp-server`` on received packets: ``packets``, ``import``, ``open-packet``,
``quarantine`` (held for the office's decision) and the object store's ``migrate-blobs``
and ``blobs sweep`` (the parsers and what each prints; the work is in ServerCore,
server/quarantine.py and server/blobs.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from server import blobs as blob_store
from server.core import InputError, ServerCore

COMMANDS = ("packets", "import", "migrate-blobs", "blobs", "open-packet", "quarantine")


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    pk = sub.add_parser("packets", help="list received packets")
    pk.add_argument("--json", action="store_true")

    im = sub.add_parser("import", help="import a station's export directory (*.ektp)")
    im.add_argument("dir")
    im.add_argument("--json", action="store_true")

    mb = sub.add_parser(
        "migrate-blobs", help="move packet bytes from the database to the --blobs bucket"
    )
    mb.add_argument("--batch", type=int, default=100, help="packets per transaction")
    mb.add_argument("--limit", type=int, help="move at most this many, then stop")
    bl = sub.add_parser("blobs", help="the object store of packets")
    bls = bl.add_subparsers(dest="blobs_cmd", parser_class=parser_class, required=True)
    sw = bls.add_parser("sweep", help="delete objects no packet row points at")
    sw.add_argument(
        "--older-than",
        type=float,
        default=3600.0,
        metavar="S",
        help="only objects written more than S seconds ago (an upload in flight writes its "
        "object first; default 3600)",
    )

    op = sub.add_parser("open-packet", help="back office: decrypt a packet")
    op.add_argument("uuid")
    op.add_argument("--station", help="the packet's station (when several hold this uuid)")
    op.add_argument("--out", help="write the attachments into this directory")

    q = sub.add_parser("quarantine", help="packets held for the office's decision")
    qsub = q.add_subparsers(dest="quarantine_cmd", parser_class=parser_class, required=True)
    ql = qsub.add_parser("list", help="quarantined packets (--all: with the decided ones)")
    ql.add_argument("--all", action="store_true")
    ql.add_argument("--json", action="store_true")
    for word in ("release", "reject"):
        d = qsub.add_parser(
            word,
            help="count the packet after all"
            if word == "release"
            else "never count the packet (it stays stored, as evidence)",
        )
        d.add_argument("uuid")
        d.add_argument("--station", required=True, help="the packet's station id")
        d.add_argument("--by", required=True, help="who decides (kept with the decision)")


def validate(args: argparse.Namespace) -> None:
    """Checks that need no database (bad input writes nothing)."""
    if args.cmd == "import" and not Path(args.dir).is_dir():
        raise InputError(f"DIR: not a directory: {args.dir}")


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))


def run(args: argparse.Namespace, core: ServerCore) -> int:
    return {
        "packets": _packets,
        "import": _import,
        "migrate-blobs": _migrate_blobs,
        "blobs": _sweep,
        "open-packet": _open_packet,
        "quarantine": _quarantine,
    }[args.cmd](args, core)


def _packets(args: argparse.Namespace, core: ServerCore) -> int:
    items = core.list_packets()
    if args.json:
        _print_json({"count": len(items), "packets": items})
    else:
        for p in items:
            print(f"{p['uuid']}  {p['station']}  {p['kecamatan']}  {p['received_at']}")
        print(f"{len(items)} packet(s)")
    return 0


def _import(args: argparse.Namespace, core: ServerCore) -> int:
    directory = Path(args.dir)
    if not directory.is_dir():
        raise InputError(f"DIR: not a directory: {args.dir}")
    result = core.import_dir(directory)
    if args.json:
        _print_json(result)
    else:
        print(
            f"{result['files']} file(s): {result['imported']} imported, "
            f"{result['duplicates']} already held, {len(result['rejected'])} rejected"
            + (f", {result['unverified']} from unknown stations" if result["unverified"] else "")
        )
        for r in result["rejected"]:
            print(f"rejected {r['file']}: {r['reason']}", file=sys.stderr)
    return 1 if result["rejected"] else 0


def _open_packet(args: argparse.Namespace, core: ServerCore) -> int:
    opened = core.open_packet(args.uuid, args.station)
    if args.out:
        out = Path(args.out)
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        for att in opened.attachments.values():
            _write_private(out / Path(att.name).name, att.data)
    _print_json(opened.manifest)
    return 0


def _migrate_blobs(args: argparse.Namespace, core: ServerCore) -> int:
    if args.batch < 1 or (args.limit is not None and args.limit < 1):
        raise InputError("--batch/--limit: must be at least 1")
    if not isinstance(core.blobs, blob_store.S3Store):
        raise InputError("--blobs: give the bucket to move the packets to (s3://BUCKET[/PREFIX])")
    moved = blob_store.migrate(core.engine, core.blobs, args.batch, args.limit)
    left = blob_store.in_database(core.engine)
    print(f"moved {moved} packet(s) to {core.blobs.url}; {left} still in the database")
    return 0


def _sweep(args: argparse.Namespace, core: ServerCore) -> int:
    if not isinstance(core.blobs, blob_store.S3Store):
        raise InputError("--blobs: this database keeps its packets itself; nothing to sweep")
    if args.older_than < 0:
        raise InputError("--older-than: must not be negative")
    deleted = blob_store.sweep(core.engine, core.blobs, args.older_than)
    print(f"deleted {deleted} orphan object(s) from {core.blobs.url}")
    return 0


def _quarantine(args: argparse.Namespace, core: ServerCore) -> int:
    from server import quarantine

    if args.quarantine_cmd == "list":
        items = quarantine.listed(core.engine, None if args.all else quarantine.QUARANTINED)
        if args.json:
            _print_json({"count": len(items), "packets": items})
        else:
            for p in items:
                print(
                    f"{p['uuid']}  {p['station']}  {p['kecamatan']}  received {p['received_at']}"
                    f"  {p['review']}: {p['review_reason']}"
                    + (
                        f" (by {p['reviewed_by']} at {p['reviewed_at']})"
                        if p["reviewed_by"]
                        else ""
                    )
                )
            print(f"{len(items)} packet(s)")
        return 0
    decision = quarantine.RELEASED if args.quarantine_cmd == "release" else quarantine.REJECTED
    try:
        doc = quarantine.decide(core.engine, args.station, args.uuid, decision, args.by)
    except quarantine.DecisionError as exc:
        raise InputError(str(exc)) from exc
    print(f"packet {doc['uuid']} of station {doc['station']} {decision} by {doc['reviewed_by']}")
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """A decrypted file, mode 0600 (also when it replaces an older one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(data)
