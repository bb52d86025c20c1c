"""The station's signing key at rest: never in clear in the database.

The database holds the key *wrapped*; what unwraps it is kept outside the database:

- on Windows, DPAPI in machine scope (``CryptProtectData`` with
  ``CRYPTPROTECT_LOCAL_MACHINE``, through ctypes): only this machine unwraps it, so a database
  copied to another PC cannot sign;
- elsewhere, a random 32-byte key in ``<home>/station.key`` (mode 0600, written once,
  atomically) that wraps the PEM with AES-256-GCM: a database copied without that file
  cannot sign.

Wrapped values start with ``MAGIC``; a value starting with ``-----BEGIN`` is a key stored in
clear by a version before schema 0007 (that migration wraps it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.store.errors import StoreError

MAGIC = b"ektp-wrapped-key:1:"
KEY_FILE = "station.key"
_AAD = b"ektp station signing key"
_FILE = b"file:"
_DPAPI = b"dpapi:"


class KeyMaterialMissing(StoreError):
    """The database's signing key cannot be unwrapped here: the key file is missing or is
    not this database's (a copied database), or DPAPI refuses (another machine)."""


def is_wrapped(value: bytes) -> bool:
    return value.startswith(MAGIC)


def wrap(home: Path, pem: bytes) -> bytes:
    """``pem`` wrapped for storage in the database of the station home ``home``."""
    if sys.platform == "win32":
        return MAGIC + _DPAPI + _dpapi_protect(pem)
    nonce = os.urandom(12)
    return MAGIC + _FILE + nonce + AESGCM(_file_key(home, create=True)).encrypt(nonce, pem, _AAD)


def unwrap(home: Path, value: bytes) -> bytes:
    """The PEM from a stored value (a legacy clear PEM passes through)."""
    if not is_wrapped(value):
        return value
    body = value[len(MAGIC) :]
    if body.startswith(_DPAPI):
        if sys.platform != "win32":
            raise KeyMaterialMissing(
                "the station's signing key is protected by Windows (DPAPI) on another machine"
            )
        return _dpapi_unprotect(body[len(_DPAPI) :])
    if not body.startswith(_FILE):
        raise KeyMaterialMissing("the station's signing key is stored in an unknown form")
    body = body[len(_FILE) :]
    try:
        return AESGCM(_file_key(home, create=False)).decrypt(body[:12], body[12:], _AAD)
    except InvalidTag as exc:
        raise KeyMaterialMissing(
            f"{home / KEY_FILE} is not the key file of this station database (a copied "
            "database cannot sign): restore the station's own file, or provision it again"
        ) from exc


def _file_key(home: Path, *, create: bool) -> bytes:
    path = home / KEY_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise KeyMaterialMissing(
                f"{path} is missing: the station's signing key cannot be used without it (a "
                "database copied without it cannot sign); restore it, or provision again"
            ) from None
        data = _create_key_file(path)
    if len(data) != 32:
        raise KeyMaterialMissing(f"{path} is damaged (not a 32-byte key)")
    return data


def _create_key_file(path: Path) -> bytes:
    key = os.urandom(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        # Never replace a key another process made first: its wrapped values need it.
        os.link(tmp, path)
    except FileExistsError:
        return path.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)
    return key


# --- Windows DPAPI (machine scope) --------------------------------------------------------

_CRYPTPROTECT_UI_FORBIDDEN = 0x1
_CRYPTPROTECT_LOCAL_MACHINE = 0x4


def _dpapi(data: bytes, protect: bool) -> bytes:  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes

    class Blob(ctypes.Structure):
        _fields_ = [("cbData", wintypes.DWORD), ("pbData", ctypes.POINTER(ctypes.c_char))]

    crypt32 = ctypes.WinDLL("crypt32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    buf = ctypes.create_string_buffer(data, len(data))
    blob_in = Blob(len(data), ctypes.cast(buf, ctypes.POINTER(ctypes.c_char)))
    entropy_buf = ctypes.create_string_buffer(_AAD, len(_AAD))
    entropy = Blob(len(_AAD), ctypes.cast(entropy_buf, ctypes.POINTER(ctypes.c_char)))
    blob_out = Blob()
    flags = _CRYPTPROTECT_UI_FORBIDDEN | _CRYPTPROTECT_LOCAL_MACHINE
    if protect:
        ok = crypt32.CryptProtectData(
            ctypes.byref(blob_in), None, ctypes.byref(entropy), None, None, flags,
            ctypes.byref(blob_out),
        )  # fmt: skip
    else:
        ok = crypt32.CryptUnprotectData(
            ctypes.byref(blob_in), None, ctypes.byref(entropy), None, None, flags,
            ctypes.byref(blob_out),
        )  # fmt: skip
    if not ok:
        err = ctypes.get_last_error()  # type: ignore[attr-defined]
        if protect:
            raise OSError(err, "CryptProtectData failed")
        raise KeyMaterialMissing(
            f"Windows refused to unprotect the station's signing key (error {err}): the "
            "database comes from another machine; provision this station again"
        )
    try:
        return ctypes.string_at(blob_out.pbData, blob_out.cbData)
    finally:
        kernel32.LocalFree(blob_out.pbData)


def _dpapi_protect(data: bytes) -> bytes:  # pragma: no cover - Windows only
    return _dpapi(data, True)


def _dpapi_unprotect(data: bytes) -> bytes:  # pragma: no cover - Windows only
    return _dpapi(data, False)
