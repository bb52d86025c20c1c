"""Entry point of the frozen station (PyInstaller): the same CLI as ``python -m app``, and,
with ``--run-program ektp-server ...`` first, the server the demo starts as its child
(app/programs.py)."""

import multiprocessing
import sys

from app.programs import dispatch

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a server started with --workers spawns processes
    raise SystemExit(dispatch(sys.argv[1:]))
