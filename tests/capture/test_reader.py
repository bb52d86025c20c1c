"""The card reader against a real PC/SC stack: pcscd + vpcd + cards scripted by the test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.capture.card_watcher import CardWatcher, EventKind, ReaderEvent
from app.capture.reader import (
    CardStatus,
    PlainReaderProfile,
    ProfileResult,
    ReaderStatus,
    Transmit,
    list_readers,
    read_card,
    scan,
)
from tests.support.pcsc import DEFAULT_ATR, DEFAULT_UID, GET_UID, PcscDaemon

pytestmark = pytest.mark.pcsc

READER0 = "Virtual PCD 00 00"
READER1 = "Virtual PCD 00 01"
# Seconds: what "promptly" means for stop(). SCardCancel ends the wait in a few ms; what it
# must cut short is a 10 s (or a 30 s retry) wait, and stop() itself gives up after 3 s:
# 2 s tells prompt from stuck with room for a loaded 2-core CI machine.
STOP_BOUND = 2.0


class Events:
    """Collects watcher events; waits for one that matches."""

    def __init__(self) -> None:
        self.items: list[ReaderEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: ReaderEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait(self, match: Callable[[ReaderEvent], bool], timeout: float = 20.0) -> ReaderEvent:
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = 0
            while True:
                for e in self.items[seen:]:
                    if match(e):
                        return e
                seen = len(self.items)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching event; got {self.kinds()}")
                self._cond.wait(left)

    def kinds(self) -> list[tuple[str, str, str | None]]:
        return [(e.kind.value, e.status.value, e.reader) for e in self.items]


def kind(k: EventKind, reader: str | None = None, status: ReaderStatus | None = None):
    return lambda e: (
        e.kind == k
        and (reader is None or e.reader == reader)
        and (status is None or e.status == status)
    )


def test_lists_the_virtual_readers(pcscd: PcscDaemon) -> None:
    listing = list_readers()
    assert listing.status == ReaderStatus.OK
    assert listing.readers == [READER0, READER1]
    assert listing.message == "2 readers found."


def test_reads_atr_and_uid(pcscd: PcscDaemon) -> None:
    card = pcscd.card(uid=bytes.fromhex("04112233445566"))
    card.insert()
    pcscd.wait_card(present=True)
    info = read_card(READER0)
    assert info.status == CardStatus.OK
    assert info.atr == DEFAULT_ATR
    assert info.uid_hex == "04112233445566"
    assert info.sw == "9000" and info.profile == "plain"
    assert card.apdus == [GET_UID]
    d = info.as_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["atr"] == DEFAULT_ATR.hex().upper()


def test_uid_refused_by_status_word(pcscd: PcscDaemon) -> None:
    pcscd.card(uid_sw=b"\x6a\x81").insert()
    pcscd.wait_card(present=True)
    info = read_card(READER0)
    assert info.status == CardStatus.UID_UNSUPPORTED
    assert info.atr == DEFAULT_ATR and info.uid is None
    assert info.sw == "6A81"
    assert "6A81" in info.message


def test_no_card_and_unknown_reader(pcscd: PcscDaemon) -> None:
    assert read_card(READER0).status == CardStatus.NO_CARD
    missing = read_card("No Such Reader 00 00")
    assert missing.status == CardStatus.NO_READER
    assert "No Such Reader" in missing.message


class EktpLikeProfile:
    """A profile for a card the test recognises by ATR: SELECT an application, read a record."""

    name = "test-app"
    SELECT = bytes.fromhex("00A4040007A0000000031010")
    READ = bytes.fromhex("00B2010C00")

    def __init__(self, atr: bytes) -> None:
        self.atr = atr

    def matches(self, atr: bytes) -> bool:
        return atr == self.atr

    def read(self, transmit: Transmit, atr: bytes) -> ProfileResult:
        selected = transmit(self.SELECT)
        if not selected.ok:
            return ProfileResult(None, CardStatus.ERROR, "select failed", selected.sw)
        record = transmit(self.READ)
        uid = transmit(GET_UID)
        return ProfileResult(
            uid.data, CardStatus.OK, "read", record.sw, {"record": record.data.decode()}
        )


def test_profiles_are_pluggable_and_chosen_by_atr(pcscd: PcscDaemon) -> None:
    special_atr = bytes.fromhex("3B8A800100000000000000000000")
    profiles = [EktpLikeProfile(special_atr), PlainReaderProfile()]
    card = pcscd.card(
        atr=special_atr,
        responses={
            EktpLikeProfile.SELECT: b"\x90\x00",
            EktpLikeProfile.READ: b"OPERATOR-7\x90\x00",
        },
    )
    card.insert()
    pcscd.wait_card(present=True)
    info = read_card(READER0, profiles)
    assert info.profile == "test-app"
    assert info.fields == {"record": "OPERATOR-7"}
    assert info.uid == DEFAULT_UID
    assert card.apdus == [EktpLikeProfile.SELECT, EktpLikeProfile.READ, GET_UID]
    # Another card (other ATR) on the other reader falls through to the plain profile.
    pcscd.card(slot=1).insert()
    pcscd.wait_card(present=True, reader=1)
    plain = read_card(READER1, profiles)
    assert plain.profile == "plain" and plain.uid == DEFAULT_UID


def test_card_taken_away_during_the_read(pcscd: PcscDaemon) -> None:
    holder: dict[str, object] = {}

    def vanish(apdu: bytes) -> bytes | None:
        holder["card"].remove()  # type: ignore[attr-defined]
        return None

    card = pcscd.card(handler=vanish)
    holder["card"] = card
    card.insert()
    pcscd.wait_card(present=True)
    info = read_card(READER0, timeout=5)
    assert info.status in (CardStatus.NO_CARD, CardStatus.NO_ANSWER), info
    assert info.atr == DEFAULT_ATR and info.uid is None


def test_card_that_stops_answering(pcscd: PcscDaemon) -> None:
    card = pcscd.card(slot=1)
    card.insert()
    pcscd.wait_card(present=True, reader=1)
    assert read_card(READER1).status == CardStatus.OK
    card.mute = True
    t0 = time.monotonic()
    info = read_card(READER1, timeout=1.0)
    assert info.status == CardStatus.NO_ANSWER
    # vpcd holds a mute exchange for 15 s: well under that proves the timeout cut it short,
    # with room for a loaded machine (SCardEstablishContext alone can take a while).
    assert time.monotonic() - t0 < 6.0
    assert info.message == "The card did not answer within 1 s."
    # vpcd holds the mute exchange for 15 s: restart the stack for the next tests.
    pcscd.stop()


def test_watcher_insert_remove_reinsert(pcscd: PcscDaemon) -> None:
    events = Events()
    watcher = CardWatcher(events, wait_ms=10_000)
    watcher.start()
    try:
        first = events.wait(lambda e: True)
        assert first.kind == EventKind.STATUS and first.status == ReaderStatus.OK
        assert first.readers == [READER0, READER1]
        card = pcscd.card(uid=bytes.fromhex("0A0B0C0D"))
        card.insert()
        inserted = events.wait(kind(EventKind.INSERTED, READER0))
        assert inserted.atr == DEFAULT_ATR
        assert inserted.card is not None and inserted.card.uid_hex == "0A0B0C0D"
        assert watcher.present == {READER0: DEFAULT_ATR}
        card.remove()
        events.wait(kind(EventKind.REMOVED, READER0))
        assert watcher.present == {}
        card.uid = bytes.fromhex("0E0F1011")
        card.insert()  # reinsertion
        again = [e for e in events.items if e.kind == EventKind.INSERTED]
        events.wait(lambda e: e.kind == EventKind.INSERTED and e not in again)
        assert [
            e.card.uid_hex for e in events.items if e.kind == EventKind.INSERTED and e.card
        ] == [
            "0A0B0C0D",
            "0E0F1011",
        ]
    finally:
        t0 = time.monotonic()
        assert watcher.stop()
    # SCardCancel wakes the 10 s wait at once.
    assert time.monotonic() - t0 < STOP_BOUND
    assert watcher.error is None and not watcher.running


def test_watcher_reports_card_already_present(pcscd: PcscDaemon) -> None:
    pcscd.card(slot=1).insert()
    pcscd.wait_card(present=True, reader=1)
    events = Events()
    watcher = CardWatcher(events, read_cards=False)
    watcher.start()
    try:
        e = events.wait(kind(EventKind.INSERTED, READER1))
        assert e.card is None and e.atr == DEFAULT_ATR
    finally:
        assert watcher.stop()


def test_watcher_survives_the_service_going_away(
    pcscd: PcscDaemon, capfd: pytest.CaptureFixture[str]
) -> None:
    events = Events()
    watcher = CardWatcher(events, retry_seconds=0.2)
    watcher.start()
    try:
        events.wait(kind(EventKind.STATUS, status=ReaderStatus.OK))
        pcscd.card().insert()
        events.wait(kind(EventKind.INSERTED, READER0))
        # Kill pcscd (the card goes with it).
        pcscd.stop()
        events.wait(kind(EventKind.REMOVED, READER0))
        gone = events.wait(kind(EventKind.STATUS, status=ReaderStatus.NO_SERVICE))
        assert "service" in gone.message
        assert watcher.status == ReaderStatus.NO_SERVICE and watcher.running
        # Service back: the watcher finds it again, and sees new cards.
        pcscd.start()
        n = len(events.items)
        events.wait(lambda e: e in events.items[n:] and e.status == ReaderStatus.OK)
        pcscd.card().insert()
        events.wait(lambda e: e in events.items[n:] and e.kind == EventKind.INSERTED)
    finally:
        assert watcher.stop()
    assert watcher.error is None
    out = capfd.readouterr()
    assert out.err == "" and out.out == ""  # no stray errors from any thread


def test_watcher_without_service_and_prompt_stop(pcscd: PcscDaemon) -> None:
    pcscd.stop()
    assert list_readers().status == ReaderStatus.NO_SERVICE
    assert scan().as_dict()["status"] == "no_service"
    assert read_card(READER0).status == CardStatus.NO_SERVICE
    events = Events()
    watcher = CardWatcher(events, retry_seconds=30)
    watcher.start()
    try:
        e = events.wait(lambda e: True)
        assert e.kind == EventKind.STATUS and e.status == ReaderStatus.NO_SERVICE
        assert "not running" in e.message
    finally:
        t0 = time.monotonic()
        assert watcher.stop()
        assert time.monotonic() - t0 < STOP_BOUND


def test_service_with_no_reader(pcscd: PcscDaemon, tmp_path: Path) -> None:
    pcscd.stop()
    bare = PcscDaemon(tmp_path, with_vpcd=False)
    bare.start()
    try:
        listing = list_readers()
        assert listing.status == ReaderStatus.NO_READER
        assert listing.message == "No card reader is connected."
        assert scan().as_dict() == {
            "status": "no_reader",
            "readers": [],
            "card_present": False,
            "cards": [],
            "message": "No card reader is connected.",
        }
        events = Events()
        watcher = CardWatcher(events)
        watcher.start()
        try:
            e = events.wait(lambda e: True)
            assert e.status == ReaderStatus.NO_READER and e.readers == []
        finally:
            assert watcher.stop()
    finally:
        bare.stop()


def test_scan_reports_readers_and_cards(pcscd: PcscDaemon) -> None:
    empty = scan()
    assert empty.status == ReaderStatus.OK and empty.cards == []
    assert empty.message == "2 readers found. No card."
    pcscd.card(slot=1, uid=bytes.fromhex("CAFE0001")).insert()
    pcscd.wait_card(present=True, reader=1)
    result = scan().as_dict()
    assert json.loads(json.dumps(result)) == result
    assert result["card_present"] is True
    assert [(c["reader"], c["uid"], c["atr"]) for c in result["cards"]] == [
        (READER1, "CAFE0001", DEFAULT_ATR.hex().upper())
    ]


def test_watcher_stops_promptly_while_a_mute_card_is_being_read(pcscd: PcscDaemon) -> None:
    # A card that stops answering (half out of the field, a broken antenna) is on the reader
    # when the station closes: the watcher is inside the card's read, waiting for an answer.
    card = pcscd.card()
    card.mute = True
    events = Events()
    watcher = CardWatcher(events, read_timeout=10.0)
    watcher.start()
    try:
        events.wait(kind(EventKind.STATUS, status=ReaderStatus.OK))
        card.insert()
        deadline = time.monotonic() + 20
        while not card.apdus:  # the watcher's read has sent GET UID
            assert time.monotonic() < deadline, "the watcher never read the card"
            time.sleep(0.01)
    finally:
        t0 = time.monotonic()
        stopped = watcher.stop()
        took = time.monotonic() - t0
        # vpcd holds the mute exchange for 15 s: restart the stack for the next tests.
        pcscd.stop()
    assert stopped and took < STOP_BOUND, took
    assert watcher.error is None
    # No half-read card is reported after stop().
    assert [e.kind for e in events.items] == [EventKind.STATUS]
