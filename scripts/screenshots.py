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


def run(out: Path, home: Path, height: int = 0) -> int:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget

    from app.ui.demo import DEMO_TECHNICIAN, DEMO_USER, DemoRun
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

    def wait(cond: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what}")
            app.processEvents()
            time.sleep(0.02)

    def settle(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def focused() -> QWidget:
        widget = QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard focus"
        return widget

    taken: list[str] = []

    def shot(name: str) -> None:
        assert name == SHOTS[len(taken)], f"screenshot {name!r} is not next in SHOTS"
        taken.append(name)
        settle(0.4)
        screen = window.screen()
        pixmap = screen.grabWindow(window.winId())
        if pixmap.isNull() or pixmap.width() < 100:
            pixmap = window.grab()
        path = out / f"{name}.png"
        pixmap.save(str(path), "PNG")
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def type_keys(text: str) -> None:
        QTest.keyClicks(focused(), text)

    def key(k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        QTest.keyClick(focused(), k, mod)

    def sign_in(user: tuple[str, str]) -> None:
        wait(lambda: window.signin.username.hasFocus(), what="sign-in form")
        type_keys(user[0])
        key(Qt.Key.Key_Return)
        type_keys(user[1])
        key(Qt.Key.Key_Return)
        wait(lambda: window.stack.currentWidget() is window.home, what="home")

    try:
        window.activateWindow()
        wait(lambda: window.station is not None and window.isActiveWindow(), what="window")
        shot("01-masuk")
        sign_in(DEMO_USER)
        wait(
            lambda: window.sync_state is not None and window.home.status is not None, what="status"
        )
        shot("02-beranda")
        key(Qt.Key.Key_F3)
        rec = window.recording
        bio = rec.biodata
        # Keyboard: type each field, Tab to the next (the NIK fills birth date and sex).
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
            assert focused().objectName() == name, (focused().objectName(), name)
            if keys:
                type_keys(keys)
            if name == "wilayah":
                wait(lambda: bio.region.results.count() > 0, what="region results")
                key(Qt.Key.Key_Down)
                key(Qt.Key.Key_Return)
            if i < len(plan) - 1:
                key(Qt.Key.Key_Tab)
        settle(0.3)
        bio.validate()
        shot("03-biodata")
        key(Qt.Key.Key_Return)
        wait(
            lambda: rec.photo.preview.quality is not None and rec.photo.preview.quality.good,
            what="a good camera frame",
        )
        shot("04-foto")
        key(Qt.Key.Key_Return)  # take the photo
        wait(lambda: rec.photo.photo is not None, what="accepted photo")
        key(Qt.Key.Key_Return)
        pad = rec.signature.pad
        wait(lambda: pad.isVisible(), what="signature pad")
        points = [(60 + i * 12, 120 + int(25 * __import__("math").sin(i / 2.5))) for i in range(40)]
        QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
        for x, y in points[1:]:
            QTest.mouseMove(pad, QPoint(x, y))
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))
        pad.setFocus()
        shot("05-tanda-tangan")
        key(Qt.Key.Key_Return)
        shot("06-kartu")
        key(Qt.Key.Key_Return)
        shot("07-tinjau")
        key(Qt.Key.Key_Return)
        wait(lambda: rec.step() == rec.RECEIPT, what="receipt")
        shot("08-bukti")
        key(Qt.Key.Key_F4)

        def sent() -> bool:
            rows = window.queue.model.rows
            if not rows or rows[0].status != "uploaded":
                window.queue.refresh()
                settle(0.2)
                return False
            return True

        wait(sent, timeout=30, what="the record to be sent")
        # The same resident again and a record without a signature: the back office answers
        # "Ganda" and "Perlu rekam ulang"; "Kirim sekarang" also pulls the fates.
        seal_fates_examples(demo.services)
        window.send_now()

        def judged() -> bool:
            rows = window.queue.model.rows
            if len(rows) < 3 or any(r.fate in (None, "received") for r in rows):
                window.send_now()
                window.queue.refresh()
                settle(0.5)
                return False
            return True

        wait(judged, timeout=60, what="the centre's fates")
        shot("09-antrian")
        key(Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        sign_in(DEMO_TECHNICIAN)
        key(Qt.Key.Key_F5)
        wait(lambda: window.technician.devices.readers.text() != "", what="device probe")
        window.technician.devices.toggle_camera_test()
        wait(lambda: window.technician.devices.test_frames > 3, what="camera test frames")
        shot("10-teknisi")
        window.technician.devices.stop_camera_test()
        window.set_language("en")
        key(Qt.Key.Key_F2)
        shot("11-home-english")
        window.set_language("id")
        window.show_rerecord()
        wait(lambda: window.rerecord.table.rowCount() == 1, what="the re-record list")
        window.rerecord.table.selectRow(0)
        shot("12-perlu-rekam-ulang")

        # The card check at the kelurahan desk: a record sealed with a card, processed at the
        # centre, checked from a card-check station's own window.
        seal_card_example(demo.services)
        window.send_now()

        def card_processed() -> bool:
            window.queue.refresh()
            settle(0.5)
            rows = window.queue.model.rows
            if len(rows) < 4 or any(r.fate in (None, "received") for r in rows):
                window.send_now()
                return False
            return True

        wait(card_processed, timeout=60, what="the card resident's fate")
        window.close()
        desk = card_desk(demo, home / "desk")
        window = MainWindow(desk, start_devices=False)  # type: ignore[arg-type]
        window.setGeometry(area)
        window.showMaximized()
        window.activateWindow()
        wait(lambda: window.station is not None and window.isActiveWindow(), what="desk window")
        sign_in(CLERK)
        key(Qt.Key.Key_F6)
        screen = window.card_check
        checked: list[object] = []
        screen.checked.connect(checked.append)
        type_keys(CARD_UID)
        key(Qt.Key.Key_Return)
        wait(lambda: bool(checked), timeout=30, what="the centre's answer")
        shot("13-cek-ktp-el")
    finally:
        window.close()
        demo.stop()
    if taken != SHOTS:
        print(f"screenshots not taken: {SHOTS[len(taken) :]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
