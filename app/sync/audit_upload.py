"""The kit's audit events go to the centre, in order (issue 12).

``upload`` sends the events after the last one the centre acknowledged, in pages that fit
the server's small-body limit (``POST /api/v1/station/audit``, signed). The server keeps a
page only if it continues the chain it holds (server/audit_log.py) and answers with the last
event it holds; the station stores that acknowledgement (app/store/central.py), which
``doctor`` compares with the local chain. A refusal (the local chain no longer continues the
one the centre holds) raises SyncError: nothing is marked, and ``doctor`` says why.
"""

from __future__ import annotations

import json
from typing import Any

from app import protocol
from app.store.central import audit_ack, events_after, set_audit_ack
from app.sync.engine import SyncError

AUDIT_PATH = protocol.API_PREFIX + "/station/audit"
PAGE_EVENTS = 200
PAGE_BYTES = 48 * 1024  # under the server's 64 KiB limit for a small body
MAX_PAGES = 50  # per call: a kit with a long history catches up over a few pulls


def _page(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    size = 16
    for ev in events:
        size += len(json.dumps(ev, ensure_ascii=False).encode()) + 1
        if out and size > PAGE_BYTES:
            break
        out.append(ev)
    return out


def upload(sync: Any) -> int:
    """Send the unacknowledged events; returns how many the centre stored."""
    sync.ensure_server_key()
    stored = 0
    for _ in range(MAX_PAGES):
        ack = audit_ack(sync.store)
        after = ack.event_id if ack is not None else 0
        events = _page(events_after(sync.store, after, PAGE_EVENTS))
        if not events:
            break
        answer = sync.engine.signed_json("POST", AUDIT_PATH, {"events": events})
        try:
            acked_seq = int(answer["acked_seq"])
            acked_hash = str(answer["acked_hash"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SyncError("server", "audit answer without acked_seq / acked_hash") from exc
        if acked_seq < events[-1]["seq"]:
            raise SyncError("server", f"the centre acknowledged only up to event {acked_seq}")
        set_audit_ack(sync.store, acked_seq, acked_hash)
        stored += int(answer.get("stored") or 0)
    return stored
