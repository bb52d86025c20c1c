"""Mirror reconciliation: packets a killed seal left in the mirror without a commit.

The state is built with real files: real sealed records (mirrored by enroll), a real,
complete, signed packet written to the mirror with no record (what a kill between the
mirror write and the COMMIT leaves), and a half-written temp file (a kill during the mirror
write). ``tests/store/test_crash.py`` checks the same after 200+ real kills.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

import uuid6
from sqlalchemy import select

from app import packet
from app.enrollment import EnrollmentRequest, enroll
from app.store.audit import verify_chain
from app.store.mirror import UNCONFIRMED_DIR, packet_name, write_atomic
from app.store.models import AuditEvent
from app.store.reconcile import reconcile_mirror
from app.store.settings import set_setting
from app.store.station import update_server
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN
from tests.support.station import StationHome, face_jpeg, make_station, signature_png

TODAY = date(2026, 11, 23)


def _orphan(st: StationHome, mirror: Path) -> tuple[str, bytes]:
    """A complete, authentic packet in the mirror whose record was never committed."""
    ident = st.identity()
    uuid = str(uuid6.uuid7())
    sealed = packet.seal(
        {"biodata": dict(BUDI_LAKI), "warnings": [], "flags": [], "quality": {}},
        [packet.Attachment("face.jpg", "image/jpeg", face_jpeg())],
        uuid=uuid,
        station_id=ident.station_id,
        kecamatan=ident.kecamatan,
        server_public_key=ident.server_public_key,
        station_key=ident.signing_key,
    )
    write_atomic(mirror, packet_name(uuid), sealed.data)
    return uuid, sealed.data


def _station_with_leftovers(tmp_path: Path) -> tuple[StationHome, Path, list[str], list[str]]:
    st = make_station(tmp_path)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with st.open() as store:
        set_setting(store, "mirror_dir", str(mirror), actor="tech")
        committed = [
            enroll(
                store,
                EnrollmentRequest(st.operator, bio, face_jpeg(), signature_png=signature_png()),
                today=TODAY,
            ).uuid
            for bio in (BUDI_LAKI, RATNA_PEREMPUAN)
        ]
    orphans = sorted(_orphan(st, mirror)[0] for _ in range(2))
    # A kill during the mirror write: part of a packet under the temp name write_atomic uses.
    (mirror / f".{orphans[0]}.ektp.{os.getpid() + 1}.tmp").write_bytes(b"EKTP half")
    (mirror / "README.txt").write_text("not ours")  # anything else is left alone
    return st, mirror, committed, orphans


def test_orphans_move_to_unconfirmed_and_temps_go(tmp_path: Path) -> None:
    st, mirror, committed, orphans = _station_with_leftovers(tmp_path)
    orphan_bytes = {u: (mirror / packet_name(u)).read_bytes() for u in orphans}
    with st.open() as store:
        rec = reconcile_mirror(store, actor="tech")
        assert rec.moved == orphans
        assert rec.temp_removed == 1
        assert rec.unconfirmed == 2
        assert rec.warning is not None and "2 mirror packet(s)" in rec.warning
        # never deleted: moved byte for byte; committed copies stay where they were
        for u in orphans:
            assert not (mirror / packet_name(u)).exists()
            assert (mirror / UNCONFIRMED_DIR / packet_name(u)).read_bytes() == orphan_bytes[u]
        assert sorted(p.name for p in mirror.glob("*.ektp")) == sorted(
            packet_name(u) for u in committed
        )
        assert not list(mirror.glob(".*.tmp"))
        assert (mirror / "README.txt").exists()
        # audited in the same transaction, UUIDs only
        with store.read() as s:
            ev = s.execute(
                select(AuditEvent).where(AuditEvent.kind == "mirror.unconfirmed")
            ).scalar_one()
        assert ev.actor == "tech"
        assert json.loads(ev.detail) == {"uuids": orphans, "count": 2}
        assert BUDI_LAKI["nik"] not in ev.detail and BUDI_LAKI["nama"] not in ev.detail
        assert verify_chain(store).ok

        # Idempotent: a second run moves nothing and audits nothing, the count stays.
        again = reconcile_mirror(store, actor="tech")
        assert (again.moved, again.temp_removed, again.unconfirmed) == ([], 0, 2)
        with store.read() as s:
            kinds = s.execute(select(AuditEvent.kind)).scalars().all()
        assert kinds.count("mirror.unconfirmed") == 1


def _tree(*roots: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``roots``: (size, mtime_ns, SHA-256 of its bytes)."""
    out = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                st = path.stat()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[str(path)] = (st.st_size, st.st_mtime_ns, digest)
            else:
                out[str(path)] = (0, 0, "dir")
    return out


def test_status_is_read_only(tmp_path: Path) -> None:
    """The uninstaller asks `status` before removing data: it must move and write nothing,
    even with orphan packets and a stale temp file in the mirror."""
    st, mirror, _, orphans = _station_with_leftovers(tmp_path)
    before = _tree(st.home, mirror)
    assert any(packet_name(orphans[0]) in p for p in before)
    for args in (["status", "--json"], ["status"]):
        r = st.cli(*args)
        assert r.returncode == 0, r.stderr
        assert _tree(st.home, mirror) == before, args
    assert not (mirror / UNCONFIRMED_DIR).exists()


def test_doctor_and_status_warn_export_skips_orphans(tmp_path: Path) -> None:
    st, mirror, committed, orphans = _station_with_leftovers(tmp_path)

    r = st.cli("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    m = checks["mirror"]
    assert m["status"] == "warn", m
    assert "2 mirror packet(s)" in m["message"]
    assert m["details"]["moved_to_unconfirmed"] == orphans
    assert m["details"]["temp_files_removed"] == 1
    assert m["details"]["unconfirmed"] == 2
    assert sorted(p.name for p in (mirror / UNCONFIRMED_DIR).iterdir()) == [
        packet_name(u) for u in orphans
    ]

    r = st.cli("status", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["mirror"]["unconfirmed"] == 2
    assert any("2 mirror packet(s)" in w for w in doc["warnings"])

    out = tmp_path / "export"
    r = st.cli("export", "--to", str(out), "--json", "--by", st.operator, input=st.password + "\n")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.glob("*.ektp")) == sorted(packet_name(u) for u in committed)


def test_export_and_enroll_reconcile_first(tmp_path: Path) -> None:
    st, mirror, _, orphans = _station_with_leftovers(tmp_path)
    r = st.cli(
        "export", "--to", str(tmp_path / "export"), "--by", st.operator, input=st.password + "\n"
    )
    assert r.returncode == 0, r.stderr
    assert sorted(p.stem for p in (mirror / UNCONFIRMED_DIR).glob("*.ektp")) == orphans
    assert not list(mirror.glob(".*.tmp"))

    late = _orphan(st, mirror)[0]
    bio = tmp_path / "bio.json"
    bio.write_text(json.dumps(BUDI_LAKI))
    photo = tmp_path / "face.jpg"
    photo.write_bytes(face_jpeg())
    r = st.cli(
        "enroll", "--operator", st.operator, "--biodata", str(bio), "--photo", str(photo),
        input=st.password + "\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "3 mirror packet(s)" in r.stderr
    new = r.stdout.strip()
    assert (mirror / packet_name(new)).exists()
    assert (mirror / UNCONFIRMED_DIR / packet_name(late)).exists()


def test_enroll_with_bad_input_moves_and_writes_nothing(tmp_path: Path) -> None:
    st, mirror, _, _ = _station_with_leftovers(tmp_path)
    good = tmp_path / "bio.json"
    good.write_text(json.dumps(BUDI_LAKI))
    bad = tmp_path / "bad-bio.json"
    bad.write_text(json.dumps({**BUDI_LAKI, "nik": "12345"}))
    photo = tmp_path / "face.jpg"
    photo.write_bytes(face_jpeg())
    not_photo = tmp_path / "not-a-photo.jpg"
    not_photo.write_bytes(b"not an image")
    before = _tree(st.home, mirror)
    for bio, img, field in ((bad, photo, "nik"), (good, not_photo, "photo")):
        r = st.cli(
            "enroll", "--operator", st.operator, "--biodata", str(bio), "--photo", str(img),
            input=st.password + "\n",
        )  # fmt: skip
        assert r.returncode == 2, (field, r.stdout, r.stderr)
        assert len(r.stderr.splitlines()) == 1 and field in r.stderr, r.stderr
        assert "mirror" not in r.stderr and r.stdout == ""
        assert _tree(st.home, mirror) == before, field


def test_the_sync_command_reconciles_first(tmp_path: Path) -> None:
    st, mirror, committed, orphans = _station_with_leftovers(tmp_path)
    with st.open() as store:
        # A server that is not there: the upload fails, the reconciliation does not.
        update_server(store, "http://127.0.0.1:9", st.server_key_file.read_bytes(), "st-1")
    r = st.cli("sync", "--once", "--timeout", "2")
    assert r.returncode == 1, r.stderr
    assert "2 mirror packet(s)" in r.stderr
    assert sorted(p.stem for p in (mirror / UNCONFIRMED_DIR).glob("*.ektp")) == orphans
    assert sorted(p.stem for p in mirror.glob("*.ektp")) == sorted(committed)
    assert not list(mirror.glob(".*.tmp"))


def test_without_mirror_or_unplugged_nothing_happens(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    with st.open() as store:
        assert reconcile_mirror(store).moved == []
        set_setting(store, "mirror_dir", str(tmp_path / "unplugged"), actor="tech")
        rec = reconcile_mirror(store)
        assert (rec.moved, rec.temp_removed, rec.unconfirmed, rec.warning) == ([], 0, 0, None)
