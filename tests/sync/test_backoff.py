"""The one retry schedule (app/sync/backoff.py) that the engine, the worker, enrollment and a
relay's pull share (issue 16): each jitter within its bounds, the cap holding."""

from __future__ import annotations

import math
import random

from app.sync.backoff import backoff


def test_each_jitter_within_its_bounds_and_the_cap() -> None:
    rng = random.Random(7)
    for attempts in range(0, 40):
        ceiling = min(60.0, 0.5 * 2 ** min(attempts, 30))
        full = [backoff(attempts, base_s=0.5, cap_s=60.0, rng=rng) for _ in range(50)]
        equal = [
            backoff(attempts, base_s=0.5, cap_s=60.0, rng=rng, jitter="equal") for _ in range(50)
        ]
        assert all(0.0 <= w <= ceiling for w in full)
        assert all(ceiling / 2 <= w <= ceiling for w in equal)
        assert backoff(attempts, base_s=0.5, cap_s=60.0, jitter="none") == ceiling
    # enrollment's retries: doubling, no cap, no jitter
    assert [backoff(n, base_s=1.5, cap_s=math.inf, jitter="none") for n in range(4)] == [
        1.5,
        3.0,
        6.0,
        12.0,
    ]


def test_same_seed_same_schedule() -> None:
    """The engine's draws are reproducible from its rng (bench/storm.py replays kits)."""
    a = [backoff(n, base_s=1.0, cap_s=300.0, rng=random.Random(3)) for n in range(10)]
    b = [backoff(n, base_s=1.0, cap_s=300.0, rng=random.Random(3)) for n in range(10)]
    assert a == b
