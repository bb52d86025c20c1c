"""The policy the central office sets for this kit, taken from the assignment answer.

``GET /api/v1/station`` (signed, checked by the engine before anything is applied) carries
``"policy": {key: value}``: the keys the office set for this kit, its kecamatan or every kit
(server/policy.py). The station makes exactly those its central values
(app/store/central.py): a key the office no longer sets goes back to the local value. An
answer without ``policy`` (a server of an earlier release) changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from app.store.central import store_policy
from app.store.db import Store

log = logging.getLogger(__name__)


def apply(store: Store, answer: dict[str, Any]) -> dict[str, str] | None:
    """Apply the answer's policy; returns the central policy now in force (None: the answer
    had none)."""
    received = answer.get("policy")
    if not isinstance(received, dict):
        return None
    in_force, problems = store_policy(store, received)
    for problem in problems:
        log.warning("central policy value not applied: %s", problem)
    return in_force
