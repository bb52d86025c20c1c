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


def _home(explicit: str | os.PathLike[str] | None, env_var: str, dir_name: str) -> Path:
    """``--home`` wins, then the environment variable, then the platform data dir."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(env_var)
    if env:
        return Path(env)
    return _default_dir(dir_name)


def station_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--home`` wins, then ``EKTP_STATION_HOME``, then the platform data dir."""
    return _home(explicit, STATION_HOME_ENV, APP_DIR_NAME)


def server_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--home`` wins, then ``EKTP_SERVER_HOME``, then the platform data dir."""
    return _home(explicit, SERVER_HOME_ENV, SERVER_DIR_NAME)
