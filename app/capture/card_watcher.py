"""Watching PC/SC readers and cards on a thread of its own (``CardWatcher``): insertions,
removals, readers plugged and unplugged, the service going away and coming back.

It owns its PC/SC context, so ``stop()`` cancels a blocking wait at once (``SCardCancel``);
a vanished PC/SC service becomes a status event, not a stack trace from a thread nobody can
join. Reading what a card yields is :mod:`app.capture.reader`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

# The PC/SC helpers are the reader module's (one place for the error names and the context).
from app.background import BackgroundLoop
from app.capture.reader import (
    _READER_GONE,
    _SERVICE_GONE,
    DEFAULT_PROFILES,
    PNP_READER,
    ApduProfile,
    CardInfo,
    ReaderList,
    ReaderStatus,
    _err,
    _establish,
    _is,
    _list,
    read_card,
    scard,
)


class EventKind(StrEnum):
    STATUS = "status"  # the service or the reader list changed (see status / readers)
    INSERTED = "inserted"
    REMOVED = "removed"


@dataclass(frozen=True)
class ReaderEvent:
    kind: EventKind
    status: ReaderStatus
    readers: list[str]
    message: str
    reader: str | None = None
    atr: bytes | None = None
    card: CardInfo | None = None  # for INSERTED when the watcher reads cards


class CardWatcher(BackgroundLoop):
    """Watches readers and cards on its own thread; ``on_event`` is called from that thread.

    Emits STATUS first (service and readers as found), INSERTED for cards already present,
    then every change. When the PC/SC service goes away it emits REMOVED for present cards and
    a NO_SERVICE STATUS, and retries every ``retry_seconds`` until the service is back.
    ``stop()`` cancels the blocking wait and joins the thread.
    """

    thread_name = "card-watcher"

    def __init__(
        self,
        on_event: Callable[[ReaderEvent], None],
        *,
        read_cards: bool = True,
        profiles: Sequence[ApduProfile] = DEFAULT_PROFILES,
        read_timeout: float = 3.0,
        retry_seconds: float = 1.0,
        wait_ms: int = 1000,
    ) -> None:
        super().__init__()
        self.on_event = on_event
        self.read_cards = read_cards
        self.profiles = tuple(profiles)
        self.read_timeout = read_timeout
        self.retry_seconds = retry_seconds
        self.wait_ms = wait_ms
        self.status = ReaderStatus.NO_SERVICE
        self.readers: list[str] = []
        self.present: dict[str, bytes] = {}  # reader -> ATR of the card on it
        self.error: BaseException | None = None
        self._ctx: int | None = None
        self._ctx_lock = threading.Lock()
        self._last_status: tuple[ReaderStatus, tuple[str, ...]] | None = None

    def stop(self, timeout: float = 3.0) -> bool:
        """Stop watching; True when the thread ended within ``timeout``."""
        return super().stop(timeout)

    def _interrupt(self) -> None:
        # SCardCancel only wakes a wait in progress: stop() repeats it in case the thread was
        # between two waits when it came.
        with self._ctx_lock:
            if self._ctx is not None and scard is not None:
                scard.SCardCancel(self._ctx)

    # -- thread ----------------------------------------------------------------------
    def _emit_status(self, listing: ReaderList) -> None:
        self.status = listing.status
        self.readers = list(listing.readers)
        key = (listing.status, tuple(listing.readers))
        if key != self._last_status:
            self._last_status = key
            self.on_event(
                ReaderEvent(
                    EventKind.STATUS, listing.status, list(listing.readers), listing.message
                )
            )

    def _emit_removed_all(self, why: str) -> None:
        for reader in list(self.present):
            del self.present[reader]
            self.on_event(
                ReaderEvent(EventKind.REMOVED, self.status, list(self.readers), why, reader)
            )

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                ctx, failure = _establish()
                if failure is not None:
                    self._emit_removed_all(failure.message)
                    self._emit_status(failure)
                    if failure.status == ReaderStatus.UNAVAILABLE:
                        return  # no library: nothing will change while we run
                    self._stop.wait(self.retry_seconds)
                    continue
                with self._ctx_lock:
                    self._ctx = ctx
                try:
                    if self._stop.is_set():  # stop() came before the context was published
                        return
                    self._watch(ctx)  # type: ignore[arg-type]
                finally:
                    with self._ctx_lock:
                        self._ctx = None
                    if scard is not None:
                        scard.SCardReleaseContext(ctx)
                if not self._stop.is_set():
                    self._stop.wait(self.retry_seconds)
        except Exception as e:  # never let a thread die with a trace on the console
            self.error = e

    def _watch(self, ctx: int) -> None:
        """Watch with one context until stop, or until the service goes away."""
        while not self._stop.is_set() and self._watch_readers(ctx):
            pass

    def _watch_readers(self, ctx: int) -> bool:
        """Watch the current reader list; True = the list changed, list again."""
        assert scard is not None
        listing = _list(ctx)
        if listing.status in (ReaderStatus.NO_SERVICE, ReaderStatus.ERROR):
            self._emit_removed_all(listing.message)
            self._emit_status(listing)
            return False
        self._emit_status(listing)
        for unplugged in [r for r in self.present if r not in listing.readers]:
            del self.present[unplugged]
            self.on_event(
                ReaderEvent(
                    EventKind.REMOVED, self.status, list(self.readers), "Reader gone.", unplugged
                )
            )
        states = [(r, scard.SCARD_STATE_UNAWARE) for r in listing.readers]
        states.append((PNP_READER, scard.SCARD_STATE_UNAWARE))
        while not self._stop.is_set():
            hr, new_states = scard.SCardGetStatusChange(ctx, self.wait_ms, states)
            if hr == scard.SCARD_S_SUCCESS:
                relist = False
                next_states = []
                for name, state, atr in new_states:
                    if name == PNP_READER:
                        relist = relist or bool(state & scard.SCARD_STATE_CHANGED)
                    elif state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                        relist = True
                    else:
                        self._card_state(name, state, bytes(atr))
                    next_states.append((name, state & ~scard.SCARD_STATE_CHANGED))
                states = next_states
                if relist:
                    return True
            elif _is(hr, "SCARD_E_TIMEOUT"):
                continue
            elif _is(hr, "SCARD_E_CANCELLED"):
                return False
            elif _is(hr, *_READER_GONE):
                return True
            elif _is(hr, *_SERVICE_GONE, "SCARD_E_INVALID_HANDLE"):
                gone = ReaderList(ReaderStatus.NO_SERVICE, [], "The smart card service stopped.")
                self._emit_removed_all(gone.message)
                self._emit_status(gone)
                return False
            else:
                # Unknown error: report it and start over with a new context.
                self._emit_status(ReaderList(ReaderStatus.ERROR, [], f"PC/SC error: {_err(hr)}"))
                return False
        return False

    def _card_state(self, reader: str, state: int, atr: bytes) -> None:
        assert scard is not None
        present = bool(state & scard.SCARD_STATE_PRESENT)
        if present and reader not in self.present:
            self.present[reader] = atr
            card = None
            if self.read_cards:
                # stop() must not wait for a card that does not answer (up to read_timeout).
                card = read_card(reader, self.profiles, self.read_timeout, cancel=self._stop)
                if self._stop.is_set():
                    return
            self.on_event(
                ReaderEvent(
                    EventKind.INSERTED,
                    self.status,
                    list(self.readers),
                    card.message if card is not None else "Card inserted.",
                    reader,
                    atr,
                    card,
                )
            )
        elif not present and reader in self.present:
            del self.present[reader]
            self.on_event(
                ReaderEvent(
                    EventKind.REMOVED, self.status, list(self.readers), "Card removed.", reader
                )
            )
