"""The resident being recorded, as one thing that can be forgotten in one call.

What the operator types, the photo, the signature, the card and the review page built from
them live in the steps' widgets (memory only, never on disk). Each of those steps is a part
of the ``Draft``; ``forget()`` empties every part (a cleared signature cannot be brought back
with "Kembalikan coretan") and makes the answers still under way for the old draft (a photo
being checked, a seal) stale: ``is_current(token)`` says whether an answer may land.
"""

from __future__ import annotations

from typing import Protocol


class DraftPart(Protocol):
    def forget(self) -> None:
        """Drop what this part holds about the resident, beyond any undo."""

    def holds_resident(self) -> bool:
        """Something the operator entered that leaving now would lose."""


class Draft:
    def __init__(self) -> None:
        self._parts: list[DraftPart] = []
        self._generation = 0

    def hold(self, *parts: DraftPart) -> None:
        self._parts.extend(parts)

    def token(self) -> int:
        """Taken when work for this draft starts; see ``is_current``."""
        return self._generation

    def is_current(self, token: int) -> bool:
        """False once the draft the token was taken for has been forgotten."""
        return token == self._generation

    def holds_resident(self) -> bool:
        return any(part.holds_resident() for part in self._parts)

    def forget(self) -> None:
        self._generation += 1
        for part in self._parts:
            part.forget()
