"""Start the real app (demo mode: local server, demo camera) in a real window and save a
screenshot of each screen to docs/screenshots/. Needs an X display, e.g.:

    xvfb-run -a -s "-screen 0 1024x768x24" python scripts/screenshots.py

The window opens maximised, as the app does: at 1024×768 every screen must fit with its step
buttons visible (`--height 700` leaves room for a taskbar, as on a 1366×768 laptop).

The app is driven from the keyboard as an operator would; each screenshot is taken from the
X server (QScreen.grabWindow), i.e. what a person would see.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Every screenshot, in the order they are taken (tests/ui/test_screenshots.py reads this list).
SHOTS = [
    "01-masuk",
    "02-beranda",
    "03-biodata",
    "04-foto",
    "05-tanda-tangan",
    "06-kartu",
    "07-tinjau",
    "08-bukti",
    "09-antrian",
    "10-teknisi",
    "11-home-english",
    "12-perlu-rekam-ulang",
    "13-cek-ktp-el",
]

RESIDENT = {
    "nik": "3603321208900007",
    "nama": "BUDI SANTOSO WIRAHADI",
    "tempat_lahir": "TANGERANG",
    "alamat": "JL. RAYA KRESEK NO. 17",
    "rt": "003",
    "rw": "005",
    "no_kk": "3603321001150003",
}


# Two more records sealed beside the one recorded on screen, so Antrian and the "Perlu rekam
# ulang" list show what the back office sends back: the same resident again (Ganda) and one
# with no signature (the centre asks for it to be recorded again).
OTHER = {
    **RESIDENT,
    "nik": "3603321208900008",
    "nama": "AHMAD FAUZI",
    "alamat": "KP. GUNUNG KALER RT 2",
}


def demo_signature() -> bytes:
    """A signature as the pad draws it: one stroke on white, PNG."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter, QPen

    image = QImage(400, 150, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setPen(QPen(Qt.GlobalColor.black, 3))
    painter.drawLine(30, 100, 370, 60)
    painter.end()
    raw = QByteArray()
    buf = QBuffer(raw)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    signature = bytes(raw.data())
    return signature


def seal_fates_examples(services: object) -> None:
    """Seal the two example records through the store (as the recording screen would)."""
    import cv2

    from app.enrollment import EnrollmentRequest, enroll
    from app.ui.station import DEMO_VIDEO

    capture = cv2.VideoCapture(str(DEMO_VIDEO))
    for _ in range(15):
        ok, frame = capture.read()
    capture.release()
    assert ok, "demo video"
    photo = bytes(cv2.imencode(".jpg", frame)[1])
    signature = demo_signature()

    def biodata(person: dict[str, str]) -> dict[str, str]:
        return {
            **person,
            "tanggal_lahir": "1990-08-12",
            "jenis_kelamin": "LAKI-LAKI",
            "golongan_darah": "O",
            "kode_wilayah": "36.03.32.2001",
            "agama": "ISLAM",
            "status_perkawinan": "KAWIN",
            "pekerjaan": "PETANI/PEKEBUN",
            "kewarganegaraan": "WNI",
        }

    store = services.store  # type: ignore[attr-defined]
    for person, sig in ((RESIDENT, signature), (OTHER, None)):
        enroll(
            store,
            EnrollmentRequest("demo", biodata(person), photo, signature_png=sig),
        )


# A resident recorded with her new e-KTP on the reader, for the card check (Cek KTP-el, issue
# 19), and the kelurahan desk's card-check station with its clerk.
CARD_RESIDENT = {
    **RESIDENT,
    "nik": "3603325208900009",
    "nama": "SITI RAHMAWATI",
    "jenis_kelamin": "PEREMPUAN",
    "alamat": "JL. MAWAR NO. 5",
}
CARD_UID = "04A1B2C3D4E5F6"
CLERK = ("ani", "rahasia-ani-123")


def seal_card_example(services: object) -> None:
    """Seal CARD_RESIDENT with CARD_UID through the store (as the recording screen would)."""
    import cv2

    from app.enrollment import EnrollmentRequest, enroll
    from app.ui.station import DEMO_VIDEO

    capture = cv2.VideoCapture(str(DEMO_VIDEO))
    for _ in range(15):
        ok, frame = capture.read()
    capture.release()
    assert ok, "demo video"
    bio = {
        **CARD_RESIDENT,
        "tanggal_lahir": "1990-08-12",
        "golongan_darah": "A",
        "kode_wilayah": "36.03.32.2001",
        "agama": "ISLAM",
        "status_perkawinan": "KAWIN",
        "pekerjaan": "PETANI/PEKEBUN",
        "kewarganegaraan": "WNI",
    }
    photo = bytes(cv2.imencode(".jpg", frame)[1])
    request = EnrollmentRequest(
        "demo", bio, photo, signature_png=demo_signature(), card_uid=CARD_UID
    )
    enroll(services.store, request)  # type: ignore[attr-defined]


def card_desk(demo: object, home: Path) -> object:
    """The kelurahan desk: a card-check station (``station add --verifier``) on the demo's
    server, provisioned, with a technician and the clerk CLERK."""
    import json
    import subprocess

    from app.programs import child_env
    from app.store.operators import add_operator
    from app.ui.demo import DEMO_KECAMATAN, DEMO_TECHNICIAN, _server_cmd
    from app.ui.services import Operator
    from app.ui.station import StationServices

    server_home = demo.root / "server"  # type: ignore[attr-defined]
    result = subprocess.run(
        _server_cmd(
            server_home,
            "station",
            "add",
            "--verifier",
            "--name",
            "Kelurahan Gunung Kaler",
            "--kecamatan",
            DEMO_KECAMATAN,
            "--json",
        ),  # fmt: skip
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=True,
    )
    services = StationServices(home)
    add_operator(services.store, DEMO_TECHNICIAN[0], "technician", DEMO_TECHNICIAN[1], actor="demo")
    add_operator(services.store, CLERK[0], "operator", CLERK[1], actor="demo")
    code = str(json.loads(result.stdout)["code"])
    services.provision(Operator(DEMO_TECHNICIAN[0], "technician"), demo.url, code)  # type: ignore[attr-defined]
    return services


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    p.add_argument("--home", help="demo home (default: a temp dir, removed after)")
    p.add_argument(
        "--height",
        type=int,
        default=0,
        help="usable height (a taskbar below): default the screen's",
    )
    args = p.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("screenshots.py needs an X display: run it under xvfb-run -a", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    with tempfile.TemporaryDirectory(prefix="ektp-shots-") as tmp:
        return run(Path(args.out), Path(args.home) if args.home else Path(tmp), args.height)


class _Driver:
    """The window driven as an operator would: keys, waits, and the screenshots taken."""

    def __init__(self, app: Any, window: Any, out: Path) -> None:
        self.app, self.window, self.out = app, window, out
        self.taken: list[str] = []

    def wait(self, cond: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what}")
            self.app.processEvents()
            time.sleep(0.02)

    def settle(self, seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def focused(self) -> Any:
        from PySide6.QtWidgets import QApplication

        widget = QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard focus"
        return widget

    def shot(self, name: str) -> None:
        assert name == SHOTS[len(self.taken)], f"screenshot {name!r} is not next in SHOTS"
        self.taken.append(name)
        self.settle(0.4)
        screen = self.window.screen()
        pixmap = screen.grabWindow(self.window.winId())
        if pixmap.isNull() or pixmap.width() < 100:
            pixmap = self.window.grab()
        path = self.out / f"{name}.png"
        pixmap.save(str(path), "PNG")
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def type_keys(self, text: str) -> None:
        from PySide6.QtTest import QTest

        QTest.keyClicks(self.focused(), text)

    def key(self, k: Any, mod: Any = None) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.keyClick(self.focused(), k, Qt.KeyboardModifier.NoModifier if mod is None else mod)

    def sign_in(self, user: tuple[str, str]) -> None:
        from PySide6.QtCore import Qt

        window = self.window
        self.wait(lambda: window.signin.username.hasFocus(), what="sign-in form")
        self.type_keys(user[0])
        self.key(Qt.Key.Key_Return)
        self.type_keys(user[1])
        self.key(Qt.Key.Key_Return)
        self.wait(lambda: window.stack.currentWidget() is window.home, what="home")


def run(out: Path, home: Path, height: int = 0) -> int:
    from PySide6.QtWidgets import QApplication

    from app.ui.demo import DemoRun
    from app.ui.main_window import MainWindow

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([sys.argv[0]])
    demo = DemoRun.start(home)
    window = MainWindow(demo.services)
    # Maximised, as the app opens; Xvfb has no window manager to do it, so the geometry too.
    area = app.primaryScreen().availableGeometry()
    if height:
        area.setHeight(min(area.height(), height))
    window.setGeometry(area)
    window.showMaximized()
    d = _Driver(app, window, out)
    try:
        _record(d)
        _queue(d, demo)
        _other_screens(d)
        _card_check(d, demo, home, area)
    finally:
        window.close()
        d.window.close()  # the card-check desk's window, when it got that far
        demo.stop()
    if d.taken != SHOTS:
        print(f"screenshots not taken: {SHOTS[len(d.taken) :]}", file=sys.stderr)
        return 1
    return 0


def _record(d: _Driver) -> None:
    """Sign in, and one recording from the keyboard to its receipt."""
    from PySide6.QtCore import Qt

    from app.ui.demo import DEMO_USER

    window = d.window
    window.activateWindow()
    d.wait(lambda: window.station is not None and window.isActiveWindow(), what="window")
    d.shot("01-masuk")
    d.sign_in(DEMO_USER)
    d.wait(lambda: window.sync_state is not None and window.home.status is not None, what="status")
    d.shot("02-beranda")
    d.key(Qt.Key.Key_F3)
    rec = window.recording
    _type_biodata(d, rec.biodata)
    d.shot("03-biodata")
    d.key(Qt.Key.Key_Return)
    d.wait(
        lambda: rec.photo.preview.quality is not None and rec.photo.preview.quality.good,
        what="a good camera frame",
    )
    d.shot("04-foto")
    d.key(Qt.Key.Key_Return)  # take the photo
    d.wait(lambda: rec.photo.photo is not None, what="accepted photo")
    d.key(Qt.Key.Key_Return)
    _sign(d, rec.signature.pad)
    d.shot("05-tanda-tangan")
    d.key(Qt.Key.Key_Return)
    d.shot("06-kartu")
    d.key(Qt.Key.Key_Return)
    d.shot("07-tinjau")
    d.key(Qt.Key.Key_Return)
    d.wait(lambda: rec.step() == rec.RECEIPT, what="receipt")
    d.shot("08-bukti")


def _type_biodata(d: _Driver, bio: Any) -> None:
    """Keyboard: type each field, Tab to the next (the NIK fills birth date and sex)."""
    from PySide6.QtCore import Qt

    plan = [
        ("nik", RESIDENT["nik"]),
        ("nama", RESIDENT["nama"]),
        ("tempat_lahir", RESIDENT["tempat_lahir"]),
        ("tanggal_lahir", None),
        ("jenis_kelamin", None),
        ("golongan_darah", "O"),
        ("alamat", RESIDENT["alamat"]),
        ("rt", RESIDENT["rt"]),
        ("rw", RESIDENT["rw"]),
        ("wilayah", "Gunung Kaler"),
        ("agama", "ISLAM"),
        ("status_perkawinan", "KAWIN"),
        ("pekerjaan", "PETANI/PEKEBUN"),
        ("kewarganegaraan", "WNI"),
        ("no_kk", RESIDENT["no_kk"]),
    ]
    for i, (name, keys) in enumerate(plan):
        assert d.focused().objectName() == name, (d.focused().objectName(), name)
        if keys:
            d.type_keys(keys)
        if name == "wilayah":
            d.wait(lambda: bio.region.results.count() > 0, what="region results")
            d.key(Qt.Key.Key_Down)
            d.key(Qt.Key.Key_Return)
        if i < len(plan) - 1:
            d.key(Qt.Key.Key_Tab)
    d.settle(0.3)
    bio.validate()


def _sign(d: _Driver, pad: Any) -> None:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    d.wait(lambda: pad.isVisible(), what="signature pad")
    points = [(60 + i * 12, 120 + int(25 * __import__("math").sin(i / 2.5))) for i in range(40)]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
    for x, y in points[1:]:
        QTest.mouseMove(pad, QPoint(x, y))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))
    pad.setFocus()


def _queue(d: _Driver, demo: Any) -> None:
    """Antrian once the record is sent and the centre's fates are back."""
    from PySide6.QtCore import Qt

    window = d.window
    d.key(Qt.Key.Key_F4)

    def sent() -> bool:
        rows = window.queue.model.rows
        if not rows or rows[0].status != "uploaded":
            window.queue.refresh()
            d.settle(0.2)
            return False
        return True

    d.wait(sent, timeout=30, what="the record to be sent")
    # The same resident again and a record without a signature: the back office answers
    # "Ganda" and "Perlu rekam ulang"; "Kirim sekarang" also pulls the fates.
    seal_fates_examples(demo.services)
    window.send_now()

    def judged() -> bool:
        rows = window.queue.model.rows
        if len(rows) < 3 or any(r.fate in (None, "received") for r in rows):
            window.send_now()
            window.queue.refresh()
            d.settle(0.5)
            return False
        return True

    d.wait(judged, timeout=60, what="the centre's fates")
    d.shot("09-antrian")


def _other_screens(d: _Driver) -> None:
    """Teknisi, Beranda in English, and the re-record list."""
    from PySide6.QtCore import Qt

    from app.ui.demo import DEMO_TECHNICIAN

    window = d.window
    d.key(Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    d.sign_in(DEMO_TECHNICIAN)
    d.key(Qt.Key.Key_F5)
    d.wait(lambda: window.technician.devices.readers.text() != "", what="device probe")
    window.technician.devices.toggle_camera_test()
    d.wait(lambda: window.technician.devices.test_frames > 3, what="camera test frames")
    d.shot("10-teknisi")
    window.technician.devices.stop_camera_test()
    window.set_language("en")
    d.key(Qt.Key.Key_F2)
    d.shot("11-home-english")
    window.set_language("id")
    window.show_rerecord()
    d.wait(lambda: window.rerecord.table.rowCount() == 1, what="the re-record list")
    window.rerecord.table.selectRow(0)
    d.shot("12-perlu-rekam-ulang")


def _card_check(d: _Driver, demo: Any, home: Path, area: Any) -> None:
    """The card check at the kelurahan desk: a record sealed with a card, processed at the
    centre, checked from a card-check station's own window (issue 19)."""
    from PySide6.QtCore import Qt

    from app.ui.main_window import MainWindow

    window = d.window
    seal_card_example(demo.services)
    window.send_now()

    def card_processed() -> bool:
        window.queue.refresh()
        d.settle(0.5)
        rows = window.queue.model.rows
        if len(rows) < 4 or any(r.fate in (None, "received") for r in rows):
            window.send_now()
            return False
        return True

    d.wait(card_processed, timeout=60, what="the card resident's fate")
    window.close()
    desk = card_desk(demo, home / "desk")
    window = d.window = MainWindow(desk, start_devices=False)
    window.setGeometry(area)
    window.showMaximized()
    window.activateWindow()
    d.wait(lambda: window.station is not None and window.isActiveWindow(), what="desk window")
    d.sign_in(CLERK)
    d.key(Qt.Key.Key_F6)
    checked: list[object] = []
    window.card_check.checked.connect(checked.append)
    d.type_keys(CARD_UID)
    d.key(Qt.Key.Key_Return)
    d.wait(lambda: bool(checked), timeout=30, what="the centre's answer")
    d.shot("13-cek-ktp-el")


if __name__ == "__main__":
    raise SystemExit(main())
