"""The one retry schedule: exponential, capped, with jitter so that kits that failed together
do not come back together (the reconnect storm, bench/storm.py).

The sync engine's per-packet backoff, the worker's offline probes, the enrollment's retries
and a relay's pull of its upstream all take their wait from ``backoff``, each with its own
parameters.
"""

from __future__ import annotations

import random
from typing import Literal

Jitter = Literal["full", "equal", "none"]

# 2**30 times any base is beyond every cap; the clamp keeps the power a small number.
_MAX_DOUBLINGS = 30


def backoff(
    attempts: int,
    *,
    base_s: float,
    cap_s: float,
    rng: random.Random | None = None,
    jitter: Jitter = "full",
) -> float:
    """The wait after ``attempts`` failures: the ceiling ``min(cap_s, base_s * 2**attempts)``,
    drawn from ``uniform(0, ceiling)`` ("full"), ``ceiling/2 + uniform(0, ceiling/2)``
    ("equal": never sooner than half) or the ceiling itself ("none")."""
    ceiling = min(cap_s, base_s * (2 ** min(max(attempts, 0), _MAX_DOUBLINGS)))
    if jitter == "none":
        return ceiling
    draw = rng or random
    if jitter == "equal":
        return ceiling / 2 + draw.uniform(0.0, ceiling / 2)
    return draw.uniform(0.0, ceiling)
