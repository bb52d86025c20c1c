"""Falling behind: warn first, then refuse, by age and (without a mirror) by count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.store.backlog import check_backlog_policy, evaluate
from app.store.outbox import PendingStats
from app.store.settings import Settings, set_setting
from tests.support.station import StationHome

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _p(count: int, hours_old: float | None) -> PendingStats:
    oldest = None if hours_old is None else NOW - timedelta(hours=hours_old)
    return PendingStats(count, count * 50_000, oldest)


def test_levels_by_age() -> None:
    s = Settings(backlog_max_age_h=72, backlog_warn_fraction=0.75)
    assert evaluate(_p(3, 10), s, NOW).level == "ok"
    warn = evaluate(_p(3, 60), s, NOW)
    assert warn.level == "warn" and "60.0 h" in warn.messages[0]
    refuse = evaluate(_p(3, 73), s, NOW)
    assert refuse.refused and "sync or export" in refuse.messages[0]


def test_count_limit_applies_only_without_a_mirror() -> None:
    s = Settings(backlog_max_unsent=100, backlog_warn_fraction=0.5)
    assert evaluate(_p(49, 0), s, NOW).level == "ok"
    assert evaluate(_p(50, 0), s, NOW).level == "warn"
    assert evaluate(_p(100, 0), s, NOW).refused
    mirrored = Settings(backlog_max_unsent=100, mirror_dir="/media/usb")
    assert evaluate(_p(5000, 0), mirrored, NOW).level == "ok"


def test_zero_disables_a_limit() -> None:
    s = Settings(backlog_max_unsent=0, backlog_max_age_h=0)
    assert evaluate(_p(10**6, 10**4), s, NOW).level == "ok"


def test_policy_reads_the_store(station: StationHome) -> None:
    with station.open() as store:
        assert check_backlog_policy(store).level == "ok"
        set_setting(store, "backlog_max_unsent", "0", actor="central")
        assert check_backlog_policy(store).level == "ok"
