from __future__ import annotations

import os

import pytest

from tests.support import windows_build

# Qt tests run offscreen unless a test starts its own X server.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# tests.support.pcsc: the pcscd fixtures (pcscd, pcscd_session) for every test package.
# Importing it first also points libpcsclite at this process's private pcscd socket before
# any PC/SC call.
# tests.support.server_fixtures: server processes, a throwaway PostgreSQL cluster and
# enrolled test stations (tests/server, tests/sync, bench): one session-scoped cluster.
pytest_plugins = ["tests.support.pcsc", "tests.support.server_fixtures", "tests.support.seaweed"]

# The files that take longest (`make test` prints the slowest tests), started first: the
# workers get a file at a time (`--dist loadfile`), and a long file handed out last keeps one
# worker busy while the other has nothing left. Order only; every test still runs.
# The Windows build's file comes after them: its build runs in the background from the start
# (tests/support/windows_build.py) and is done by then.
LONG_FILES = (
    "tests/installer/test_wine_round_trip.py",
    "tests/server/test_card_check.py",
    "tests/sync/test_centre_kits.py",
    "tests/server/test_processing.py",
    "tests/server/test_relay_pull.py",
    "tests/server/test_relay_trouble.py",
    "tests/web/test_office.py",
    "tests/freeze/test_frozen_windows.py",
    "tests/sync/test_provision_retry.py",
    "tests/server/test_hostile_requests.py",
)


def pytest_sessionstart(session: pytest.Session) -> None:
    windows_build.start(session.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    windows_build.finish(session.config)


def pytest_collection_modifyitems(items: list) -> None:  # type: ignore[type-arg]
    rank = {path: i for i, path in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(LONG_FILES)))
