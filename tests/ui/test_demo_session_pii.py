"""A thief with the PC after a demo session finds no resident in clear (issue 17).

The demo as a new kecamatan runs it (``DemoRun``: its own server process on loopback, the
demo station, the demo video as the camera), driven through the real window: sign in, one
recording from the keyboard, the upload, the receipt saved as a PDF to a stick. Then every
file the session could have left is searched for the resident: the station's home (database,
WAL, sync state), the demo folder's logs, the temporary folder and the user's config, cache
and data folders the process was given (Qt, OpenCV and Python write there if anywhere).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.ui.demo import DEMO_USER, DemoRun
from app.ui.main_window import MainWindow
from tests.support.cli import run_server
from tests.support.pii import needles, scan
from tests.support.residents import BUDI_LAKI
from tests.ui.test_recording_flow import focused, open_window, record_one, sign_in

USER_DIRS = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")


@pytest.fixture
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The session's temporary folder, home and XDG folders, all under one root of its own
    (the machine's /tmp is shared with other tests that record the same made-up residents)."""
    root = tmp_path / "user"
    (root / "tmp").mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(root / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    monkeypatch.setenv("HOME", str(root / "home"))
    for name in USER_DIRS:
        monkeypatch.setenv(name, str(root / name.lower()))
    assert tempfile.gettempdir() == str(root / "tmp")
    yield root


def test_a_demo_session_leaves_no_resident_in_clear(
    qtbot, tmp_path: Path, private_dirs: Path, stick: Path
) -> None:
    run = DemoRun.start(tmp_path / "kit", log=False)
    try:
        window: MainWindow = open_window(qtbot, run)  # type: ignore[arg-type]
        photos: list[bytes] = []
        rec = window.recording
        rec.photo.accepted.connect(lambda: photos.append(rec.photo.photo.jpeg))
        sign_in(qtbot, window, *DEMO_USER)
        uuid = record_one(qtbot, window)
        receipt = rec.receipt
        receipt.save_pdf(stick / "bukti.pdf")
        qtbot.waitUntil(lambda: receipt.status.text().startswith("PDF disimpan"), timeout=30000)
        # The upload: the demo's sync loop sends it to the demo server.
        qtbot.keyClick(focused(), Qt.Key.Key_F4)

        def uploaded() -> bool:
            window.queue.refresh()
            return any(r.uuid == uuid and r.status == "uploaded" for r in window.queue.model.rows)

        qtbot.waitUntil(uploaded, timeout=60000)
        qtbot.waitUntil(lambda: _fates(run) == [(uuid, "processed")], timeout=60000)
        window.close()
    finally:
        run.stop()
    assert photos and photos[0].startswith(b"\xff\xd8")
    assert (stick / "bukti.pdf").read_bytes().startswith(b"%PDF")  # the stick is for that
    station = run.root / "station"
    assert {"station.db", "sync-state.json"} <= {p.name for p in station.iterdir()}
    assert (run.root / "server.log").exists()  # the demo server's output, scanned too
    # The demo server's home is the central office's stand-in: it opens the packets (that is
    # its job) and keeps the NIK of each processed record; it is scanned as the centre's, not
    # as the station's (docs/security.md, "A thief with the PC").
    server_home = run.root / "server"
    wanted = needles([BUDI_LAKI], photos)
    hits = scan([tmp_path / "kit", private_dirs], wanted, skip=(server_home,))
    assert hits == []
    # The scan sees what is there: the centre's stand-in holds the processed record's NIK.
    assert any(BUDI_LAKI["nik"] in hit for hit in scan([server_home], wanted))


def _fates(run: DemoRun) -> list[tuple[str, str]]:
    out = run_server("--home", str(run.root / "server"), "records", "--json")
    return [(r["uuid"], r["fate"]) for r in json.loads(out.stdout)["records"]]
