"""export_packets (app/store/export.py): the one export of the CLI and the queue screen."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest

from app.cli import explain
from app.enrollment import EnrollmentRequest, enroll
from app.store.export import MANIFEST, ExportConflict, ExportMediaError, export_packets
from app.store.mirror import packet_name
from app.store.outbox import Outbox
from tests.support.fs import small_tmpfs
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN
from tests.support.station import StationHome, face_jpeg, make_station

TODAY = date(2026, 11, 23)


def _station(tmp_path: Path, n: int) -> tuple[StationHome, list[str]]:
    st = make_station(tmp_path)
    people = [BUDI_LAKI, RATNA_PEREMPUAN]
    with st.open() as store:
        uuids = [
            enroll(
                store, EnrollmentRequest(st.operator, people[i % 2], face_jpeg()), today=TODAY
            ).uuid
            for i in range(n)
        ]
    return st, uuids


def test_progress_written_skipped_and_conflict(tmp_path: Path) -> None:
    st, uuids = _station(tmp_path, 3)
    out = tmp_path / "usb"
    steps: list[tuple[int, int]] = []
    with st.open() as store:
        result = export_packets(store, out, progress=lambda d, t: steps.append((d, t)))
        assert steps == [(0, 3), (1, 3), (2, 3), (3, 3)]
        assert (result.written, result.skipped, result.total, result.packets) == (3, 0, 3, 3)
        manifest = json.loads((out / MANIFEST).read_text())
        assert [p["uuid"] for p in manifest["packets"]] == sorted(uuids)

        steps.clear()
        again = export_packets(store, out, progress=lambda d, t: steps.append((d, t)))
        assert (again.written, again.skipped, again.packets) == (0, 3, 3)
        assert steps[-1] == (3, 3)

        victim = out / packet_name(uuids[1])
        victim.write_bytes(b"someone else's file")
        with pytest.raises(ExportConflict, match=uuids[1]):
            export_packets(store, out)
        assert victim.read_bytes() == b"someone else's file"


def _remount(path: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(path)], check=True)


def test_a_stick_that_fills_up_is_named_and_a_second_export_completes(tmp_path: Path) -> None:
    """The stick fills mid-way: the error names the stick (not the station's disk, whose
    "free some space (or export and purge)" sent the technician the wrong way) and how many
    packets are on it; what is there is complete; with room again the rest follows."""
    st, uuids = _station(tmp_path, 16)
    with small_tmpfs(tmp_path / "usb", "256k") as usb:
        out = usb / "ektp"
        r = st.cli("export", "--to", str(out), "--by", st.operator, input=st.password + "\n")
        assert r.returncode == 1, r.stdout + r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert str(out) in lines[0] and "full" in lines[0], lines[0]
        assert "export and purge" not in lines[0]
        on_stick = sorted(p.name for p in out.iterdir())
        assert 0 < len(on_stick) < len(uuids)
        assert f"{len(on_stick)} packet(s)" in lines[0], lines[0]
        with st.open() as store:
            packets = dict(Outbox(store).iter_packets())
        for name in on_stick:  # every file there is a whole packet; no temp file
            assert (out / name).read_bytes() == packets[name.removesuffix(".ektp")]

        _remount(usb, "4m")
        r = st.cli(
            "export", "--to", str(out), "--json", "--by", st.operator, input=st.password + "\n"
        )
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert (doc["written"], doc["skipped"]) == (len(uuids) - len(on_stick), len(on_stick))
        listed = json.loads((out / MANIFEST).read_text())["packets"]
        assert sorted(p["uuid"] for p in listed) == sorted(uuids)


def test_a_stick_pulled_mid_export_is_a_media_fault_not_an_internal_error(
    tmp_path: Path,
) -> None:
    st, _ = _station(tmp_path, 5)
    with small_tmpfs(tmp_path / "usb", "4m") as usb:
        out = usb / "ektp"

        def pull(done: int, _total: int) -> None:
            if done == 2:  # the stick leaves: its mount point is an empty folder again
                subprocess.run(["umount", "-l", str(usb)], check=True)

        with st.open() as store, pytest.raises(ExportMediaError) as caught:
            export_packets(store, out, progress=pull)
        assert caught.value.copied == 2
        code, line = explain(caught.value)
        assert code == 1 and "\n" not in line
        assert str(out) in line and "unplugged" in line, line
        assert not out.exists()


def test_export_never_creates_the_folder_above_the_target(tmp_path: Path) -> None:
    """``--to E:/ektp`` or ``/media/usb/ektp`` with the stick not there: bad input, nothing
    created (it made the whole path on the station's own disk and reported success)."""
    st, _ = _station(tmp_path, 1)
    missing = tmp_path / "media" / "usb"
    r = st.cli("export", "--to", str(missing / "ektp"))
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "to:" in lines[0] and str(missing) in lines[0], r.stderr
    assert not (tmp_path / "media").exists()
    with st.open() as store, pytest.raises(ExportMediaError):
        export_packets(store, missing / "ektp")
    assert not (tmp_path / "media").exists()


def test_export_removes_only_its_own_leftover_temp_files(tmp_path: Path) -> None:
    # A crash mid-export leaves `.<name>.<pid>.tmp`; the folder on the stick may also hold the
    # technician's own dot-files ending in .tmp, which are not the export's to delete.
    st, uuids = _station(tmp_path, 1)
    out = tmp_path / "usb"
    out.mkdir()
    ours = [out / f".{packet_name(uuids[0])}.4242.tmp", out / f".{MANIFEST}.4242.tmp"]
    theirs = [out / ".catatan.tmp", out / ".laporan.1.tmp", out / ".x.ektp.tmp"]
    for path in ours + theirs:
        path.write_bytes(b"half")
    with st.open() as store:
        assert export_packets(store, out).written == 1
    assert [p.name for p in ours if p.exists()] == []
    assert [p.name for p in theirs if p.exists()] == [p.name for p in theirs]
