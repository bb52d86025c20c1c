"""UTC timestamps as the store keeps them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z, as in packet headers."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def store_time(dt: datetime) -> str:
    """A timestamp as ``UTCDateTime`` stores it (for raw SQL on the seal path)."""
    if dt.tzinfo is None:
        raise ValueError("store timestamps must be timezone-aware datetimes")
    utc = dt.astimezone(UTC)
    if utc.year < 1000:  # strftime's %Y does not zero-pad these; isoformat would
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" -> "...ffffffZ": the same text as
    # strftime("%Y-%m-%dT%H:%M:%S.%fZ") at a third of its cost (it runs twice per seal).
    return utc.isoformat(timespec="microseconds")[:26] + "Z"


def parse_store_time(text: str) -> datetime:
    """A timestamp stored by ``UTCDateTime`` (ValueError when the text is not one)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes stored as fixed-width ISO text, so text order is time order."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValueError("store timestamps must be timezone-aware datetimes")
        return store_time(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return parse_store_time(value)
