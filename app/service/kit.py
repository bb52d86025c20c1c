"""Moving the kit to another kecamatan offline: a technician or supervisor with the approval
of *another* supervisor (checked by the store), audited. ``ektp-station assign`` and
Teknisi's "Pindah kecamatan" run this; online, the server sets the assignment instead."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain import regions
from app.errors import BadInput, Code, Refusal
from app.store.db import Store
from app.store.operators import OperatorError
from app.store.station import move_kit as store_move_kit
from app.store.station import require_identity


@dataclass(frozen=True)
class Moved:
    before: str
    after: str


def check_kecamatan(typed: str) -> str:
    """The dotted code of a known kecamatan, written dotted or not; BadInput otherwise."""
    try:
        return regions.parse_code(typed.strip(), 3)
    except regions.BadRegionCode as exc:
        raise BadInput("kecamatan", str(exc), Code.BAD_KECAMATAN) from exc


def move_kit(
    store: Store,
    kecamatan: str,
    *,
    mover: str,
    approver: str,
    approver_password: str,
    reason: str,
) -> Moved:
    """``mover`` is signed in (GUI) or checked by the caller (CLI); the approver's password
    is checked by the store."""
    after = check_kecamatan(kecamatan)
    approver = approver.strip()
    if approver == mover:
        raise Refusal(
            Code.APPROVER_IS_MOVER,
            "approver_is_mover",
            "the approval must come from another person",
            field="supervisor",
        )
    before = require_identity(store).kecamatan
    if after == before:
        raise BadInput("kecamatan", f"the kit is already assigned to {after}", Code.ALREADY_THERE)
    try:
        store_move_kit(
            store,
            after,
            moved_by=mover,
            approver=approver,
            approver_password=approver_password,
            reason=reason,
        )
    except OperatorError as exc:
        raise Refusal(
            Code.SUPERVISOR_REQUIRED, "approval_refused", exc.message, field=exc.field
        ) from exc
    return Moved(before, after)
