"""The package's two programs, ``ektp-station`` and ``ektp-server``, and how one starts the
other as a child process, from the source tree and from the frozen station alike.

From the source tree a child is ``python -m app`` or ``python -m server``. In the frozen
station (PyInstaller) ``sys.executable`` is the station itself and there is no ``-m``: the
child is the station's own executable with ``RUN_PROGRAM NAME`` first, which
``packaging/launcher.py`` hands to ``dispatch`` (docs/installer.md).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

# Program name -> the module whose ``main(argv) -> int`` it runs.
PROGRAMS = {"ektp-station": "app.cli", "ektp-server": "server.cli"}
RUN_PROGRAM = "--run-program"
ROOT = Path(__file__).resolve().parents[1]


def frozen() -> bool:
    """True in the PyInstaller build."""
    return bool(getattr(sys, "frozen", False))


def command(program: str, *args: str) -> list[str]:
    """The command line that runs ``program ARGS`` as a child of this process."""
    module = PROGRAMS[program]
    if frozen():
        return [sys.executable, RUN_PROGRAM, program, *args]
    return [sys.executable, "-m", module.partition(".")[0], *args]


def child_env() -> dict[str, str]:
    """This process's environment, with the checkout first on the path (source tree only),
    so the child runs the same code as its parent."""
    env = dict(os.environ)
    if not frozen():
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def dispatch(argv: list[str]) -> int:
    """The frozen executable's entry: ``RUN_PROGRAM NAME ARGS`` runs that program, anything
    else is the station's own command line."""
    if argv[:1] != [RUN_PROGRAM]:
        from app.cli import main

        return main(argv)
    if len(argv) < 2 or argv[1] not in PROGRAMS:
        names = ", ".join(PROGRAMS)
        print(f"ektp-station: error: {RUN_PROGRAM}: expected one of {names}", file=sys.stderr)
        return 2
    main = importlib.import_module(PROGRAMS[argv[1]]).main
    return int(main(argv[2:]))
