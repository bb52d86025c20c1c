"""Fates back from the centre: the wire format of ``GET /api/v1/station/fates``, shared by
the server (server/station_fates.py), the relay (server/relay_fates.py) and the station
(app/sync/pull.py, app/store/fates.py).

The server answers ``{"station", "after", "fates": [{seq, uuid, fate, reason, at,
duplicate_of?}], "last_seq"}`` for the signing station, seq 1, 2, 3, ... with no gap. The
query (``after``, ``limit``) is part of the signed request path, and the answer echoes
``station`` and ``after`` under the server's signature: a page answered for another
question is refused. ``parse_page`` checks a page whole; anything wrong refuses all of it
(``FatePageError``), so nothing is ever half applied. The relay keeps its kits' fates with
the same checks (server/station_fates.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from app import protocol

FATES_PATH = protocol.API_PREFIX + "/station/fates"
RECEIVED = "received"
TERMINAL = ("processed", "duplicate", "rerecord", "rejected")
FATES = (RECEIVED, *TERMINAL)
# Fates that ask something of the kecamatan office (``fates --needs-action``).
NEEDS_ACTION = ("rerecord", "rejected")
PAGE = 500
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_REASON = re.compile(r"^[a-z0-9_:.-]{1,64}$")


class FatePageError(ValueError):
    """A page of fates that cannot be applied whole: refused, nothing applied."""


@dataclass(frozen=True)
class FateEntry:
    seq: int
    uuid: str
    fate: str
    reason: str | None
    at: datetime
    duplicate_of: str | None


def fates_path(after: int, limit: int = PAGE, station: str | None = None) -> str:
    """The signed path of one page (the query is signed with it)."""
    query: dict[str, Any] = {"after": after, "limit": limit}
    if station is not None:  # a relay asking for one of its kits
        query["station"] = station
    return f"{FATES_PATH}?{urlencode(query)}"


def parse_page(doc: Any, station_id: str, after: int) -> list[dict[str, Any]]:
    """The entries of a page, checked whole (see the module doc); FatePageError names the
    first thing wrong."""
    if not isinstance(doc, dict):
        raise FatePageError("the fates answer is not a JSON object")
    if doc.get("station") != station_id:
        raise FatePageError(f"the fates answer is for station {doc.get('station')!r}")
    if doc.get("after") != after:
        raise FatePageError(f"the fates answer continues {doc.get('after')!r}, not {after}")
    entries = doc.get("fates")
    top = doc.get("last_seq")
    if not isinstance(entries, list) or not isinstance(top, int) or isinstance(top, bool):
        raise FatePageError("the fates answer has no 'fates' list or 'last_seq'")
    expected = after + 1
    for e in entries:
        entry_of(e, expected)
        expected += 1
    if top < expected - 1:
        raise FatePageError(f"last_seq {top} is below the page's last fate {expected - 1}")
    return list(entries)


def entry_of(e: Any, expected: int) -> FateEntry:
    """One entry, checked: FatePageError unless it is well formed with seq ``expected``."""
    if not isinstance(e, dict):
        raise FatePageError(f"fate {expected}: not a JSON object")
    seq = e.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq != expected:
        raise FatePageError(f"fate sequence gap: expected seq {expected}, got {seq!r}")
    uuid, fate, reason, dup = e.get("uuid"), e.get("fate"), e.get("reason"), e.get("duplicate_of")
    if not isinstance(uuid, str) or not _UUID.match(uuid):
        raise FatePageError(f"fate {seq}: uuid {uuid!r} is not a record uuid")
    if fate not in FATES:
        raise FatePageError(f"fate {seq}: unknown fate {fate!r}")
    if reason is not None and (not isinstance(reason, str) or not _REASON.match(reason)):
        raise FatePageError(f"fate {seq}: reason {reason!r} is not a reason code")
    if dup is not None and (
        fate != "duplicate" or not isinstance(dup, str) or not _UUID.match(dup)
    ):
        raise FatePageError(f"fate {seq}: duplicate_of {dup!r} is not a duplicate's record uuid")
    try:
        at = datetime.fromisoformat(str(e.get("at")))
    except ValueError as exc:
        raise FatePageError(f"fate {seq}: 'at' {e.get('at')!r} is not a time") from exc
    if at.tzinfo is None:
        raise FatePageError(f"fate {seq}: 'at' {e.get('at')!r} has no time zone")
    return FateEntry(seq, uuid, str(fate), reason, at, dup)
