"""Moves made offline are reported upstream before the kit asks for its assignment.

A technician may move the kit to another kecamatan with another supervisor's approval while
it has no network (app/store/station.py ``move_kit``). On the next pull the station first
reports each such move (``POST /api/v1/station/moves``: from, to, when, by whom, approved by;
signed) and only then asks for its assignment, so the server's older assignment does not
undo the move. The server records the move in the assignment history; a central assignment
made after the move wins (server/moves.py). The outcome is kept on the move's row and shown
by ``status`` (``assignment``).
"""

from __future__ import annotations

from typing import Any

from app import protocol
from app.store.central import mark_move_reported, previous_kecamatan, unreported_moves
from app.store.timeutil import iso
from app.sync.engine import SyncError

MOVES_PATH = protocol.API_PREFIX + "/station/moves"


def report(sync: Any) -> list[dict[str, Any]]:
    """Report the unreported moves; returns the server's outcome for each."""
    moves = unreported_moves(sync.store)
    if not moves:
        return []
    sync.ensure_server_key()
    body = {
        "moves": [
            {
                "moved_at": iso(m.from_at),
                "from": previous_kecamatan(sync.store, m.id),
                "to": m.kecamatan,
                "moved_by": m.set_by,
                "approved_by": m.approved_by,
                "reason": m.reason,
            }
            for m in moves
        ]
    }
    answer = sync.engine.signed_json("POST", MOVES_PATH, body)
    outcomes = answer.get("moves") if isinstance(answer, dict) else None
    if not isinstance(outcomes, list) or len(outcomes) != len(moves):
        raise SyncError("server", "moves answer does not list each move reported")
    # The server answers in time order, as the rows were made.
    for move, outcome in zip(moves, outcomes, strict=True):
        word = str(outcome.get("outcome") or "")
        if word == "superseded":
            text = (
                f"superseded: the central office assigned kecamatan {answer.get('kecamatan')} "
                f"at {answer.get('assigned_at')}, after this move"
            )
        else:
            text = "applied: the centre keeps this move"
        mark_move_reported(sync.store, move.id, text)
    return list(outcomes)
