"""SyncEngine rules: full-jitter backoff, Retry-After, persisted next attempt."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from app.store.db import open_store
from app.store.outbox import Outbox
from app.sync.engine import SyncEngine, parse_retry_after
from app.sync.station import StationSync
from tests.support.faultproxy import FaultProxy
from tests.support.server import ServerProcess
from tests.sync.helpers import provisioned_home, seal_n


def test_full_jitter_bounds_and_spread() -> None:
    engine = SyncEngine(
        Outbox.__new__(Outbox),  # not used by backoff()
        server_url="http://127.0.0.1:9",
        station_id="st-x",
        signing_key=None,  # type: ignore[arg-type]
        rng=random.Random(3),
        base_s=1.0,
        cap_s=60.0,
    )
    for attempts, ceiling in [(0, 1.0), (3, 8.0), (5, 32.0), (6, 60.0), (40, 60.0)]:
        draws = [engine.backoff(attempts) for _ in range(2000)]
        assert all(0.0 <= d <= ceiling for d in draws)
        # full jitter: spread over the whole range, not clustered at the ceiling
        assert min(draws) < 0.05 * ceiling and max(draws) > 0.95 * ceiling


def test_parse_retry_after() -> None:
    now = time.time()
    assert parse_retry_after("7", now) == 7.0
    when = datetime.fromtimestamp(now, UTC) + timedelta(seconds=30)
    assert 28 <= (parse_retry_after(format_datetime(when, usegmt=True), now) or 0) <= 31
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_retry_after_is_honoured_and_persisted(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv, FaultProxy(srv.port) as proxy:
        home = provisioned_home(tmp_path / "station", srv, url=proxy.url)
        proxy.forced = ["503"]
        proxy.retry_after = 120
        with open_store(home) as store:
            seal_n(store, 2)
            sync = StationSync(store, base_s=0.01, cap_s=0.05)
            before = time.time()
            result = sync.drain()
            assert result.error is not None and result.error.kind == "server"
            assert result.error.retry_after == 120
            # the refused record waits >= Retry-After although its own backoff is tiny; the
            # other one was already in flight (two uploads at once) and went through
            assert Outbox(store).counts()["sealed"] == 1
            nxt = Outbox(store).next_attempt_at()
            assert nxt is not None and nxt.timestamp() >= before + 119
            assert Outbox(store).due(datetime.fromtimestamp(before + 60, UTC), 10) == []
            # a (re)started worker honours the persisted time: it does not hammer the server
            seen = len(proxy.requests)
            worker = sync.worker(interval_s=0.2, min_wait_s=0.05)
            worker.start()
            time.sleep(1.5)
            assert worker.stop(timeout=10)
            assert Outbox(store).counts()["sealed"] == 1
            # Probes, the assignment pull and the kit's reports may go; no PUT of the waiting
            # record.
            asked = [line for _, line in proxy.requests[seen:]]
            assert asked and not [line for line in asked if line.startswith("PUT ")], asked
            # a technician's `sync --once` does not wait: everything goes now
            once = sync.once()
            assert once.remaining == 0 and once.uploaded == 1
