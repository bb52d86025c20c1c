"""What a thread that should have ended is doing: its stack, for a failing assertion."""

from __future__ import annotations

import sys
import threading
import traceback


def thread_stacks(names: list[str]) -> str:
    frames = sys._current_frames()
    parts = []
    for t in threading.enumerate():
        if t.name in names and t.ident in frames:
            stack = "".join(traceback.format_stack(frames[t.ident]))
            parts.append(f"--- thread {t.name} ---\n{stack}")
    return "\n".join(parts) or f"threads still alive: {names}"
