"""``export --to DIR``: every packet that still has its payload, as ``<uuid>.ektp`` files.

Each file is written atomically and fsynced; ``manifest.json`` lists uuid + sha256 of every
packet in the directory. Idempotent: a re-export skips files that already hold the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from app.commands.context import UsageError, open_home, print_json
from app.store.audit import record_event
from app.store.db import Store
from app.store.mirror import clean_temp_files, packet_name, write_atomic
from app.store.outbox import Outbox
from app.store.reconcile import reconcile_quietly

MANIFEST = "manifest.json"


class ExportConflict(Exception):
    """A file of the same name holds different bytes: never overwritten."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="copy sealed packets (any status) to a directory")
    p.add_argument("--to", required=True, metavar="DIR")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_packets(store: Store, target: Path, actor: str = "cli") -> dict[str, Any]:
    # First the mirror: a packet a killed seal left there without a commit goes to
    # unconfirmed/ before anything leaves the station (see app/store/reconcile.py).
    reconcile_quietly(store, actor)
    target.mkdir(parents=True, exist_ok=True)
    clean_temp_files(target)
    manifest_path = target / MANIFEST
    entries: dict[str, dict[str, Any]] = {}
    if manifest_path.exists():
        try:
            for e in json.loads(manifest_path.read_text())["packets"]:
                entries[str(e["uuid"])] = e
        except (ValueError, KeyError, TypeError):
            entries = {}  # rebuilt below from what is exported now
    written = skipped = 0
    for uuid, data in Outbox(store).iter_packets():
        sha = hashlib.sha256(data).hexdigest()
        path = target / packet_name(uuid)
        if path.exists():
            if path.stat().st_size == len(data) and _sha256_file(path) == sha:
                skipped += 1
                entries[uuid] = {"uuid": uuid, "sha256": sha, "size": len(data)}
                continue
            raise ExportConflict(f"{path} exists with different content; not overwritten")
        write_atomic(target, packet_name(uuid), data)
        entries[uuid] = {"uuid": uuid, "sha256": sha, "size": len(data)}
        written += 1
    doc = {"format": "ektp-export-1", "packets": sorted(entries.values(), key=lambda e: e["uuid"])}
    write_atomic(target, MANIFEST, json.dumps(doc, indent=1, sort_keys=True).encode())
    if written:
        record_event(store, actor, "records.exported", {"to": str(target), "written": written})
    return {"to": str(target), "written": written, "skipped": skipped, "total": len(entries)}


def run(args: argparse.Namespace) -> int:
    target = Path(args.to)
    if target.exists() and not target.is_dir():
        raise UsageError("to", f"{target} is not a directory")
    with open_home(args) as store:
        try:
            result = export_packets(store, target)
        except ExportConflict as exc:
            raise UsageError("to", str(exc)) from exc
    if args.json:
        print_json(result)
    else:
        print(
            f"exported {result['written']} packet(s) to {result['to']} "
            f"({result['skipped']} already there)"
        )
    return 0
