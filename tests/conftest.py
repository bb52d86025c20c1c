from __future__ import annotations

import os

# Qt tests run offscreen unless a test starts its own X server.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# tests.support.pcsc: the pcscd fixtures (pcscd, pcscd_session) for every test package.
# Importing it first also points libpcsclite at this process's private pcscd socket before
# any PC/SC call.
# tests.support.server_fixtures: server processes, a throwaway PostgreSQL cluster and
# enrolled test stations (tests/server, tests/sync, bench): one session-scoped cluster.
pytest_plugins = ["tests.support.pcsc", "tests.support.server_fixtures", "tests.support.seaweed"]
