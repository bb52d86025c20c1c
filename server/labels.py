"""A packet's labels (its header's kecamatan and sealed_at) are checked, not believed.

The header is written by the station, and a thief holding a station's key can write
anything there (issue 18, item 5). So, on every path that stores a packet (the signed PUT,
a relay's upload, `import`):

- the kecamatan must be a kecamatan of the region list (400 ``bad_kecamatan``);
- ``sealed_at`` must be a time (400 ``bad_sealed_at``) and not in the future beyond the
  clock skew a station is allowed (400 ``sealed_in_future``);
- for a station this server knows, the kecamatan must be one the station had been assigned
  by then: an entry of its assignment history (``station_assignments``) that began no later
  than ``sealed_at`` (plus the skew). A station may seal with an older assignment until it
  has pulled the new one, so every earlier assignment counts, never a later one.
  Otherwise 400 ``kecamatan_not_assigned``, except for a packet sealed before the station's
  first enrollment here (a kit set up offline with ``init`` seals with the kecamatan its
  technician chose), or, on a database upgraded from schema 3, before the upgrade (its
  stations' earlier assignments are not known): that one is stored but quarantined
  (``server.quarantine``) for the office to decide, since it can be neither confirmed nor
  ruled out.

The history is written wherever a station's kecamatan is set: ``station add`` (from the
station's creation), ``station assign``, a relay's registration of its station (the
kecamatan the relay vouches for counts from the start: the kit sealed with it before the
relay reached this server), and a relay's pull of the central assignment.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from app import packet as pkt
from app import protocol
from app.protocol import Reason
from server import db

# How far a station's clock may be ahead: the same window its signed requests are allowed.
SKEW_S = protocol.MAX_CLOCK_SKEW_S
# server_meta: when a database made before schema 4 began keeping assignment histories (the
# earlier assignments of its stations are not known).
HISTORY_SINCE_KEY = "assignment_history_since"
_KECAMATAN_RE = re.compile(r"\d{2}\.\d{2}\.\d{2}")


class LabelError(Exception):
    """A label that cannot be true: ``reason`` is the error word, the message names it."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def sealed_time(header: pkt.PacketHeader) -> float:
    """The header's sealed_at as a UNIX time (a time without a zone is UTC)."""
    try:
        when = datetime.fromisoformat(header.sealed_at)
    except ValueError as exc:
        raise LabelError(
            Reason.BAD_SEALED_AT, f"packet sealed_at is not a time: {header.sealed_at!r}"
        ) from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


@functools.lru_cache(maxsize=16384)
def is_kecamatan(code: str) -> bool:
    """A kecamatan of the region list, in its dotted form (``36.03.32``)."""
    from app.domain import regions  # lazy: the region table loads on first use

    if not _KECAMATAN_RE.fullmatch(code):
        return False
    region = regions.get(code)
    return region is not None and region.level == 3


def check_plain(header: pkt.PacketHeader, now: float) -> float:
    """The checks that need no station: a real kecamatan, a plausible time. Returns the
    sealing time."""
    if not is_kecamatan(header.kecamatan):
        raise LabelError(
            Reason.BAD_KECAMATAN,
            f"packet kecamatan {header.kecamatan[:40]!r} is not a kecamatan of the region list",
        )
    sealed = sealed_time(header)
    if sealed > now + SKEW_S:
        raise LabelError(
            Reason.SEALED_IN_FUTURE,
            f"packet was sealed at {header.sealed_at}, {int(sealed - now)} s in the future of "
            "this server's clock: the station's clock was wrong when it sealed it",
        )
    return sealed


def check_station(
    conn: Connection, header: pkt.PacketHeader, station_id: str, sealed: float
) -> str | None:
    """The kecamatan against the station's assignment history at ``sealed``. None when it
    checks out, a quarantine reason when it can be neither confirmed nor ruled out (sealed
    before the station's first enrollment here); LabelError when it is false."""
    a = db.station_assignments.c
    assigned = conn.execute(
        select(func.count())
        .select_from(db.station_assignments)
        .where(
            a.station_id == station_id,
            a.kecamatan == header.kecamatan,
            a.since <= sealed + SKEW_S,
        )
    ).scalar()
    if assigned:
        return None
    k = db.station_keys.c
    first_key = conn.execute(
        select(func.min(k.added_at)).where(k.station_id == station_id)
    ).scalar()
    if first_key is not None and sealed < first_key:
        return (
            f"sealed at {header.sealed_at}, before station {station_id} was enrolled here, "
            f"with kecamatan {header.kecamatan}, which the office had not assigned it then: "
            "a kit set up offline, or a forgery"
        )
    kept_since = conn.execute(
        select(db.meta.c.value).where(db.meta.c.key == HISTORY_SINCE_KEY)
    ).scalar()
    if kept_since is not None and sealed < float(kept_since):
        return (
            f"sealed at {header.sealed_at}, before this server kept assignment histories, "
            f"with kecamatan {header.kecamatan}, which is not station {station_id}'s now: "
            "an assignment from before, or a forgery"
        )
    raise LabelError(
        Reason.KECAMATAN_NOT_ASSIGNED,
        f"packet kecamatan {header.kecamatan} was not assigned to station {station_id} when "
        f"the packet was sealed ({header.sealed_at})",
    )


def record_assignment(conn: Connection, station_id: str, kecamatan: str, since: float) -> None:
    """One entry of a station's assignment history (kept for ever, like the key history)."""
    db.insert_ignore(
        conn,
        db.station_assignments,
        {"station_id": station_id, "kecamatan": kecamatan, "since": since},
    )
