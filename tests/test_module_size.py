"""Small modules that each own one thing (issue 16): none in app/ over 600 lines."""

from __future__ import annotations

from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
MAX_LINES = 600


def test_no_module_in_app_is_over_600_lines() -> None:
    big = {
        str(path.relative_to(APP.parent)): n
        for path in APP.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert big == {}, f"split these by concern: {big}"
