"""``ektp-server``: serve the API, and the admin commands of the central office.

Home: ``--home DIR`` before the subcommand, else EKTP_SERVER_HOME, else the platform data dir.
Database: ``--db URL`` (before the subcommand or on ``serve``), else EKTP_SERVER_DB, else the
URL the last ``serve --db`` remembered in the home, else the SQLite file in the home.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from app import packet as pkt
from app.paths import server_home
from server import blobs as blob_store
from server import cluster_key, db, kit_cli, office_cli
from server.blobs import BlobConfigError, BlobStoreError
from server.cluster_key import ClusterKeyError
from server.core import CODE_TTL_S, InputError, ServerCore, ServiceError, check_kecamatan, iso
from server.coverage import CoverageInputError
from server.keys import KeyFileError
from server.schema import NewerSchemaError
from server.web import cli as web_cli
from server.web.accounts import AccountError

DB_ENV = "EKTP_SERVER_DB"
CONFIG_FILE = "server.json"


class UsageError(Exception):
    """Bad command-line input: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ektp-server", description="e-KTP central server (or kecamatan relay)")
    p.add_argument("--home", help="server data directory")
    p.add_argument("--db", help="database URL (sqlite:///... or postgresql://...)")
    p.add_argument(
        "--sealing-key",
        action="append",
        metavar="FILE",
        help="the cluster's sealing key (PEM); again for each earlier key kept after a "
        "rotation (default: EKTP_SEALING_KEY_FILE, EKTP_SEALING_KEY, the home's)",
    )
    p.add_argument(
        "--blobs",
        metavar="s3://BUCKET[/PREFIX]",
        help="keep packet bytes in this S3 bucket (endpoint, credentials: AWS_* variables); "
        "default EKTP_BLOBS, else what the database records, else the database itself",
    )
    sub = p.add_subparsers(dest="cmd", parser_class=_Parser)

    s = sub.add_parser("serve", help="serve the HTTP API (the default)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--db", dest="serve_db", help="database URL")
    s.add_argument("--blobs", dest="serve_blobs", help="packet bytes in this S3 bucket")
    s.add_argument("--upstream", help="act as a relay forwarding to this server URL")
    s.add_argument("--upstream-timeout", type=float, default=30.0, help="relay read timeout (s)")
    s.add_argument(
        "--upstream-backoff-cap", type=float, default=60.0, help="relay retry backoff cap (s)"
    )
    s.add_argument(
        "--upstream-pull-interval",
        type=float,
        default=180.0,
        help="relay: seconds between pulls of its stations' central state (default 180)",
    )
    s.add_argument(
        "--relay-retention-days",
        type=float,
        default=30.0,
        help="relay: days a forwarded packet's payload is kept once the centre has "
        "received it (default 30)",
    )
    s.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    s.add_argument("--max-inflight", type=int, default=64, help="requests in progress per process")
    s.add_argument("--max-body", type=int, default=pkt.MAX_PACKET_BYTES, help="bytes")
    s.add_argument(
        "--process", action="store_true", help="also run a back-office processor (one machine)"
    )
    s.add_argument(
        "--body-timeout",
        type=float,
        default=20.0,
        help="a request body that pauses this long (s) is refused with 408 (default 20)",
    )
    s.add_argument(
        "--body-min-rate",
        type=float,
        default=4096.0,
        help="bytes/s a body must average beyond --body-timeout (default 4096)",
    )
    s.add_argument(
        "--uploads-per-station",
        type=int,
        default=4,
        help="packet bodies one station may send at once (default 4)",
    )
    s.add_argument(
        "--overload-retry-after",
        type=int,
        default=10,
        metavar="S",
        help="a request refused by --max-inflight is told Retry-After 1..S s, drawn anew for "
        "each (default 10)",
    )
    s.add_argument(
        "--bodies-per-address",
        type=int,
        default=8,
        help="other request bodies (enroll, vouch) one client address may send at once",
    )

    k = sub.add_parser("keys", help="sealing keys")
    ksub = k.add_subparsers(dest="keys_cmd", parser_class=_Parser, required=True)
    kp = ksub.add_parser(
        "public", help="print the key file for `ektp-station init`: sealing and signing keys (PEM)"
    )
    kp.add_argument("--out", metavar="FILE", help="write it to FILE instead (for a USB stick)")
    ksub.add_parser("fingerprint", help="the keys' fingerprints, to compare with a station's")
    kr = ksub.add_parser(
        "rotate",
        help="make a new hybrid (ML-KEM-768 + X25519) sealing key, or the key in FILE, the "
        "cluster's; the old key is kept to open what was sealed to it",
    )
    kr.add_argument("--new", metavar="FILE", dest="new_key", help="the key `keys new` wrote")
    kn = ksub.add_parser("new", help="write a fresh sealing key to FILE (0600), for a rotation")
    kn.add_argument("file", metavar="FILE")

    st = sub.add_parser("station", help="manage stations")
    ssub = st.add_subparsers(dest="station_cmd", parser_class=_Parser, required=True)
    a = ssub.add_parser("add", help="add a station; prints its one-time code (last line)")
    a.add_argument("--name", required=True)
    a.add_argument("--kecamatan", required=True)
    a.add_argument("--expires-hours", type=float, default=CODE_TTL_S / 3600)
    a.add_argument(
        "--relay",
        action="store_true",
        help="a kecamatan relay: may register (vouch for) the stations enrolled at it",
    )
    a.add_argument("--json", action="store_true")
    ls = ssub.add_parser("list", help="list stations")
    ls.add_argument("--json", action="store_true")
    r = ssub.add_parser(
        "revoke",
        help="revoke a station (its uploads are refused); a relay's stations are revoked with it",
    )
    r.add_argument("id")
    r.add_argument(
        "--since",
        help="the time of the theft (ISO 8601, e.g. 2026-12-01T08:00:00+07:00): the packets "
        "received after it are quarantined for the office to decide on",
    )
    mr = ssub.add_parser(
        "mark-relay", help="make an existing station a relay (may vouch for its stations)"
    )
    mr.add_argument("id")
    asg = ssub.add_parser("assign", help="set a station's kecamatan")
    asg.add_argument("id")
    asg.add_argument("--kecamatan", required=True)
    c = ssub.add_parser("code", help="a new one-time code for an existing station")
    c.add_argument("id")
    c.add_argument("--expires-hours", type=float, default=CODE_TTL_S / 3600)

    pk = sub.add_parser("packets", help="list received packets")
    pk.add_argument("--json", action="store_true")

    im = sub.add_parser("import", help="import a station's export directory (*.ektp)")
    im.add_argument("dir")
    im.add_argument("--json", action="store_true")

    mb = sub.add_parser(
        "migrate-blobs", help="move packet bytes from the database to the --blobs bucket"
    )
    mb.add_argument("--batch", type=int, default=100, help="packets per transaction")
    mb.add_argument("--limit", type=int, help="move at most this many, then stop")
    bl = sub.add_parser("blobs", help="the object store of packets")
    bls = bl.add_subparsers(dest="blobs_cmd", parser_class=_Parser, required=True)
    sw = bls.add_parser("sweep", help="delete objects no packet row points at")
    sw.add_argument(
        "--older-than",
        type=float,
        default=3600.0,
        metavar="S",
        help="only objects written more than S seconds ago (an upload in flight writes its "
        "object first; default 3600)",
    )

    op = sub.add_parser("open-packet", help="back office: decrypt a packet")
    op.add_argument("uuid")
    op.add_argument("--station", help="the packet's station (when several hold this uuid)")
    op.add_argument("--out", help="write the attachments into this directory")

    q = sub.add_parser("quarantine", help="packets held for the office's decision")
    qsub = q.add_subparsers(dest="quarantine_cmd", parser_class=_Parser, required=True)
    ql = qsub.add_parser("list", help="quarantined packets (--all: with the decided ones)")
    ql.add_argument("--all", action="store_true")
    ql.add_argument("--json", action="store_true")
    for word in ("release", "reject"):
        d = qsub.add_parser(
            word,
            help="count the packet after all"
            if word == "release"
            else "never count the packet (it stays stored, as evidence)",
        )
        d.add_argument("uuid")
        d.add_argument("--station", required=True, help="the packet's station id")
        d.add_argument("--by", required=True, help="who decides (kept with the decision)")

    rl = sub.add_parser("relay", help="kecamatan relay set-up")
    rsub = rl.add_subparsers(dest="relay_cmd", parser_class=_Parser, required=True)
    rp = rsub.add_parser("provision", help="enroll this server at its upstream")
    rp.add_argument("--upstream", required=True)
    rp.add_argument("--code", required=True)
    rp.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain http:// to an upstream outside the private LAN",
    )
    rp.add_argument(
        "--ca-file",
        metavar="FILE",
        help="trust only this certificate (PEM) for the upstream's https",
    )
    rs = rsub.add_parser("status", help="forwarding state")
    rs.add_argument("--json", action="store_true")
    rq = rsub.add_parser("requeue", help="put held packets back in the forwarding queue")
    rq.add_argument("--station", help="only this station's packets")
    office_cli.add_parsers(sub, _Parser)
    kit_cli.add_parsers(sub, _Parser)
    web_cli.add_parsers(sub, _Parser)
    return p


def _config(home: Path) -> dict[str, Any]:
    try:
        data = json.loads((home / CONFIG_FILE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember_db(home: Path, url: str) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = home / CONFIG_FILE
    cfg = _config(home)
    cfg["db"] = url
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(cfg, f)


def _db_url(args: argparse.Namespace, home: Path) -> str | None:
    url = getattr(args, "serve_db", None) or args.db or os.environ.get(DB_ENV)
    if url:
        return db.normalize_url(url)
    remembered = _config(home).get("db")
    return str(remembered) if remembered else None


def _fail(message: str, code: int = 2) -> int:
    print(f"ektp-server: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from app.sync.tls import use_system_trust_store

    use_system_trust_store()  # a relay's https to its upstream checks the system's certificates
    try:
        args = _parser().parse_args(argv)
        if args.cmd is None:  # no subcommand: serve on the defaults
            args = _parser().parse_args([*argv, "serve"])
    except UsageError as exc:
        return _fail(str(exc))
    home = server_home(args.home)
    cmd = args.cmd
    try:
        url = _db_url(args, home)
        _validate(args, home)
        if cmd == "serve":
            return _serve(args, home, url)
        if cmd == "keys" and args.keys_cmd == "new":
            return _new_key(Path(args.file))
        core = ServerCore(home, url, sealing_keys=args.sealing_key, blobs=_blobs(args))
        try:
            if cmd in office_cli.COMMANDS:
                return office_cli.run(args, core)
            if cmd in kit_cli.COMMANDS:
                return kit_cli.run(args, core)
            if cmd == "admin":
                return web_cli.run(args, core)
            return _admin(cmd, args, core)
        finally:
            core.close()
    except (InputError, db.DatabaseURLError, UsageError, CoverageInputError, AccountError) as exc:
        return _fail(str(exc))
    except (ClusterKeyError, KeyFileError, BlobConfigError) as exc:
        return _fail(str(exc))
    except BlobStoreError as exc:
        return _fail(str(exc), 1)
    except ServiceError as exc:
        return _fail(exc.message, 1)
    except NewerSchemaError as exc:
        return _fail(str(exc), 1)
    except pkt.PacketError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback: one line, and 1 (machine) or 70 (bug)
        code, message = _explain(exc)
        if os.environ.get("EKTP_DEBUG"):
            import traceback

            traceback.print_exc()
        return _fail(message, code)


def _explain(exc: BaseException) -> tuple[int, str]:
    """Exit code and one line for an error no command handled."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return 1, f"database: {type(exc.orig).__name__}: {first}"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return 1, f"{exc.strerror or exc}{where}"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return 70, f"internal error, please report it: {type(exc).__name__}: {first}"


def _validate(args: argparse.Namespace, home: Path) -> None:
    """Checks that need no database, so bad input writes nothing (not even a new home)."""
    if home.exists() and not home.is_dir():
        raise InputError(f"--home: {home} is not a directory")
    out = getattr(args, "out", None)
    if out is not None and Path(out).exists():
        if not Path(out).is_dir():
            raise InputError(f"--out: {out} is not a directory")
        mode = Path(out).stat().st_mode & 0o777
        if mode & 0o077:
            # Decrypted personal data: never into a folder other users can read.
            raise InputError(
                f"--out: {out} can be read by other users (mode {mode:04o}): give a new "
                "folder (it is made 0700) or `chmod 700` this one"
            )
    if getattr(args, "kecamatan", None) is not None:
        args.kecamatan = check_kecamatan(args.kecamatan)
    if getattr(args, "since", None) is not None:
        since = _since(args.since)
        # The time of a theft cannot lie ahead; a filter's --since may (it finds nothing).
        if args.cmd == "station" and since is not None and since > time.time():
            raise InputError("--since: the time is in the future")
    if args.cmd == "station" and args.station_cmd == "add" and not args.name.strip():
        raise InputError("--name: give the station a name (1-200 characters)")
    if args.cmd == "import" and not Path(args.dir).is_dir():
        raise InputError(f"DIR: not a directory: {args.dir}")
    if args.cmd == "serve" and not (0 < args.port < 65536):
        raise InputError(f"--port: {args.port} is not a TCP port")
    if args.cmd == "serve" and args.overload_retry_after < 1:
        raise InputError("--overload-retry-after: must be at least 1")
    if args.cmd == "serve" and args.max_inflight < 1:
        # 0 would answer every request but /health with 503, for ever.
        raise InputError(f"--max-inflight: must be at least 1, got {args.max_inflight}")
    if args.cmd == "serve":
        for name in ("body_timeout", "body_min_rate"):
            value = getattr(args, name)
            if not (math.isfinite(value) and value > 0):
                flag = "--" + name.replace("_", "-")
                raise InputError(f"{flag}: must be a positive number, got {value:g}")
        for name in ("uploads_per_station", "bodies_per_address"):
            if getattr(args, name) < 1:
                flag = "--" + name.replace("_", "-")
                raise InputError(f"{flag}: must be at least 1, got {getattr(args, name)}")
    if args.cmd == "serve" and args.max_body <= 0:
        raise InputError(f"--max-body: must be a positive number of bytes, got {args.max_body}")
    if args.cmd == "serve" and not (
        math.isfinite(args.upstream_pull_interval) and args.upstream_pull_interval > 0
    ):
        raise InputError(
            f"--upstream-pull-interval: must be a positive number of seconds, "
            f"got {args.upstream_pull_interval:g}"
        )
    if args.cmd == "serve":
        from server.relay_fates import check_retention

        check_retention(args.relay_retention_days)
        _check_listen(args.host, args.port)
    hours = getattr(args, "expires_hours", None)
    if hours is not None and not (math.isfinite(hours) and hours > 0):
        raise InputError("--expires-hours: must be positive")
    upstream = getattr(args, "upstream", None)
    if upstream is not None and not upstream.startswith(("http://", "https://")):
        raise InputError(f"--upstream: expected an http(s) URL, got {upstream!r}")
    if args.cmd == "serve" and args.process and upstream:
        raise InputError("--process: a relay forwards its packets upstream, it does not process")
    office_cli.validate(args, home)
    kit_cli.validate(args)
    web_cli.validate(args)


def _check_listen(host: str, port: int) -> None:
    """Bind the address once and let it go: a busy port becomes one line naming it, before
    anything is written (uvicorn would log its own error and exit 3)."""
    import errno
    import socket

    try:
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"--host: cannot resolve {host!r}") from exc
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    f"--port: port {port} on {host} is already in use (another server?): "
                    "stop it or choose another --port"
                ) from exc
            if exc.errno == errno.EACCES:
                raise InputError(f"--port: port {port} needs administrator rights") from exc
            raise InputError(f"--host: cannot listen on {host}:{port} ({exc.strerror})") from exc


def _new_key(path: Path) -> int:
    if path.exists():
        raise InputError(f"FILE: {path} exists (a key is never overwritten)")
    print(cluster_key.write_new_key(path))
    return 0


def _rotate(core: ServerCore, path: Path | None) -> int:
    """``keys rotate [--new FILE]``: FILE's key, or a fresh hybrid one, becomes the cluster's;
    the old one is kept to open what was, and still is, sealed to it."""
    if core.meta_get("upstream_sealing_key"):
        raise InputError(
            "keys rotate: this server is a relay: its stations seal to the central server's "
            "key; rotate it there, then run `relay provision` here again"
        )
    if path is None:
        if not core.keyring.in_home:
            raise InputError(
                "--new: this host's keys come from --sealing-key or the environment; make one "
                "with `keys new FILE`, then `keys rotate --new FILE`"
            )
        new: pkt.SealingPrivateKey = pkt.HybridPrivateKey.generate()
    else:
        new = (cluster_key.given_keys([path]) or [])[0]
    old = core.keyring.current
    new_id = cluster_key.rotate(core.engine, core.home, core.keyring, new)
    print(
        f"sealing key {pkt.key_id(old.public_key())} ({pkt.suite_of(old)}) retired: kept "
        "to open what was sealed to it"
    )
    print(
        f"the cluster's sealing key is now {new_id} ({pkt.suite_of(new)}): stations move to it "
        "at their next sync; restart the server's processes to use it"
    )
    where = "this home's sealing_key.pem" if core.keyring.in_home else f"--sealing-key {path}"
    print(
        f"with several hosts: give each the new key first ({where}) and keep the old one "
        "after it; a host holding only the old key refuses to start"
    )
    return 0


def _blobs(args: argparse.Namespace) -> str | None:
    return getattr(args, "serve_blobs", None) or args.blobs


def _migrate_blobs(args: argparse.Namespace, core: ServerCore) -> int:
    if args.batch < 1 or (args.limit is not None and args.limit < 1):
        raise InputError("--batch/--limit: must be at least 1")
    if not isinstance(core.blobs, blob_store.S3Store):
        raise InputError("--blobs: give the bucket to move the packets to (s3://BUCKET[/PREFIX])")
    moved = blob_store.migrate(core.engine, core.blobs, args.batch, args.limit)
    left = blob_store.in_database(core.engine)
    print(f"moved {moved} packet(s) to {core.blobs.url}; {left} still in the database")
    return 0


def _sweep(args: argparse.Namespace, core: ServerCore) -> int:
    if not isinstance(core.blobs, blob_store.S3Store):
        raise InputError("--blobs: this database keeps its packets itself; nothing to sweep")
    if args.older_than < 0:
        raise InputError("--older-than: must not be negative")
    deleted = blob_store.sweep(core.engine, core.blobs, args.older_than)
    print(f"deleted {deleted} orphan object(s) from {core.blobs.url}")
    return 0


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))


def _admin(cmd: str, args: argparse.Namespace, core: ServerCore) -> int:
    if cmd == "keys":
        signing = core.signing_key.public_key()
        if args.keys_cmd == "rotate":
            return _rotate(core, Path(args.new_key) if args.new_key else None)
        if args.keys_cmd == "fingerprint":
            sealing = core.sealing_public_key()
            print(f"sealing {pkt.fingerprint(sealing)} ({pkt.suite_of(sealing)})")
            print(f"signing {pkt.fingerprint(signing)}")
            return 0
        key_file = pkt.server_key_file(core.sealing_public_key(), signing)
        if args.out:
            try:
                Path(args.out).write_bytes(key_file)  # public keys: no secret in it
            except OSError as exc:
                raise InputError(f"--out: cannot write {args.out} ({exc.strerror})") from exc
            print(f"wrote {args.out}: give it to `ektp-station init --server-key`")
            return 0
        sys.stdout.write(key_file.decode())
        return 0
    if cmd == "station":
        return _station(args, core)
    if cmd == "packets":
        items = core.list_packets()
        if args.json:
            _print_json({"count": len(items), "packets": items})
        else:
            for p in items:
                print(f"{p['uuid']}  {p['station']}  {p['kecamatan']}  {p['received_at']}")
            print(f"{len(items)} packet(s)")
        return 0
    if cmd == "migrate-blobs":
        return _migrate_blobs(args, core)
    if cmd == "blobs":
        return _sweep(args, core)
    if cmd == "import":
        directory = Path(args.dir)
        if not directory.is_dir():
            raise InputError(f"DIR: not a directory: {args.dir}")
        result = core.import_dir(directory)
        if args.json:
            _print_json(result)
        else:
            print(
                f"{result['files']} file(s): {result['imported']} imported, "
                f"{result['duplicates']} already held, {len(result['rejected'])} rejected"
                + (
                    f", {result['unverified']} from unknown stations"
                    if result["unverified"]
                    else ""
                )
            )
            for r in result["rejected"]:
                print(f"rejected {r['file']}: {r['reason']}", file=sys.stderr)
        return 1 if result["rejected"] else 0
    if cmd == "quarantine":
        return _quarantine(args, core)
    if cmd == "open-packet":
        opened = core.open_packet(args.uuid, args.station)
        if args.out:
            out = Path(args.out)
            out.mkdir(mode=0o700, parents=True, exist_ok=True)
            for att in opened.attachments.values():
                _write_private(out / Path(att.name).name, att.data)
        _print_json(opened.manifest)
        return 0
    if cmd == "relay":
        return _relay(args, core)
    raise UsageError(f"unknown command {cmd}")


def _since(value: str | None) -> float | None:
    """``--since``: an ISO 8601 time; without a zone it is UTC."""
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(
            f"--since: expected a time like 2026-12-01T08:00:00+07:00, got {value!r}"
        ) from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _quarantine(args: argparse.Namespace, core: ServerCore) -> int:
    from server import quarantine

    if args.quarantine_cmd == "list":
        items = quarantine.listed(core.engine, None if args.all else quarantine.QUARANTINED)
        if args.json:
            _print_json({"count": len(items), "packets": items})
        else:
            for p in items:
                print(
                    f"{p['uuid']}  {p['station']}  {p['kecamatan']}  received {p['received_at']}"
                    f"  {p['review']}: {p['review_reason']}"
                    + (
                        f" (by {p['reviewed_by']} at {p['reviewed_at']})"
                        if p["reviewed_by"]
                        else ""
                    )
                )
            print(f"{len(items)} packet(s)")
        return 0
    decision = quarantine.RELEASED if args.quarantine_cmd == "release" else quarantine.REJECTED
    try:
        doc = quarantine.decide(core.engine, args.station, args.uuid, decision, args.by)
    except quarantine.DecisionError as exc:
        raise InputError(str(exc)) from exc
    print(f"packet {doc['uuid']} of station {doc['station']} {decision} by {doc['reviewed_by']}")
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """A decrypted file, mode 0600 (also when it replaces an older one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(data)


def _station(args: argparse.Namespace, core: ServerCore) -> int:
    sc = args.station_cmd
    if sc == "add":
        st, code = core.add_station(
            args.name, args.kecamatan, args.expires_hours * 3600, relay=args.relay
        )
        if args.json:
            doc = st.as_json()
            doc["code"] = code
            _print_json(doc)
        else:
            kind = "relay" if st.is_relay else "station"
            print(f"{kind} {st.id} ({st.name}, kecamatan {st.kecamatan}) added")
            print(f"one-time enrollment code (expires in {args.expires_hours:g} h):")
            print(code)
        return 0
    if sc == "list":
        from server.health import station_health

        reports = station_health(core.engine)
        # Each kit's latest health report (null: never reported), server/health.py.
        stations = [{**s.as_json(), "health": reports.get(s.id)} for s in core.list_stations()]
        if args.json:
            _print_json({"count": len(stations), "stations": stations})
        else:
            for s in stations:
                seen = (s["health"] or {}).get("last_seen") or "never seen"
                print(
                    f"{s['station_id']}  {s['kecamatan']}  {s['state']:<20}  {s['name']}  ({seen})"
                )
        return 0
    if sc == "revoke":
        st, cascaded, held = core.revoke(args.id, _since(args.since))
        print(f"station {st.id} revoked at {iso(st.row['revoked_at'])}")
        for sid in cascaded:
            print(f"station {sid} revoked with its relay")
        if args.since is not None:
            print(
                f"{held} packet(s) received since {iso(_since(args.since))} quarantined: "
                "`ektp-server quarantine list`"
            )
        return 0
    if sc == "mark-relay":
        st = core.mark_relay(args.id)
        print(f"station {st.id} ({st.name}) is a relay")
        return 0
    if sc == "assign":
        st = core.assign(args.id, args.kecamatan)
        print(f"station {st.id} assigned to kecamatan {st.kecamatan}")
        return 0
    if sc == "code":
        print(core.new_code_for(args.id, args.expires_hours * 3600))
        return 0
    raise UsageError(f"unknown station command {sc}")


def _relay(args: argparse.Namespace, core: ServerCore) -> int:
    from app.sync.provision import ProvisionError
    from server.relay import provision
    from server.relay_fates import status as relay_fates_status
    from server.relay_outbox import RelayOutbox
    from server.relay_pull import pull_status

    if args.relay_cmd == "provision":
        try:
            result = provision(
                core,
                args.upstream,
                args.code,
                allow_insecure_http=args.insecure_http,
                ca_file=Path(args.ca_file) if args.ca_file else None,
            )
        except ProvisionError as exc:
            return _fail(str(exc), 1)
        print(
            f"relay enrolled at {result['upstream']} as station {result['relay_station_id']}; "
            f"stations here now seal to key {result['sealing_key_id']}"
        )
        return 0
    outbox = RelayOutbox(core)
    if args.relay_cmd == "requeue":
        print(f"{outbox.release_held(args.station)} held packet(s) back in the queue")
        return 0
    doc = {
        "upstream": core.meta_get("upstream_url"),
        "relay_station_id": core.meta_get("upstream_station_id"),
        "forward": outbox.counts(),
        # Packets the upstream refused for their station, with the reason.
        "held": outbox.held(),
        # Stations not (yet) registered upstream, with the upstream's refusal if any.
        "unregistered_stations": [
            {"station_id": st.id, "name": st.name, "error": st.row["upstream_error"]}
            for st in core.list_stations()
            if st.public_key and st.row["upstream_registered_at"] is None
        ],
        # The last pull of the central state of this relay's stations (assignments,
        # revocations), its last failure, and stations the upstream does not list as ours.
        "pull": pull_status(core),
        "fates": relay_fates_status(core),
    }
    if args.json:
        _print_json(doc)
    else:
        _print_relay_status(doc)
    return 0


def _print_relay_status(doc: dict[str, Any]) -> None:
    if not doc["upstream"]:
        print("not a relay: run `ektp-server relay provision --upstream URL --code CODE`")
        return
    print(f"upstream: {doc['upstream']} (this relay is station {doc['relay_station_id']})")
    forward = ", ".join(f"{n} {status}" for status, n in sorted(doc["forward"].items()))
    print(f"packets: {forward or 'none yet'}")
    pull = doc["pull"]
    print(f"last pull of the station state: {pull['last_success_at'] or 'never'}")
    if pull["error"]:
        print(f"last pull failed at {pull['error_at']}: {pull['error']}")
    for sid in pull["unlisted_stations"]:
        print(f"station {sid}: the upstream does not list it as this relay's (left as it is)")
    fates = doc["fates"]
    held = ", ".join(f"{n} {f}" for f, n in fates["held"].items() if n)
    print(
        f"fates kept for the kits: {held or 'none yet'} (last pull {fates['last_pull_at'] or 'never'})"
    )
    if fates["refused"]:
        print(f"fates refused: {fates['refused']}")
    print(f"payloads purged (the centre holds them): {fates['purged_payloads']}")
    for h in doc["held"]:
        print(f"held {h['uuid']} (station {h['station']}): {h['reason']}")
    for u in doc["unregistered_stations"]:
        print(f"not registered upstream: {u['station_id']} ({u['name']}): {u['error'] or '-'}")


def _child(sock: Any, home: Path, url: str | None, args: argparse.Namespace, relay: bool) -> None:
    import signal

    import uvicorn

    from server.api import create_app

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    core = ServerCore(
        home, url, max_body=args.max_body, sealing_keys=args.sealing_key, blobs=_blobs(args)
    )
    app = create_app(
        core,
        max_inflight=args.max_inflight,
        relay_mode=relay,
        limits=_body_limits(args),
        retry_after_max_s=args.overload_retry_after,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])


def _body_limits(args: argparse.Namespace) -> Any:
    from server.bodies import BodyLimits

    return BodyLimits(
        max_body=args.max_body,
        idle_timeout_s=args.body_timeout,
        min_rate=args.body_min_rate,
        uploads_per_station=args.uploads_per_station,
        bodies_per_address=args.bodies_per_address,
    )


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when the parent dies (even by kill -9)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _serve_processes(
    args: argparse.Namespace, home: Path, url: str | None, relay: bool, forwarder: Any
) -> None:
    """N forked uvicorn processes accepting on one listening socket.

    The socket is made with an explicit IPPROTO_TCP: asyncio enables TCP_NODELAY on accepted
    connections only when the listener's proto says TCP (uvicorn's own --workers socket does
    not, and every reply then waits ~40 ms for a delayed ACK).
    """
    import multiprocessing
    import signal
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_child, args=(sock, home, url, args, relay), daemon=False)
        for _ in range(args.workers)
    ]
    for p in procs:
        p.start()
    if forwarder:
        forwarder.start()

    def _stop(_sig: int, _frame: Any) -> None:
        for p in procs:
            if p.is_alive() and p.pid:
                os.kill(p.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for p in procs:
        p.join()
    sock.close()


class _Background:
    """The relay forwarder and/or the processor, started and stopped together."""

    def __init__(self, *parts: Any) -> None:
        self.parts = [p for p in parts if p is not None]
        self.wake = getattr(self.parts[0], "wake", lambda: None)

    def start(self) -> None:
        for p in self.parts:
            p.start()

    def stop(self) -> None:
        for p in self.parts:
            p.stop()


def _with_processor(core: ServerCore, forwarder: Any) -> _Background:
    from server.processing.processor import Processor

    return _Background(forwarder, Processor(core.engine, core.sealing_keys, blobs=core.blobs))


def _serve(args: argparse.Namespace, home: Path, url: str | None) -> int:
    import uvicorn

    from server.api import create_app

    if not (0 < args.port < 65536):
        raise InputError(f"--port: {args.port} is not a TCP port")
    if args.workers < 1:
        raise InputError("--workers: must be at least 1")
    if getattr(args, "serve_db", None) and url:
        _remember_db(home, url)
    core = ServerCore(
        home, url, max_body=args.max_body, sealing_keys=args.sealing_key, blobs=_blobs(args)
    )
    forwarder: Any = None
    if args.upstream:
        from server.relay import RelayForwarder

        if not args.upstream.startswith(("http://", "https://")):
            raise InputError(f"--upstream: expected an http(s) URL, got {args.upstream!r}")
        if args.upstream_timeout <= 0 or args.upstream_backoff_cap <= 0:
            raise InputError("--upstream-timeout/--upstream-backoff-cap: must be positive")
        forwarder = RelayForwarder(
            core,
            args.upstream,
            timeout=(min(5.0, args.upstream_timeout), args.upstream_timeout),
            cap_s=args.upstream_backoff_cap,
            pull_interval_s=args.upstream_pull_interval,
            retention_days=args.relay_retention_days,
        )
    relay_mode = forwarder is not None or core.meta_get("upstream_url") is not None
    if relay_mode and core.blobs.external:
        raise InputError("--blobs: a relay keeps its packets in its own database")
    core.blobs.check()  # a wrong bucket, endpoint or credentials: said at once, in one line
    if args.process:
        if relay_mode:
            raise InputError("--process: this server is a relay; the central server processes")
        forwarder = _with_processor(core, forwarder)
    try:
        if args.workers == 1:
            app = create_app(
                core,
                max_inflight=args.max_inflight,
                retry_after_max_s=args.overload_retry_after,
                relay_mode=relay_mode,
                on_stored=forwarder.wake if forwarder else None,
                limits=_body_limits(args),
            )
            if forwarder:
                forwarder.start()
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
        else:
            core.engine.dispose()  # no pooled connection may cross the fork
            _serve_processes(args, home, url, relay_mode, forwarder)
    finally:
        if forwarder:
            forwarder.stop()
        core.close()
    return 0
