"""The PC/SC card reader (pyscard): list readers, read ATR and UID, watch insertions.

Built on pyscard's thin ``smartcard.scard`` layer rather than its ``CardMonitor`` observer:
the watcher below owns its PC/SC context, so ``stop()`` can cancel a blocking wait at once
(``SCardCancel``) and a vanished PC/SC service becomes a status, not a stack trace from a
thread nobody can join. The watcher itself is in ``card_watcher.py``.

Nothing here raises for a missing service, a missing reader or a bad card: every call returns
a value with a ``ReaderStatus`` and a plain English message.

What a card yields is decided by pluggable APDU profiles. A plain PC/SC reader can read an
e-KTP's ATR and its UID (``FF CA 00 00 00``) and nothing else: the identity data needs the
ministry's SAM. The UID is not an identity either (it may be random per read); it links an
issued card to its record and an operator card to its operator.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

try:
    from smartcard import scard

    PYSCARD_ERROR: str | None = None
except ImportError as e:  # pragma: no cover - pyscard is a dependency; no winscard/pcsclite
    scard = None
    PYSCARD_ERROR = str(e)

PNP_READER = "\\\\?PnP?\\Notification"  # pseudo-reader: signals readers plugged / unplugged


class ReaderStatus(StrEnum):
    OK = "ok"  # service up, at least one reader
    NO_READER = "no_reader"  # service up, no reader attached
    NO_SERVICE = "no_service"  # PC/SC service (pcscd / Windows Smart Card service) not running
    UNAVAILABLE = "unavailable"  # the PC/SC library itself is missing
    ERROR = "error"


class CardStatus(StrEnum):
    OK = "ok"  # ATR and UID read
    UID_UNSUPPORTED = "uid_unsupported"  # ATR read; the reader/card refused GET UID
    NO_ANSWER = "no_answer"  # the card is in the field but does not answer
    NO_CARD = "no_card"  # nothing on the reader (or taken away during the read)
    NO_READER = "no_reader"
    NO_SERVICE = "no_service"
    ERROR = "error"


def _u32(hr: int) -> int:
    return hr & 0xFFFFFFFF


def _err(hr: int) -> str:
    if scard is None:
        return f"0x{_u32(hr):08X}"
    return f"{scard.SCardGetErrorMessage(hr).strip()} (0x{_u32(hr):08X})"


def _is(hr: int, *names: str) -> bool:
    if scard is None:
        return False
    return any(_u32(hr) == _u32(getattr(scard, n, -1)) for n in names)


_SERVICE_GONE = ("SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED", "SCARD_F_COMM_ERROR")
_CARD_GONE = ("SCARD_E_NO_SMARTCARD", "SCARD_W_REMOVED_CARD", "SCARD_W_RESET_CARD")
_READER_GONE = (
    "SCARD_E_UNKNOWN_READER",
    "SCARD_E_READER_UNAVAILABLE",
    "SCARD_E_NO_READERS_AVAILABLE",
)


# -- APDU profiles ------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> str:
        return f"{self.sw1:02X}{self.sw2:02X}"

    @property
    def ok(self) -> bool:
        return self.sw1 == 0x90 and self.sw2 == 0x00


class CardError(Exception):
    """An exchange with the card failed; ``status`` says how."""

    def __init__(self, status: CardStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Transmit = Callable[[bytes], Response]


@dataclass(frozen=True)
class ProfileResult:
    uid: bytes | None
    status: CardStatus
    message: str
    sw: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # profile-specific, JSON-ready


class ApduProfile(Protocol):
    """How to read one kind of card. The first profile whose ``matches`` is true is used."""

    name: str

    def matches(self, atr: bytes) -> bool: ...

    def read(self, transmit: Transmit, atr: bytes) -> ProfileResult: ...


GET_UID = bytes.fromhex("FFCA000000")


class PlainReaderProfile:
    """What any PC/SC reader can read from any contactless card: the UID (PC/SC part 3)."""

    name = "plain"

    def matches(self, atr: bytes) -> bool:
        return True

    def read(self, transmit: Transmit, atr: bytes) -> ProfileResult:
        r = transmit(GET_UID)
        if r.ok and r.data:
            return ProfileResult(r.data, CardStatus.OK, "Card read.", r.sw)
        return ProfileResult(
            None,
            CardStatus.UID_UNSUPPORTED,
            f"The reader or card refused GET UID (status word {r.sw}).",
            r.sw,
        )


DEFAULT_PROFILES: tuple[ApduProfile, ...] = (PlainReaderProfile(),)


# -- reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class CardInfo:
    reader: str
    status: CardStatus
    message: str
    atr: bytes | None = None
    uid: bytes | None = None
    profile: str | None = None
    sw: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def uid_hex(self) -> str | None:
        return self.uid.hex().upper() if self.uid is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reader": self.reader,
            "status": str(self.status),
            "message": self.message,
            "atr": self.atr.hex().upper() if self.atr is not None else None,
            "uid": self.uid_hex,
            "profile": self.profile,
            "sw": self.sw,
            "fields": dict(self.fields),
        }


@dataclass(frozen=True)
class ReaderList:
    status: ReaderStatus
    readers: list[str]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"status": str(self.status), "readers": list(self.readers), "message": self.message}


def _no_library() -> ReaderList:
    return ReaderList(
        ReaderStatus.UNAVAILABLE, [], f"The PC/SC library is not available ({PYSCARD_ERROR})."
    )


def _establish() -> tuple[int | None, ReaderList | None]:
    """A PC/SC context, or the status that explains why there is none."""
    if scard is None:
        return None, _no_library()
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        if _is(hr, *_SERVICE_GONE):
            return None, ReaderList(
                ReaderStatus.NO_SERVICE,
                [],
                "The smart card service is not running (pcscd on Linux, "
                "'Smart Card' service on Windows).",
            )
        return None, ReaderList(ReaderStatus.ERROR, [], f"PC/SC error: {_err(hr)}")
    return ctx, None


def _list(ctx: int) -> ReaderList:
    assert scard is not None
    hr, readers = scard.SCardListReaders(ctx, [])
    if hr == scard.SCARD_S_SUCCESS and readers:
        n = len(readers)
        return ReaderList(
            ReaderStatus.OK, list(readers), f"{n} reader{'s' if n > 1 else ''} found."
        )
    if hr == scard.SCARD_S_SUCCESS or _is(hr, "SCARD_E_NO_READERS_AVAILABLE"):
        return ReaderList(ReaderStatus.NO_READER, [], "No card reader is connected.")
    if _is(hr, *_SERVICE_GONE):
        return ReaderList(ReaderStatus.NO_SERVICE, [], "The smart card service stopped.")
    return ReaderList(ReaderStatus.ERROR, [], f"PC/SC error listing readers: {_err(hr)}")


def list_readers() -> ReaderList:
    """The readers PC/SC knows, or why there are none."""
    ctx, failure = _establish()
    if failure is not None:
        return failure
    assert scard is not None and ctx is not None
    try:
        return _list(ctx)
    finally:
        scard.SCardReleaseContext(ctx)


def _read_with_context(ctx: int, reader: str, profiles: Sequence[ApduProfile]) -> CardInfo:
    assert scard is not None
    hr, handle, protocol = scard.SCardConnect(
        ctx, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    if hr != scard.SCARD_S_SUCCESS:
        if _is(hr, *_CARD_GONE):
            return CardInfo(reader, CardStatus.NO_CARD, "No card on the reader.")
        if _is(hr, *_READER_GONE):
            return CardInfo(reader, CardStatus.NO_READER, f"No reader named {reader!r}.")
        if _is(hr, "SCARD_W_UNRESPONSIVE_CARD", "SCARD_W_UNPOWERED_CARD"):
            return CardInfo(reader, CardStatus.NO_ANSWER, "The card does not answer.")
        if _is(hr, *_SERVICE_GONE):
            return CardInfo(reader, CardStatus.NO_SERVICE, "The smart card service stopped.")
        return CardInfo(reader, CardStatus.ERROR, f"Cannot connect to the card: {_err(hr)}")
    try:
        hr, _name, _state, _proto, atr_list = scard.SCardStatus(handle)
        if hr != scard.SCARD_S_SUCCESS:
            status = CardStatus.NO_CARD if _is(hr, *_CARD_GONE) else CardStatus.ERROR
            return CardInfo(reader, status, f"Cannot read the card's ATR: {_err(hr)}")
        atr = bytes(atr_list)

        def transmit(apdu: bytes) -> Response:
            hr, resp = scard.SCardTransmit(handle, protocol, list(apdu))
            if hr != scard.SCARD_S_SUCCESS:
                if _is(hr, *_CARD_GONE):
                    raise CardError(CardStatus.NO_CARD, "The card was taken away during the read.")
                if _is(hr, *_SERVICE_GONE):
                    raise CardError(CardStatus.NO_SERVICE, "The smart card service stopped.")
                raise CardError(CardStatus.ERROR, f"APDU failed: {_err(hr)}")
            if len(resp) < 2:  # the card (or the virtual reader's timeout) said nothing
                raise CardError(CardStatus.NO_ANSWER, "The card does not answer.")
            return Response(bytes(resp[:-2]), resp[-2], resp[-1])

        profile = next((p for p in profiles if p.matches(atr)), None)
        if profile is None:
            return CardInfo(reader, CardStatus.OK, "Card present (no profile reads it).", atr)
        try:
            result = profile.read(transmit, atr)
        except CardError as e:
            return CardInfo(reader, e.status, e.message, atr, None, profile.name)
        return CardInfo(
            reader,
            result.status,
            result.message,
            atr,
            result.uid,
            profile.name,
            result.sw,
            dict(result.fields),
        )
    finally:
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)


def read_card(
    reader: str,
    profiles: Sequence[ApduProfile] = DEFAULT_PROFILES,
    timeout: float = 3.0,
    cancel: threading.Event | None = None,
) -> CardInfo:
    """ATR and UID (or what the matching profile reads) of the card on ``reader``.

    Gives up after ``timeout`` seconds with ``NO_ANSWER``: PC/SC has no per-APDU timeout and
    a mute card can hold a transmit for many seconds (vpcd: 15 s). The abandoned exchange ends
    on its own in a daemon thread. Gives up as soon as ``cancel`` is set (a watcher stopping).
    """
    ctx, failure = _establish()
    if failure is not None:
        status = {
            ReaderStatus.NO_SERVICE: CardStatus.NO_SERVICE,
            ReaderStatus.UNAVAILABLE: CardStatus.NO_SERVICE,
        }.get(failure.status, CardStatus.ERROR)
        return CardInfo(reader, status, failure.message)
    assert scard is not None and ctx is not None
    box: list[CardInfo] = []

    def work() -> None:
        try:
            box.append(_read_with_context(ctx, reader, profiles))
        except Exception as e:  # a profile's bug must not kill the caller
            box.append(CardInfo(reader, CardStatus.ERROR, f"Card read failed: {e!r}"))
        finally:
            scard.SCardReleaseContext(ctx)

    worker = threading.Thread(target=work, name="card-read", daemon=True)
    worker.start()
    deadline = time.monotonic() + timeout
    while worker.is_alive() and (left := deadline - time.monotonic()) > 0:
        if cancel is not None and cancel.is_set():
            break
        worker.join(min(left, 0.05) if cancel is not None else left)
    if box:
        return box[0]
    if cancel is not None and cancel.is_set():
        return CardInfo(reader, CardStatus.ERROR, "The card read was cancelled.")
    return CardInfo(reader, CardStatus.NO_ANSWER, f"The card did not answer within {timeout:g} s.")


# -- one-shot scan (doctor) ---------------------------------------------------------


@dataclass(frozen=True)
class ReaderScan:
    status: ReaderStatus
    readers: list[str]
    cards: list[CardInfo]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "readers": list(self.readers),
            "card_present": bool(self.cards),
            "cards": [c.as_dict() for c in self.cards],
            "message": self.message,
        }


def scan(profiles: Sequence[ApduProfile] = DEFAULT_PROFILES, timeout: float = 3.0) -> ReaderScan:
    """Readers, and the card on each that has one (ATR, UID), in one call."""
    ctx, failure = _establish()
    if failure is not None:
        return ReaderScan(failure.status, [], [], failure.message)
    assert scard is not None and ctx is not None
    try:
        listing = _list(ctx)
        if listing.status != ReaderStatus.OK:
            return ReaderScan(listing.status, [], [], listing.message)
        states = [(r, scard.SCARD_STATE_UNAWARE) for r in listing.readers]
        hr, new_states = scard.SCardGetStatusChange(ctx, 0, states)
        if hr != scard.SCARD_S_SUCCESS:
            return ReaderScan(ReaderStatus.ERROR, listing.readers, [], f"PC/SC error: {_err(hr)}")
        with_card = [n for n, st, _ in new_states if st & scard.SCARD_STATE_PRESENT]
    finally:
        scard.SCardReleaseContext(ctx)
    cards = [read_card(r, profiles, timeout) for r in with_card]
    n = len(cards)
    message = listing.message + (f" {n} card{'s' if n > 1 else ''} present." if n else " No card.")
    return ReaderScan(listing.status, listing.readers, cards, message)
