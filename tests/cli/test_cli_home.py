"""``--home`` that names a file, not a folder: one line naming ``home``, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.support.cli import run_station


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--json"],
        ["doctor", "--json"],
        ["init", "--server-key", "KEY", "--kecamatan", "36.03.32"],
        [],  # the GUI
        ["demo"],
    ],
)
def test_home_that_is_a_file(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    key = tmp_path / "server.pub"
    key.write_bytes(
        X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    res = run_station(
        "--home",
        str(home),
        *[str(key) if a == "KEY" else a for a in args],
        env={"QT_QPA_PLATFORM": "offscreen"},
    )
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "home:" in lines[0], res.stderr
    assert home.read_text() == "not a folder"
