"""The back office's commands of ``ektp-server``: ``process``, ``targets``, ``coverage``,
``recap`` and ``records`` (the parsers and what each prints; the work is in
server/processing and server/coverage)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from server import coverage
from server.processing.checks import FATES

COMMANDS = ("process", "targets", "coverage", "recap", "records")


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    pr = sub.add_parser("process", help="back office: open, check and count received packets")
    pr.add_argument("--once", action="store_true", help="process what is queued, then exit")
    pr.add_argument("--batch", type=int, default=64, help="packets taken at a time (default 64)")
    pr.add_argument(
        "--lease", type=float, default=120.0, help="seconds a taken batch is held (default 120)"
    )
    pr.add_argument("--json", action="store_true")

    tg = sub.add_parser("targets", help="wajib-KTP targets per wilayah")
    tsub = tg.add_subparsers(dest="targets_cmd", parser_class=parser_class, required=True)
    ti = tsub.add_parser("import", help="replace the targets with FILE.csv")
    ti.add_argument("file", metavar="FILE.csv")
    ti.add_argument("--by", help="who imports (default: the login name)")
    ti.add_argument("--json", action="store_true")
    th = tsub.add_parser("history", help="who imported targets, and when")
    th.add_argument("--json", action="store_true")

    cv = sub.add_parser("coverage", help="recorded residents against wajib KTP")
    cv.add_argument("--wilayah", help="wilayah code (default: the whole country)")
    cv.add_argument("--depth", type=int, default=1, choices=(1, 2))
    cv.add_argument("--json", action="store_true")

    rc = sub.add_parser("recap", help="a day's figures per kecamatan, kit, operator and desa")
    rc.add_argument("--date", required=True, help="YYYY-MM-DD (WIB)")
    rc.add_argument("--kecamatan", help="only this kecamatan (the kits' assignment)")
    fmt = rc.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")

    rd = sub.add_parser("records", help="the fates of processed packets (no personal data)")
    rd.add_argument("--status", choices=FATES)
    rd.add_argument("--station")
    rd.add_argument("--since", help="processed at or after this time (ISO 8601)")
    rd.add_argument("--limit", type=int)
    rd.add_argument("--json", action="store_true")


def validate(args: argparse.Namespace, home: Path) -> None:
    """Checks that need no database (bad input writes nothing)."""
    from server.cluster_key import ENV_FILE, ENV_PEM
    from server.keys import SEALING_PRIVATE

    if args.cmd == "process":
        given = args.sealing_key or os.environ.get(ENV_FILE) or os.environ.get(ENV_PEM)
        if not given and not (home / SEALING_PRIVATE).is_file():
            raise coverage.CoverageInputError(
                f"--home: no sealing private key ({SEALING_PRIVATE}) in {home}: run the "
                "processor with the server's home (it holds the key stations seal to)"
            )
        if args.batch < 1:
            raise coverage.CoverageInputError(f"--batch: must be at least 1, got {args.batch}")
        if not args.lease > 0:
            raise coverage.CoverageInputError(f"--lease: must be positive, got {args.lease}")
    if args.cmd == "targets" and args.targets_cmd == "import":
        if not Path(args.file).is_file():
            raise coverage.CoverageInputError(f"FILE: no such file: {args.file}")
        coverage.parse_targets(Path(args.file).read_bytes())
    if args.cmd == "coverage" and args.wilayah:
        coverage.wilayah(args.wilayah)
    if args.cmd == "recap":
        coverage.parse_day(args.date)  # --kecamatan: checked with every command's
    if args.cmd == "records":
        if args.since:
            coverage.parse_since(args.since)
        if args.limit is not None and args.limit < 1:
            raise coverage.CoverageInputError(f"--limit: must be at least 1, got {args.limit}")


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))


def run(args: argparse.Namespace, core: Any) -> int:
    return {
        "process": _process,
        "targets": _targets,
        "coverage": _coverage,
        "recap": _recap,
        "records": _records,
    }[args.cmd](args, core)


def _targets(args: argparse.Namespace, core: Any) -> int:
    engine = core.engine
    if args.targets_cmd == "history":
        history = coverage.target_history(engine)
        if args.json:
            _print_json({"imports": history})
        for h in history if not args.json else []:
            print(f"{h['imported_at']}  {h['imported_by']}  {h['rows']} rows  {h['file']}")
        return 0
    result = coverage.import_targets(engine, Path(args.file), args.by)
    if args.json:
        _print_json(result)
    else:
        print(
            f"{result['rows']} target row(s) imported by {result['by']} "
            f"(replacing {result['replaced']})"
        )
    return 0


def _coverage(args: argparse.Namespace, core: Any) -> int:
    doc = coverage.coverage(core.engine, args.wilayah, args.depth)
    if args.json:
        _print_json(doc)
    else:
        for fig in [doc["wilayah"], *doc["areas"]]:
            print(_coverage_line(fig))
    return 0


def _recap(args: argparse.Namespace, core: Any) -> int:
    doc = coverage.recap(core.engine, coverage.parse_day(args.date), args.kecamatan)
    if args.csv:
        sys.stdout.write(coverage.recap_csv(doc))
    elif args.json:
        _print_json(doc)
    else:
        t = doc["total"]
        print(
            f"{doc['date']}: {t['received']} received, {t['processed']} processed, "
            f"{t['duplicate']} duplicate, {t['rerecord']} re-record, {t['rejected']} rejected"
        )
        for row in doc["stations"]:
            print(f"  kit {row['kode']}: {row['received']} received, {row['processed']} ok")
    return 0


def _records(args: argparse.Namespace, core: Any) -> int:
    since = coverage.parse_since(args.since) if args.since else None
    items = coverage.list_records(core.engine, args.status, args.station, since, args.limit)
    if args.json:
        _print_json({"count": len(items), "records": items})
    else:
        for r in items:
            extra = f" of {r['duplicate_of']}" if r["duplicate_of"] else ""
            print(f"{r['uuid']}  {r['station']}  {r['fate']}{extra}  {r['reason'] or ''}")
        print(f"{len(items)} record(s)")
    return 0


def _coverage_line(fig: dict[str, Any]) -> str:
    if fig["wajib_ktp"] is None:
        return f"{fig['kode'] or '-'}  {fig['nama']}: {fig['terekam']} recorded (no target)"
    return (
        f"{fig['kode'] or '-'}  {fig['nama']}: {fig['terekam']} of {fig['wajib_ktp']} recorded "
        f"({fig['persen']} %), {fig['sisa']} remain"
    )


def _process(args: argparse.Namespace, core: Any) -> int:
    from server.processing.checks import WrongSealingKey
    from server.processing.processor import Processor

    processor = Processor(
        core.engine, core.sealing_keys, batch=args.batch, lease_s=args.lease, blobs=core.blobs
    )
    if args.once:
        try:
            done = processor.run_once()
        except WrongSealingKey as exc:
            print(f"ektp-server: {exc}", file=sys.stderr)
            return 1
        state = coverage.summary(core.engine)
        if args.json:
            _print_json({"this_run": {f: done.get(f, 0) for f in FATES}, "totals": state})
        else:
            print(
                ", ".join(f"{done.get(f, 0)} {f}" for f in FATES)
                + f"; {state['queued']} still queued"
            )
        return 0
    signal.signal(signal.SIGTERM, lambda *_: processor.stop(0))
    signal.signal(signal.SIGINT, lambda *_: processor.stop(0))
    processor.start()
    processor.wait()
    processor.stop()
    if processor.error:
        print(f"ektp-server: {processor.error}", file=sys.stderr)
        return 1
    return 0
