"""The one benchmark runner: ``python bench/run.py [--only NAME] [--quick] [--out FILE]``.

Every module ``bench/bench_*.py`` defines ``run(quick: bool) -> list[Figure]``. Each figure is
measured in the same run as its baseline, so the ratio means something on any machine. The
runner prints a table and writes all figures, with the machine they came from, as JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.figures import Figure  # noqa: E402


def machine() -> dict[str, object]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"


def table(figures: list[Figure]) -> str:
    head = ("benchmark", "figure", "value", "baseline", "ratio", "target", "ok")
    rows = [head]
    for f in figures:
        rows.append(
            (
                f.bench,
                f"{f.name} ({f.unit})",
                _fmt(f.value),
                f"{_fmt(f.baseline)} {f.baseline_name}".strip() if f.baseline is not None else "-",
                _fmt(f.ratio),
                f.target or "-",
                {True: "yes", False: "NO", None: "-"}[f.ok],
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", action="append", help="run only bench_NAME (repeatable)")
    p.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    p.add_argument("--out", default=str(HERE / "results.json"))
    args = p.parse_args(argv)
    names = sorted(m.stem[len("bench_") :] for m in HERE.glob("bench_*.py"))
    if args.only:
        names = [n for n in names if n in args.only]
    figures: list[Figure] = []
    details: dict[str, object] = {}
    for name in names:
        mod = importlib.import_module(f"bench.bench_{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        figures.extend(mod.run(args.quick))
        # A benchmark may add named fields of its own (bench_storm: "storm": {"kits", ...}).
        if getattr(mod, "RESULTS", None):
            details[name] = mod.RESULTS
    print(table(figures))
    out = {"machine": machine(), "figures": [f.as_dict() for f in figures], **details}
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
