from __future__ import annotations

import os

# Qt tests run offscreen unless a test starts its own X server.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Server processes, a throwaway PostgreSQL cluster and enrolled test stations (tests/server,
# tests/sync, bench): one session-scoped cluster for the whole run.
pytest_plugins = ["tests.support.server_fixtures"]
