"""device_report(): what doctor shows, on this camera-less machine, with and without pcscd."""

from __future__ import annotations

import json
import sys

import pytest

from app.capture import camera
from app.capture.diagnostics import device_report
from tests.support.pcsc import DEFAULT_ATR, PcscDaemon

NO_DEVICE = sys.platform.startswith("linux") and not camera._linux_video_nodes()


@pytest.mark.pcsc
def test_nothing_attached(pcscd: PcscDaemon) -> None:
    pcscd.stop()  # no PC/SC service at all
    report = device_report()
    assert json.loads(json.dumps(report)) == report
    r = report["reader"]
    assert r["ok"] is False
    assert r["status"] == "no_service" and r["service"] == "not_running"
    assert r["readers"] == [] and r["card_present"] is False
    assert "smart card service is not running" in r["message"]
    if NO_DEVICE:
        c = report["camera"]
        assert c["ok"] is False and c["found"] is False and c["cameras"] == []
        assert c["message"].startswith("No camera found")


@pytest.mark.pcsc
def test_virtual_reader_and_card(pcscd: PcscDaemon) -> None:
    pcscd.card(uid=bytes.fromhex("04C0FFEE")).insert()
    pcscd.wait_card(present=True)
    report = device_report()
    assert json.loads(json.dumps(report)) == report
    r = report["reader"]
    assert r["ok"] is True and r["service"] == "running"
    assert r["readers"] == ["Virtual PCD 00 00", "Virtual PCD 00 01"]
    assert r["card_present"] is True
    [card] = r["cards"]
    assert card["reader"] == "Virtual PCD 00 00"
    assert card["atr"] == DEFAULT_ATR.hex().upper()
    assert card["uid"] == "04C0FFEE"
    assert card["status"] == "ok"
