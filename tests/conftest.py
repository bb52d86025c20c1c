from __future__ import annotations

import os

# Qt tests run offscreen unless a test starts its own X server.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The pcscd fixtures (pcscd, pcscd_session) for every test package. Importing it here, first,
# also points libpcsclite at this process's private pcscd socket before any PC/SC call.
pytest_plugins = ["tests.support.pcsc"]
