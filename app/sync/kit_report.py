"""What the kit tells the centre on each pull (issue 12), as a list of steps.

``BEFORE_ASSIGNMENT`` runs before the kit asks for its assignment (a move made offline must
reach the server before the server's older assignment could undo it); ``AFTER_SYNC`` after
each drain and on the worker's maintenance interval: the kit's health and its audit events.
Each step takes the ``StationSync`` and raises SyncError on failure; ``report`` runs the
after-sync steps, each on its own (a failed health report does not stop the audit upload),
and returns the errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.sync import audit_upload, health, moves
from app.sync.engine import SyncError

log = logging.getLogger(__name__)

Step = Callable[[Any], Any]
BEFORE_ASSIGNMENT: list[Step] = [moves.report]
AFTER_SYNC: list[Step] = [health.send, audit_upload.upload]


def report(sync: Any) -> list[str]:
    """Run the after-sync steps; the messages of those that failed."""
    errors = []
    for step in AFTER_SYNC:
        try:
            step(sync)
        except SyncError as err:
            log.info("report to the centre: %s", err.message)
            errors.append(err.message)
    return errors
