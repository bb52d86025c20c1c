"""Small modules that each own one thing (issue 16): none in app/ or server/ over 600 lines."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 600


def test_no_module_in_app_or_server_is_over_600_lines() -> None:
    big = {
        path.relative_to(ROOT).as_posix(): n
        for top in ("app", "server")
        for path in (ROOT / top).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert big == {}, f"split these by concern: {big}"
