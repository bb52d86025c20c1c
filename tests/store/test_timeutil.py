"""Store timestamps: the fast formatting is the same text as strftime, and reads back."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.store.timeutil import UTCDateTime, store_time

FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _cases() -> list[datetime]:
    rng = random.Random(20261123)
    fixed = [
        datetime(2026, 11, 23, 0, 0, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1000, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(999, 6, 1, 12, 0, 0, 5, tzinfo=UTC),
        datetime(2026, 1, 1, 6, 30, tzinfo=timezone(timedelta(hours=7))),  # WIB
        datetime(2026, 1, 1, 0, 0, 1, 10, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    ]
    start = datetime(1970, 1, 1, tzinfo=UTC)
    randoms = [
        (start + timedelta(microseconds=rng.randrange(0, 2**62 // 1000))).astimezone(
            timezone(timedelta(minutes=rng.randrange(-14 * 60, 14 * 60)))
        )
        for _ in range(2000)
    ]
    return fixed + [d for d in randoms if d.astimezone(UTC).year <= 9999]


def test_store_time_is_strftime_text_and_reads_back() -> None:
    col = UTCDateTime()
    for dt in _cases():
        text = store_time(dt)
        assert text == dt.astimezone(UTC).strftime(FMT), dt
        if dt.astimezone(UTC).year >= 1000:
            assert col.process_result_value(text, None) == dt  # type: ignore[arg-type]


def test_store_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store_time(datetime(2026, 11, 23, 12, 0))  # noqa: DTZ001
