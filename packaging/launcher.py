"""Entry point of the frozen station (PyInstaller): the same CLI as ``python -m app``."""

import multiprocessing

from app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the demo's local server may spawn processes
    raise SystemExit(main())
