"""Where the station and the server keep their data.

One place computes these paths; the Windows installer reads the same constants
(``APP_DIR_NAME``) so the data dir it keeps on uninstall is the one the app uses.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_DIR_NAME = "ektp-station"  # installer.nsi reads this line (!searchparse): keep its shape
SERVER_DIR_NAME = "ektp-server"
STATION_HOME_ENV = "EKTP_STATION_HOME"
SERVER_HOME_ENV = "EKTP_SERVER_HOME"


def _default_dir(name: str) -> Path:
    # On Windows the kit is shared by several operators: keep data per machine
    # (C:\ProgramData\<name>), outside Program Files. Elsewhere the user's data dir.
    if sys.platform == "win32":
        return Path(platformdirs.site_data_dir(name, appauthor=False))
    return Path(platformdirs.user_data_dir(name, appauthor=False))


def station_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--home`` wins, then ``EKTP_STATION_HOME``, then the platform data dir."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(STATION_HOME_ENV)
    if env:
        return Path(env)
    return _default_dir(APP_DIR_NAME)


def server_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--home`` wins, then ``EKTP_SERVER_HOME``, then the platform data dir."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(SERVER_HOME_ENV)
    if env:
        return Path(env)
    return _default_dir(SERVER_DIR_NAME)
