"""``doctor [--json]``: is this station healthy? DB, disk, mirror, devices, server.

Other areas add checks by appending a function to ``CHECKS``: it takes the open store (or
None when the home has no database) and returns a list of ``Check``. The capture area's
``app.capture.diagnostics.device_report()`` is embedded as the ``camera`` and ``reader``
checks (their ``details`` hold the device report).
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from app import packet as pkt
from app.commands.context import home_of, print_json
from app.store.audit import verify_chain
from app.store.central import check_ack
from app.store.db import DB_NAME, SCHEMA_HEAD, Store, current_revision, open_store
from app.store.errors import StoreError, classify
from app.store.keystore import KeyMaterialMissing
from app.store.mirror import check_mirror
from app.store.reconcile import reconcile_mirror
from app.store.settings import load_settings
from app.store.station import get_identity

DISK_WARN_BYTES = 1024 * 1024 * 1024
DISK_FAIL_BYTES = 100 * 1024 * 1024


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    message: str
    details: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[Store | None, argparse.Namespace], list[Check]]


def check_database(store: Store | None, args: argparse.Namespace) -> list[Check]:
    if store is None:
        return [Check("database", "fail", f"no database under {home_of(args)}: run `init`")]
    out = []
    with store.engine.connect() as conn:
        result = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    if result == ["ok"]:
        out.append(Check("database", "ok", "integrity check ok", {"journal_mode": journal}))
    else:
        out.append(Check("database", "fail", "integrity check failed", {"problems": result[:20]}))
    rev = current_revision(store.engine)
    out.append(
        Check(
            "schema",
            "ok" if rev == SCHEMA_HEAD else "fail",
            f"schema revision {rev}" + ("" if rev == SCHEMA_HEAD else f" (expected {SCHEMA_HEAD})"),
        )
    )
    chain = verify_chain(store)
    out.append(
        Check(
            "audit",
            "ok" if chain.ok else "fail",
            f"audit chain intact ({chain.events} events)"
            if chain.ok
            else f"audit chain broken at event {chain.first_bad_id}: {chain.problem}",
        )
    )
    # A chain edited and re-hashed verifies on its own: the centre's acknowledgement tells.
    acked_ok, acked_message = check_ack(store)
    out.append(Check("audit_centre", "ok" if acked_ok else "fail", acked_message))
    try:
        identity = get_identity(store)
    except KeyMaterialMissing as exc:  # a copied database: say so, as the station check
        out.append(Check("station", "fail", f"station key: {exc}"))
        return out
    out.append(
        Check("station", "ok", f"station {identity.station_id}, kecamatan {identity.kecamatan}")
        if identity
        else Check("station", "fail", "station is not initialized: run `init` or `provision`")
    )
    return out


def check_disk(store: Store | None, args: argparse.Namespace) -> list[Check]:
    home = home_of(args)
    probe = home if home.exists() else home.parent
    free = shutil.disk_usage(probe).free
    status = "ok" if free >= DISK_WARN_BYTES else "warn" if free >= DISK_FAIL_BYTES else "fail"
    return [Check("disk", status, f"{free // (1024 * 1024)} MB free at {probe}", {"free": free})]


def check_mirror_dir(store: Store | None, args: argparse.Namespace) -> list[Check]:
    if store is None:
        return []
    settings = load_settings(store)
    if settings.mirror_path is None:
        return [Check("mirror", "ok", "no mirror directory configured")]
    result = check_mirror(settings.mirror_path)
    status = "ok" if result.ok else ("fail" if settings.mirror_policy == "required" else "warn")
    details: dict[str, Any] = {"free": result.free_bytes, "policy": settings.mirror_policy}
    message = result.message
    if settings.mirror_path.is_dir():
        # Packets a killed seal left without a commit go to unconfirmed/; its temp files go.
        try:
            rec = reconcile_mirror(store, actor="doctor")
        except (OSError, StoreError) as exc:
            return [Check("mirror", "fail", f"mirror reconciliation failed: {exc}", details)]
        details.update(
            moved_to_unconfirmed=rec.moved,
            temp_files_removed=rec.temp_removed,
            unconfirmed=rec.unconfirmed,
        )
        if rec.warning is not None:
            message = f"{message}; {rec.warning}"
            status = "fail" if status == "fail" else "warn"
    return [Check("mirror", status, message, details)]


def check_devices(store: Store | None, args: argparse.Namespace) -> list[Check]:
    """Camera and card reader, from ``app.capture.diagnostics.device_report()``.

    A missing camera or reader is a warning, not a failure: the station still records from a
    photo file, and doctor must say so and exit 0.
    """
    from app.capture import diagnostics

    try:
        report = diagnostics.device_report()
    except Exception as exc:  # a broken driver must not stop the other checks
        return [Check("devices", "fail", f"device check failed: {exc}")]
    return [
        Check(name, "ok" if part.get("ok") else "warn", str(part.get("message", "")), part)
        for name, part in (("camera", report["camera"]), ("reader", report["reader"]))
    ]


def check_server(store: Store | None, args: argparse.Namespace) -> list[Check]:
    """Reachable, the station known and not revoked, clocks in agreement."""
    from app.sync.engine import SyncError
    from app.sync.station import NotProvisioned, StationSync

    if store is None:
        return []
    try:
        sync = StationSync(store, timeout=(3.0, 10.0))
    except NotProvisioned as exc:
        return [Check("server", "warn", str(exc))]
    if not sync.engine.probe():
        return [Check("server", "fail", f"server unreachable at {sync.server_url}")]
    try:
        if sync.engine.server_verify_key is None:
            # Provisioned before the server signed its answers: learn its key (in memory
            # only, doctor writes nothing) before trusting what it says.
            from app.sync.serverkey import learn_server_key

            learn_server_key(sync.engine, sync.identity.server_public_key)
        doc = sync.engine.signed_json("GET", "/api/v1/station")
    except SyncError as exc:
        return [Check("server", "fail", f"{sync.server_url}: {exc.message}")]
    if doc.get("revoked"):
        return [Check("server", "fail", "this station has been revoked by the central office")]
    identity = get_identity(store)
    ours = pkt.key_id(identity.server_public_key) if identity is not None else None
    theirs = doc.get("server_key_id")
    accepted = doc.get("accepted_server_key_ids") or []
    if identity is not None and ours and theirs and ours != theirs and ours in accepted:
        # The server rotated its key (`keys rotate`) and still opens ours: records are safe,
        # but sealed with the older suite until the station is provisioned again.
        return [
            Check(
                "server",
                "warn",
                f"{sync.server_url} still opens records sealed to this station's key {ours} "
                f"({pkt.suite_of(identity.server_public_key)}), but gives new stations key "
                f"{theirs}: provision again with a new code to seal with it "
                f"(ektp-station provision --server {sync.server_url} --code CODE)",
                {"url": sync.server_url, "station_key_id": ours, "server_key_id": theirs},
            )
        ]
    if ours and theirs and ours != theirs:
        # Every record sealed now would be refused (wrong_server_key) and stay rejected.
        return [
            Check(
                "server",
                "fail",
                f"{sync.server_url} opens records sealed to key {theirs}, but this station "
                f"seals to key {ours}: it would refuse them. Provision again with a new code "
                f"(ektp-station provision --server {sync.server_url} --code CODE)",
                {"url": sync.server_url, "station_key_id": ours, "server_key_id": theirs},
            )
        ]
    return [
        Check(
            "server",
            "ok",
            f"{sync.server_url} reachable; station known, kecamatan {doc.get('kecamatan')}",
            {"url": sync.server_url, "kecamatan": doc.get("kecamatan")},
        )
    ]


CHECKS: list[CheckFn] = [
    check_database,
    check_disk,
    check_mirror_dir,
    check_devices,
    check_server,
]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check database, disk, mirror, devices and server")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    home = home_of(args)
    store = open_store(home) if (home / DB_NAME).exists() else None
    checks: list[Check] = []
    try:
        for fn in CHECKS:
            try:
                checks.extend(fn(store, args))
            except KeyMaterialMissing as exc:  # a copied database: every check that signs
                checks.append(
                    Check(fn.__name__.removeprefix("check_"), "fail", f"station key: {exc}")
                )
            except Exception as exc:
                known = classify(exc)
                if known is None:
                    raise
                checks.append(Check(fn.__name__.removeprefix("check_"), "fail", known.message))
    finally:
        if store is not None:
            store.close()
    ok = all(c.status != "fail" for c in checks)
    if args.json:
        print_json({"ok": ok, "checks": [asdict(c) for c in checks]})
    else:
        for c in checks:
            print(f"[{c.status.upper():4}] {c.name}: {c.message}")
    return 0 if ok else 1


__all__ = ["CHECKS", "Check"]
