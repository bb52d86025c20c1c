"""A measured figure beside its baseline from the same run."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass


@dataclass
class Figure:
    bench: str
    name: str
    unit: str
    value: float
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        assert self.baseline is not None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["ratio"] = self.ratio
        return d


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def latency_figures(
    bench: str,
    what: str,
    samples: list[float],
    baseline: list[float],
    baseline_name: str,
    targets: dict[int, tuple[str, float]] | None = None,
) -> list[Figure]:
    """p99 and p50 of ``samples`` (seconds) in ms, each beside the same percentile of the
    baseline. ``targets`` maps a percentile to (target text, limit in seconds)."""
    out = []
    for q in (99, 50):
        value = percentile(samples, q)
        target, limit = (targets or {}).get(q, ("", None))
        out.append(
            Figure(
                bench,
                f"{what} p{q}",
                "ms",
                value * 1000,
                percentile(baseline, q) * 1000,
                f"{baseline_name} p{q}",
                target,
                None if limit is None else value < limit,
            )
        )
    return out
