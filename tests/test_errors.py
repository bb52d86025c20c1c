"""One error vocabulary (issue 16, item 2): the funnel decides by type, the table gives the
exit code, and the three names that existed twice exist once."""

from __future__ import annotations

import ast
from pathlib import Path

from app.errors import (
    EXIT_BUG,
    EXIT_FAULT,
    EXIT_USAGE,
    BadInput,
    Bug,
    Code,
    MachineFault,
    Refusal,
    StationError,
    funnel,
    known,
)
from app.store.errors import StorageError
from app.store.operators import AccountLocked

ROOT = Path(__file__).resolve().parents[1]


class DiskGone(StorageError):
    """A core error renamed or subclassed: its branch still decides."""


class LockedForGood(AccountLocked):
    pass


def test_the_funnel_decides_by_type_never_by_class_name() -> None:
    full = known(DiskGone("disk_full", "no space left on device"))
    assert isinstance(full, MachineFault) and full.code == Code.DISK_FULL
    assert full.exit_code == EXIT_FAULT
    assert full.line() == "storage (disk_full): no space left on device"
    locked = known(LockedForGood("siti is locked"))
    assert isinstance(locked, Refusal) and locked.code == Code.ACCOUNT_LOCKED
    assert locked.detail == ""  # the operator's sentence says it all (the table)
    bug = funnel(KeyError("x"))
    assert isinstance(bug, Bug) and bug.code == Code.UNEXPECTED and bug.exit_code == EXIT_BUG
    assert bug.line() == "internal error, please report it: KeyError: 'x'"
    assert known(KeyError("x")) is None


def test_every_branch_has_its_exit_code_and_the_table_overrides_it() -> None:
    assert BadInput("to", "not a directory").exit_code == EXIT_USAGE
    assert BadInput("to", "x").line() == "to: x"
    assert Refusal(Code.BAD_CODE, "code_used", "used", field="code").exit_code == EXIT_USAGE
    assert MachineFault(Code.MIRROR_FAILED, "gone", subject="mirror").exit_code == EXIT_FAULT
    behind = Refusal(Code.BEHIND_REFUSE, "falling_behind", "too old", field="falling behind")
    assert behind.exit_code == EXIT_FAULT and behind.line() == "falling behind: too old"
    key = Refusal(Code.KEY_IN_USE, "key_in_use", "code: refused", field="code", said="Kit X")
    assert key.detail == "Kit X" and key.line() == "code: code: refused"
    assert all(isinstance(e, StationError) for e in (behind, key))


def test_the_names_that_existed_twice_exist_once() -> None:
    defined: dict[str, list[str]] = {}
    for path in [*ROOT.joinpath("app").rglob("*.py"), *ROOT.joinpath("server").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                defined.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    for name in ("ServiceError", "UsageError", "SyncState"):
        assert len(defined.get(name, [])) <= 1, (name, defined[name])


def test_a_refused_photo_is_bad_input_naming_the_photo() -> None:
    import numpy as np

    from app.capture.photo import PhotoRejected, accept_image

    try:
        accept_image(np.full((480, 360, 3), 128, dtype=np.uint8))  # a grey card: no face
    except PhotoRejected as exc:
        err = funnel(exc)
    else:
        raise AssertionError("a photo without a face was accepted")
    assert isinstance(err, BadInput) and err.code == Code.PHOTO_REJECTED
    assert err.line().startswith("photo: ") and err.exit_code == EXIT_USAGE
