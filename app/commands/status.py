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
from app.service.status import StationStatus, station_status
from app.store.db import DB_NAME, Store, open_store
from app.store.outbox import Outbox

NO_STATION = "none"  # `status --pending` for a home with no station database


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
    """The ``status --json`` document (the benchmark times it)."""
    return station_status(store).to_json()


def render(status: StationStatus) -> str:
    r = status.records
    lines = [
        f"station:   {status.station_id or '-'} ({status.station_name or '-'})",
        f"kecamatan: {status.kecamatan or '-'}",
        f"records:   sealed {r['sealed']}, uploaded {r['uploaded']}, "
        f"rejected {r['rejected']}, purged {r['purged']}",
        f"pending:   {status.pending} ({status.pending_bytes} bytes"
        + (f", {status.pending_rejected} rejected" if status.pending_rejected else "")
        + ")"
        + (
            f", oldest {status.oldest_pending_age_s:.0f} s"
            if status.oldest_pending_age_s is not None
            else ""
        ),
    ]
    listed = status.rejected_records
    lines += [f"rejected:  {e['uuid']} (sealed {e['sealed_at']}): {e['reason']}" for e in listed]
    if status.pending_rejected > len(listed):
        lines.append(f"rejected:  ... and {status.pending_rejected - len(listed)} more")
    sync = status.sync
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
        if sync.get("clock_offset_s") is not None:
            off = sync["clock_offset_s"]
            lines.append(
                f"clock:     {abs(off):.1f} s {'behind' if off > 0 else 'ahead of'} the server's "
                f"(measured {sync['clock_offset_measured_at']})"
            )
        ew = sync["exposure_window"]
        if ew["samples"]:
            lines.append(
                f"exposure:  seal-to-receipt p50 {ew['p50_s']} s, p99 {ew['p99_s']} s "
                f"({ew['samples']} uploads)"
            )
    f = status.fates
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
    central = {
        k: v["value"]
        for k, v in (status.extra.get("policy") or {}).items()
        if v["source"] == "central"
    }
    if central:
        lines.append(
            "policy:    " + ", ".join(f"{k} {v}" for k, v in central.items()) + " (central office)"
        )
    moved = status.extra.get("assignment") or {}
    if moved.get("source") == "offline_move":
        lines.append(
            f"moved:     offline by {moved['set_by']}, approved by {moved['approved_by']}: "
            + (moved["central_outcome"] or "not yet reported to the centre")
        )
    lines += [f"warning:   {w}" for w in status.warnings]
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
        status = station_status(store)
    if args.json:
        print_json(status.to_json())
    else:
        print(render(status))
    return 0
