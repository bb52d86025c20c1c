"""The installer under wine (64-bit prefix), driven silently as a technician would.

Install, upgrade, downgrade, uninstall; station data survives everything except an explicit
/REMOVEDATA, and that is refused while the (stand-in) station says records wait to be sent.
"""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

import pytest

from app.store.db import DB_NAME
from tests.installer.conftest import (
    DATA_DIR,
    INSTALL_DIR,
    NEW_VERSION,
    OLD_VERSION,
    SHORTCUT_DIR,
    UNINSTALL_KEY,
    Wine,
    recorded_commands,
    running_station,
)

pytestmark = pytest.mark.wine

REFUSED = 2  # installer.nsi's exit code for "refused, nothing changed"


def _dos(path: Path) -> str:
    """A Linux path as wine's Z: drive shows it."""
    return "Z:" + str(path).replace("/", "\\")


def _program(machine: Wine) -> Path:
    return machine.host(INSTALL_DIR)


def _data(machine: Wine) -> Path:
    return machine.host(DATA_DIR)


def _set_pending(machine: Wine, answer: str) -> None:
    """What the stand-in's `status --pending` prints next (bytes as given)."""
    (_data(machine) / "standin-pending.txt").write_bytes(answer.encode("ascii"))


def _shortcut_holds(machine: Wine, name: str, text: str) -> bool:
    """A .lnk keeps paths and arguments as UTF-16 (StringData) or ANSI (LinkInfo)."""
    raw = machine.host(SHORTCUT_DIR / name).read_bytes()
    return text.encode("utf-16-le") in raw or text.encode("latin-1") in raw


def test_install_upgrade_uninstall_keeps_station_data(
    machine: Wine, installers: dict[str, Path]
) -> None:
    # Fresh silent install.
    assert machine.install(installers[OLD_VERSION]) == 0
    program = _program(machine)
    for name in ("ektp-station.exe", "ektp-station-gui.exe", "uninstall.exe"):
        assert (program / name).is_file(), name
    assert (program / "_internal" / f"only-in-{OLD_VERSION}.txt").is_file()
    key = machine.registry_key(UNINSTALL_KEY)
    assert key is not None
    assert key["DisplayName"] == "e-KTP Station"
    assert key["DisplayVersion"] == OLD_VERSION
    assert key["Publisher"]
    assert key["InstallLocation"] == str(INSTALL_DIR)
    assert key["UninstallString"] == f'"{INSTALL_DIR}\\uninstall.exe"'
    assert key["QuietUninstallString"] == f'"{INSTALL_DIR}\\uninstall.exe" /S'
    assert _shortcut_holds(machine, "e-KTP Station.lnk", f"{INSTALL_DIR}\\ektp-station-gui.exe")
    doctor = f'/k ""{INSTALL_DIR}\\ektp-station.exe" doctor"'
    assert _shortcut_holds(machine, "e-KTP Station doctor.lnk", doctor)
    data = _data(machine)
    assert data.is_dir()

    # The station's data: a marker stands for the DB, keys and logs.
    marker = data / "marker.bin"
    marker.write_bytes(b"sealed records \x00\x01")

    # Silent upgrade, provisioning on the way.
    server = "http://127.0.0.1:8765/ektp"
    setup = _dos(installers[NEW_VERSION])
    assert machine.run_batch(f'"{setup}" /S /SERVER={server} /CODE=7Q2K-9XPD') == 0
    assert marker.read_bytes() == b"sealed records \x00\x01"
    key = machine.registry_key(UNINSTALL_KEY)
    assert key is not None and key["DisplayVersion"] == NEW_VERSION
    # The old uninstaller ran: the old version's files are gone, the new ones are there.
    assert not (program / "_internal" / f"only-in-{OLD_VERSION}.txt").exists()
    assert (program / "_internal" / f"only-in-{NEW_VERSION}.txt").is_file()
    assert (program / "ektp-station.exe").is_file()
    assert (program / "uninstall.exe").is_file()
    provision = (data / "standin-provision.txt").read_text().splitlines()
    assert provision == ["provision", "--server", server, "--code", "7Q2K-9XPD"]

    # A downgrade in silent mode is refused and changes nothing.
    assert machine.install(installers[OLD_VERSION]) == REFUSED
    key = machine.registry_key(UNINSTALL_KEY)
    assert key is not None and key["DisplayVersion"] == NEW_VERSION
    assert (program / "_internal" / f"only-in-{NEW_VERSION}.txt").is_file()

    # Silent uninstall, the way Windows runs QuietUninstallString: program gone, data kept.
    machine.uninstall()
    assert not program.exists()
    assert not machine.host(SHORTCUT_DIR).exists()
    assert machine.registry_key(UNINSTALL_KEY) is None
    assert marker.read_bytes() == b"sealed records \x00\x01"


def test_remove_data_is_refused_while_records_wait(
    machine: Wine, installers: dict[str, Path]
) -> None:
    assert machine.install(installers[NEW_VERSION]) == 0
    database = _data(machine) / DB_NAME  # a station was set up here
    database.write_bytes(b"x")

    _set_pending(machine, "12\r\n")
    assert machine.uninstall("/REMOVEDATA", in_place=True) == REFUSED
    assert database.exists()
    assert (_program(machine) / "ektp-station.exe").is_file()  # still there to send them
    assert machine.registry_key(UNINSTALL_KEY) is not None

    # A station that cannot say how many wait, or says it in a way the uninstaller does not
    # understand, is treated as "some wait".
    for answer in ("fail", "twelve\r\n", "012\r\n", "-1\r\n", "3 records\r\n", ""):
        _set_pending(machine, answer)
        assert machine.uninstall("/REMOVEDATA", in_place=True) == REFUSED, answer
        assert database.exists(), answer

    # The answer is the last line: a stray warning before it does not hide it.
    _set_pending(machine, "warning: something odd\r\n0\r\n")
    machine.uninstall("/REMOVEDATA")
    assert not _data(machine).exists()
    assert not _program(machine).exists()
    assert machine.registry_key(UNINSTALL_KEY) is None


def test_remove_data_of_a_station_never_set_up(machine: Wine, installers: dict[str, Path]) -> None:
    # The installer made the data folder; no station database was ever created in it.
    assert machine.install(installers[NEW_VERSION]) == 0
    data = _data(machine)
    assert data.is_dir() and not (data / DB_NAME).exists()
    (data / "notes.txt").write_text("not a station database")
    assert machine.uninstall("/REMOVEDATA", in_place=True) == 0
    assert not data.exists()
    assert machine.registry_key(UNINSTALL_KEY) is None


def test_refuses_while_the_station_runs(
    machine: Wine, installers: dict[str, Path], standin_exe: Path
) -> None:
    # While the stand-in holds the mutex wineserver -w would wait for it: no settling.
    with running_station(machine, standin_exe):
        assert machine.install(installers[OLD_VERSION], settle=False) == REFUSED
        assert not _program(machine).exists()

    assert machine.install(installers[OLD_VERSION]) == 0

    with running_station(machine, standin_exe):
        assert machine.install(installers[NEW_VERSION], settle=False) == REFUSED
        assert machine.uninstall("/REMOVEDATA", in_place=True, settle=False) == REFUSED
    key = machine.registry_key(UNINSTALL_KEY)
    assert key is not None and key["DisplayVersion"] == OLD_VERSION
    assert (_program(machine) / "_internal" / f"only-in-{OLD_VERSION}.txt").is_file()
    assert _data(machine).is_dir()


def test_bad_switches_and_failed_provisioning(machine: Wine, installers: dict[str, Path]) -> None:
    # /SERVER without /CODE: refused before anything is written.
    assert machine.install(installers[OLD_VERSION], "/SERVER=http://127.0.0.1:1") == REFUSED
    assert not _program(machine).exists()
    assert machine.registry_key(UNINSTALL_KEY) is None

    # A rejected code (quoted URL, as in a technician's batch file): the program is installed
    # and the exit code says that provisioning failed.
    setup = _dos(installers[OLD_VERSION])
    assert machine.run_batch(f'"{setup}" /S /SERVER="http://127.0.0.1:1/e" /CODE=REJECTED') == 3
    assert (_program(machine) / "ektp-station.exe").is_file()
    recorded = (_data(machine) / "standin-provision.txt").read_text().splitlines()
    assert recorded == ["provision", "--server", "http://127.0.0.1:1/e", "--code", "REJECTED"]


def test_another_folder_is_kept_on_upgrade(machine: Wine, installers: dict[str, Path]) -> None:
    folder = PureWindowsPath(r"C:\Apps\ektp")
    assert machine.install(installers[OLD_VERSION], f"/D={folder}") == 0
    assert machine.host(folder / "ektp-station.exe").is_file()
    assert not _program(machine).exists()

    assert machine.install(installers[NEW_VERSION]) == 0
    key = machine.registry_key(UNINSTALL_KEY)
    assert key is not None
    assert key["InstallLocation"] == str(folder)
    assert key["DisplayVersion"] == NEW_VERSION
    assert machine.host(folder / "_internal" / f"only-in-{NEW_VERSION}.txt").is_file()
    assert not _program(machine).exists()


def test_the_data_folder_is_given_to_the_station_accounts_only(
    machine: Wine, installers: dict[str, Path], command_recorder: Path
) -> None:
    """SYSTEM, Administrators and the station's group only: not inherited from ProgramData,
    the Users grant of earlier versions removed, the /USERS= accounts put in the group. (Wine's
    icacls and net do nothing: the commands the installer runs are what can be checked here.)"""
    group = "ektp-station-users"
    with recorded_commands(machine, command_recorder, "icacls.exe", "net.exe") as box:
        assert box.install(installers[NEW_VERSION], "/USERS=operator1,kit-gk-2") == 0
        log = box.prefix / "drive_c" / "recorded-commands.txt"
        lines = [ln.split(" ", 1)[1] for ln in log.read_text("utf-8-sig").splitlines()]
        data = str(DATA_DIR)
        assert lines == [
            f'localgroup "{group}" /add /comment:"e-KTP Station: may use the station data folder"',
            f'localgroup "{group}" "operator1" /add',
            f'localgroup "{group}" "kit-gk-2" /add',
            f'"{data}" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F '
            f'"{group}:(OI)(CI)M"',
            f'"{data}" /remove:g *S-1-5-32-545 *S-1-5-11',
            f'"{data}\\*" /reset /T /C /Q',
        ]
        assert not any("*S-1-5-32-545:" in ln for ln in lines)  # Users are granted nothing
        # When the ACL cannot be set the technician is told (exit 4), never silently open.
        log.unlink()
        (box.prefix / "drive_c" / "recorder-fails").touch()
        assert box.install(installers[NEW_VERSION]) == 4
