"""Group-committed "uploaded" marks: fewer store commits, nothing lost, nothing marked early."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from app.store.db import open_store
from app.store.outbox import Outbox
from app.sync.station import StationSync
from tests.support.server import ServerProcess
from tests.sync.helpers import provisioned_home, seal_n


def test_marks_group_committed_and_flushed_before_return(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            sent = seal_n(store, 40)
            sync = StationSync(store)
            sync.engine.group_s = 60.0  # flush on count (32) and at the end of each batch only
            commits: list[int] = []

            def on_commit(_conn: Any) -> None:
                commits.append(1)

            event.listen(store.engine, "commit", on_commit)
            marked_at_callback: list[int] = []
            outbox = Outbox(store)

            def on_item(_item: Any, outcome: str) -> None:
                assert outcome == "uploaded"
                marked_at_callback.append(outbox.counts()["uploaded"])

            result = sync.drain(on_item=on_item)
            event.remove(store.engine, "commit", on_commit)
            assert result.error is None and result.uploaded == 40
            # two store transactions (32 + 8 receipts), not one per record
            assert len(commits) <= 3, commits
            counts = outbox.counts()
            assert counts["uploaded"] == 40 and counts["sealed"] == 0
            # the callback fires when the mark is durable, never before
            assert all(n >= i + 1 for i, n in enumerate(marked_at_callback))
            for uuid, sha in sent.items():
                assert outbox.get_sha256(uuid) == sha
            assert {r["sha256"] for r in result.receipts} == set(sent.values())


def test_stop_flushes_marks_in_hand(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            seal_n(store, 20)
            sync = StationSync(store)
            sync.engine.group_s = 60.0
            asked = [0]

            def should_stop() -> bool:
                asked[0] += 1
                return asked[0] > 4

            result = sync.drain(should_stop=should_stop)
            counts = Outbox(store).counts()
            assert 1 <= result.uploaded < 20
            assert counts["uploaded"] == result.uploaded
            assert counts["sealed"] == 20 - result.uploaded


def test_receipt_never_marked_is_sent_again_and_answered_the_same(tmp_path: Path) -> None:
    """A crash after the server's receipt but before the group commit: the record is still
    sealed, goes again, and the idempotent server answers with the same receipt."""
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            seal_n(store, 3)
            sync = StationSync(store)
            outbox = Outbox(store)
            first = outbox.due(sync.engine.now_dt(), 10)[0]
            receipt = sync.engine.send(first)  # acknowledged, never marked ("crash")
            assert receipt["sha256"] == first.sha256
            assert outbox.counts()["sealed"] == 3
            result = sync.drain()
            assert result.error is None and result.uploaded == 3
            again = next(r for r in result.receipts if r["uuid"] == first.uuid)
            assert again == receipt  # same sha256, same received_at: stored once
            assert outbox.counts()["uploaded"] == 3
