"""The issue's "done when", through the real command line (``python -m app`` subprocesses).

- ``doctor --json`` with no camera and no PC/SC service says so and exits 0; with the virtual
  reader and a card it shows the reader, the card's ATR and UID.
- ``enroll --photo``: the astronaut is sealed with a cropped JPEG under budget; a coffee cup
  is refused with the face reason and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from app import packet
from app.capture import camera
from app.capture.quality import QualityConfig
from tests.support import faces
from tests.support.pcsc import DEFAULT_ATR, PcscDaemon
from tests.support.residents import BUDI_LAKI
from tests.support.station import StationHome, make_station


def doctor(st: StationHome) -> dict[str, dict]:
    r = st.cli("doctor", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    return {c["name"]: c for c in json.loads(r.stdout)["checks"]}


@pytest.mark.pcsc
def test_doctor_nothing_attached_then_virtual_reader(tmp_path: Path, pcscd: PcscDaemon) -> None:
    st = make_station(tmp_path)
    pcscd.stop()
    checks = doctor(st)
    reader = checks["reader"]
    assert reader["status"] == "warn"
    assert reader["details"]["service"] == "not_running"
    assert "smart card service is not running" in reader["message"]
    if not camera._linux_video_nodes():
        assert checks["camera"]["status"] == "warn"
        assert checks["camera"]["message"].startswith("No camera found")
        assert checks["camera"]["details"]["cameras"] == []

    pcscd.start()
    pcscd.card(uid=bytes.fromhex("04E7A11D")).insert()
    pcscd.wait_card(present=True)
    reader = doctor(st)["reader"]
    assert reader["status"] == "ok"
    details = reader["details"]
    assert details["readers"] == ["Virtual PCD 00 00", "Virtual PCD 00 01"]
    assert details["card_present"] is True
    assert [(c["atr"], c["uid"]) for c in details["cards"]] == [
        (DEFAULT_ATR.hex().upper(), "04E7A11D")
    ]


def _enroll(st: StationHome, tmp_path: Path, photo: bytes, name: str):  # type: ignore[no-untyped-def]
    bio = tmp_path / "bio.json"
    bio.write_text(json.dumps(BUDI_LAKI))
    path = tmp_path / name
    path.write_bytes(photo)
    return st.cli(
        "enroll", "--operator", st.operator, "--biodata", str(bio), "--photo", str(path),
        input=st.password + "\n",
    )  # fmt: skip


def test_enroll_astronaut_stores_cropped_jpeg(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    r = _enroll(st, tmp_path, faces.encode(faces.astronaut(), ".png"), "face.png")
    assert r.returncode == 0, r.stderr
    uuid = r.stdout.strip().splitlines()[-1]
    out = tmp_path / "export"
    assert (
        st.cli("export", "--to", str(out), "--by", st.operator, input=st.password + "\n").returncode
        == 0
    )
    data = (out / f"{uuid}.ektp").read_bytes()
    opened = packet.open_packet(data, st.server_key, st.identity().signing_key.public_key())
    [name] = [n for n in opened.attachments if n.endswith(".jpg") or n.endswith(".jpeg")]
    jpeg = opened.attachments[name].data
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) <= QualityConfig().jpeg_budget_bytes
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    assert w * 4 == h * 3 and w < 512  # a 3:4 crop, not the 512x512 original


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_enroll_without_a_face_refused(tmp_path: Path, name: str) -> None:
    st = make_station(tmp_path)
    r = _enroll(st, tmp_path, faces.encode(faces.non_face(name), ".jpg"), f"{name}.jpg")
    assert r.returncode == 2
    assert r.stdout == ""
    [line] = r.stderr.strip().splitlines()
    assert "photo: No face was found" in line
    assert "Traceback" not in r.stderr
    status = st.cli("status", "--json")
    assert json.loads(status.stdout)["records"]["sealed"] == 0
