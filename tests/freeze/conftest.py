"""The frozen programs' tests share the technician's smoke list (scripts/try_frozen.py) and an
Xvfb per test file for the GUI steps."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.cli import ROOT
from tests.support.components import require_binary


def load_script(name: str) -> ModuleType:
    """scripts/NAME.py as a module (the scripts are run by hand and by CI, not imported)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


try_frozen = load_script("try_frozen")


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """An X display of this test file's own, with what the GUI steps use to find and
    screenshot a window."""
    xvfb = require_binary("Xvfb", "xvfb")
    require_binary("xwininfo", "x11-utils")
    require_binary("import", "imagemagick")
    proc, name = try_frozen.start_xvfb(xvfb)
    try:
        yield name
    finally:
        proc.terminate()
        proc.wait(10)


def run_step(step: object, frozen: object, out: Path) -> None:
    """One step of the smoke list as a test: its own failure message, no traceback of the
    script's internals; the demo step leaves a screenshot."""
    failure = None
    try:
        step(frozen)  # type: ignore[operator]
    except try_frozen.SmokeFailure as exc:
        failure = f"{step.__name__}: {exc}"  # type: ignore[attr-defined]
    if failure is not None:
        pytest.fail(failure, pytrace=False)
    if step is try_frozen.step_demo:
        assert (out / "frozen-demo-sign-in.png").stat().st_size > 10_000
