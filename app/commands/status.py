"""``status [--json | --pending]``: counts by status, what is pending, and warnings.

Changes nothing. ``--pending`` is the small, stable answer for scripts and the Windows
uninstaller (installer.nsi asks it before removing data): one line on stdout, the number of
records not yet on the server, or ``none`` when the home holds no station database (never
set up: nothing is created); exit 0 either way, 1 when the database cannot be read.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.commands.context import home_of, open_home, print_json
from app.store.backlog import evaluate
from app.store.db import DB_NAME, Store, open_store
from app.store.fates import summary as fate_summary
from app.store.mirror import UNCONFIRMED_DIR, check_mirror, unconfirmed_count
from app.store.outbox import Outbox
from app.store.reconcile import records_without_copy
from app.store.settings import load_settings
from app.store.station import get_identity
from app.store.timeutil import iso, utcnow
from app.sync.station import sync_summary

MISSING_LISTED = 20  # records without a mirror copy named in the warning
NO_STATION = "none"  # `status --pending` for a home with no station database
# Rejected records listed by `status` (uuid and reason), oldest first; the count is complete.
REJECTED_LISTED = 100


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="records by status, pending uploads, warnings")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON document on stdout")
    form.add_argument(
        "--pending",
        action="store_true",
        help=f"one line: records not yet on the server, or {NO_STATION!r} (no station here)",
    )
    p.set_defaults(func=run)


def collect(store: Store) -> dict[str, Any]:
    """The status document (DESIGN.md shape plus extras). Other commands may add keys."""
    now = utcnow()
    outbox = Outbox(store)
    identity = get_identity(store)
    counts = outbox.counts()
    pending = outbox.pending()
    settings = load_settings(store)
    alone = outbox.unsent_unexported()
    backlog = evaluate(alone, settings, now)
    warnings = list(backlog.messages)
    if pending.rejected:
        warnings.append(
            f"{pending.rejected} record(s) rejected by the server are waiting: see the reason "
            "(queue screen or `status`), then `requeue UUID...` or `requeue --all`"
        )
    mirror: dict[str, Any] | None = None
    if settings.mirror_path is not None:
        check = check_mirror(settings.mirror_path)
        mirror = {"dir": settings.mirror_dir, "ok": check.ok, "message": check.message}
        if not check.ok:
            warnings.append(check.message)
        waiting = unconfirmed_count(settings.mirror_path)
        mirror["unconfirmed"] = waiting
        without = records_without_copy(store)
        # Sealed while the mirror was missing or full ("warn"): copied by the next enroll,
        # export or sync once it is back; named here until then.
        mirror["records_without_copy"] = without
        if without:
            listed = ", ".join(without[:MISSING_LISTED])
            more = (
                f" and {len(without) - MISSING_LISTED} more"
                if len(without) > MISSING_LISTED
                else ""
            )
            warnings.append(
                f"{len(without)} record(s) have no copy in the mirror: {listed}{more} "
                "(copied at the next enroll, export or sync)"
            )
        if waiting:
            warnings.append(
                f"{waiting} mirror packet(s) in {settings.mirror_path / UNCONFIRMED_DIR} were "
                "never committed (an interrupted seal): a technician must check them"
            )
    if identity is None:
        warnings.append("station is not initialized: run `init` or `provision`")
    oldest = pending.oldest_sealed_at
    rejected = outbox.rejected(REJECTED_LISTED) if pending.rejected else []
    return {
        "records": counts,
        "pending": pending.count,
        "pending_bytes": pending.bytes,
        "pending_rejected": pending.rejected,
        # which records the server refused and why: the uuid is what `requeue` takes
        "rejected_records": [
            {"uuid": e.uuid, "sealed_at": iso(e.sealed_at), "reason": e.last_error}
            for e in rejected
        ],
        "oldest_pending_age_s": None
        if oldest is None
        else round((now - oldest).total_seconds(), 3),
        "oldest_pending_sealed_at": None if oldest is None else iso(oldest),
        "station_id": identity.station_id if identity else None,
        "station_name": identity.name if identity else None,
        "kecamatan": identity.kecamatan if identity else None,
        "server_url": identity.server_url if identity else None,
        "backlog": backlog.level,
        "mirror": mirror,
        "warnings": warnings,
        "sync": sync_summary(store, pending, alone),
        # What the centre made of the records (issue 12): counts by fate, how many ask
        # something of the office, the fate sequence's state (`fates --json` lists them).
        "fates": fate_summary(store),
    }


def render(doc: dict[str, Any]) -> str:
    r = doc["records"]
    lines = [
        f"station:   {doc['station_id'] or '-'} ({doc['station_name'] or '-'})",
        f"kecamatan: {doc['kecamatan'] or '-'}",
        f"records:   sealed {r['sealed']}, uploaded {r['uploaded']}, "
        f"rejected {r['rejected']}, purged {r['purged']}",
        f"pending:   {doc['pending']} ({doc['pending_bytes']} bytes"
        + (f", {doc['pending_rejected']} rejected" if doc.get("pending_rejected") else "")
        + ")"
        + (
            f", oldest {doc['oldest_pending_age_s']:.0f} s"
            if doc["oldest_pending_age_s"] is not None
            else ""
        ),
    ]
    listed = doc.get("rejected_records") or []
    lines += [f"rejected:  {e['uuid']} (sealed {e['sealed_at']}): {e['reason']}" for e in listed]
    if doc.get("pending_rejected", 0) > len(listed):
        lines.append(f"rejected:  ... and {doc['pending_rejected'] - len(listed)} more")
    sync = doc.get("sync") or {}
    if sync:
        lines.append(
            f"sync:      last success {sync['last_success_at'] or 'never'}"
            # dated: an error older than the last success is history, not the state now
            + (
                f", last error at {sync.get('last_error_at')}: {sync['last_error']}"
                if sync.get("last_error")
                else ""
            )
        )
        ew = sync["exposure_window"]
        if ew["samples"]:
            lines.append(
                f"exposure:  seal-to-receipt p50 {ew['p50_s']} s, p99 {ew['p99_s']} s "
                f"({ew['samples']} uploads)"
            )
    f = doc.get("fates") or {}
    if f:
        lines.append(
            f"fates:     received {f['received']}, processed {f['processed']}, duplicate "
            f"{f['duplicate']}, rerecord {f['rerecord']}, rejected {f['rejected']}"
            + (
                f"; {f['needs_action']} need action (`fates --needs-action`)"
                if f["needs_action"]
                else ""
            )
            + (f"; last page refused: {f['error']}" if f.get("error") else "")
        )
    lines += [f"warning:   {w}" for w in doc["warnings"]]
    return "\n".join(lines)


def pending_answer(args: argparse.Namespace) -> str:
    """``status --pending``: the count of records waiting for the server, or NO_STATION."""
    home = home_of(args)
    if not (home / DB_NAME).is_file():
        return NO_STATION
    with open_store(home, create=False, upgrade=False) as store:
        return str(Outbox(store).pending().count)


def run(args: argparse.Namespace) -> int:
    if args.pending:
        print(pending_answer(args), flush=True)
        return 0
    # Read-only: the uninstaller asks `status` before removing data, so it moves no file and
    # writes no event (mirror reconciliation runs in enroll, export, sync and doctor).
    with open_home(args) as store:
        doc = collect(store)
    if args.json:
        print_json(doc)
    else:
        print(render(doc))
    return 0
