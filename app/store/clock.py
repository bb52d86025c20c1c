"""Is the station's clock plausible enough to date a seal?

Offline, nothing checks the clock: a dead CMOS battery would date every record years back,
silently. A seal is refused when the clock says a time before the program was built, or
before the station's last seal (beyond a little slack for two processes sealing at once and
NTP's small steps); a clock far ahead of the last seal is sealed with a warning (the kit may
simply have stood unused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.store.errors import StoreError
from app.store.timeutil import iso

# The date this version was built: raise it with each release. No true seal is earlier.
BUILD_DATE = datetime(2026, 12, 1, tzinfo=UTC)
SLACK = timedelta(minutes=5)
JUMP = timedelta(days=60)


class ClockImplausible(StoreError):
    """The clock cannot be right; nothing was sealed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_seal_time(now: datetime, last_sealed: datetime | None) -> str | None:
    """Raise ClockImplausible for a clock that cannot be right; a warning for one that
    jumped far ahead of the last seal; None when all is well."""
    if now < BUILD_DATE:
        raise ClockImplausible(
            f"the clock says {iso(now)}, before this program was built "
            f"({BUILD_DATE.date().isoformat()}): set the date and time (a flat CMOS battery?) "
            "before recording"
        )
    if last_sealed is not None and now < last_sealed - SLACK:
        raise ClockImplausible(
            f"the clock says {iso(now)}, before this station's last seal "
            f"({iso(last_sealed)}): set the date and time (a flat CMOS battery?) before recording"
        )
    if last_sealed is not None and now - last_sealed > JUMP:
        days = (now - last_sealed).days
        return (
            f"the clock is {days} days past this station's last seal ({iso(last_sealed)}): "
            "check the date and time"
        )
    return None
