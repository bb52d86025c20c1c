"""The receipts of one drain batch in hand, marked uploaded in groups (one store transaction
each): at ``group_n`` receipts or ``group_s`` after the first, and before any other outcome is
recorded (app/sync/engine.py, ``SyncEngine._drain_batch``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine imports this module
    from app.sync.engine import DrainResult


class ReceiptGroup:
    def __init__(
        self,
        mark_uploaded: Callable[[list[tuple[Any, dict[str, Any]]]], None],
        group_n: int,
        group_s: float,
        result: DrainResult,
        on_item: Callable[[Any, str], None] | None,
        on_recorded: Callable[[], None] | None,
    ) -> None:
        self.mark_uploaded = mark_uploaded
        self.group_n = group_n
        self.group_s = group_s
        self.result = result
        self.on_item = on_item
        self.on_recorded = on_recorded
        self.marks: list[tuple[Any, dict[str, Any]]] = []
        self.first_mark = 0.0

    def add(self, item: Any, receipt: dict[str, Any]) -> None:
        if not self.marks:
            self.first_mark = time.monotonic()
        self.marks.append((item, receipt))

    def group_due(self) -> bool:
        return bool(self.marks) and (
            len(self.marks) >= self.group_n or time.monotonic() - self.first_mark >= self.group_s
        )

    def flush(self) -> None:
        """Mark the buffered receipts uploaded in one store transaction."""
        if not self.marks:
            return
        group = list(self.marks)
        self.marks.clear()
        self.mark_uploaded(group)
        result = self.result
        for item, receipt in group:
            result.uploaded += 1
            result.bytes_sent += len(item.data)
            result.receipts.append(receipt)
            if self.on_item:
                self.on_item(item, "uploaded")
        if self.on_recorded:
            self.on_recorded()
