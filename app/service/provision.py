"""Provisioning online with a one-time code: the one orchestration ``ektp-station provision``
and Teknisi's "Daftarkan stasiun" both run.

On a fresh home: makes the Ed25519 key pair (stored first, as the pending key), registers its
public key with the code, and stores the id, the server's sealing key and the kecamatan the
server assigned. On a station set up offline with ``init``: registers its existing id and key,
then points it at the server. The identity is written only after the server accepted the
code; if that write fails (disk full, database locked), provisioning again with the same code
works: the same key is registered again (docs/sync.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import BadInput, Code, MachineFault, Refusal
from app.protocol import Reason
from app.store.db import Store
from app.store.errors import StorageError
from app.store.station import StationIdentity, discard_pending_key, get_identity, has_pending_key
from app.sync import provision as provisioning
from app.sync.tls import pin_certificate


@dataclass(frozen=True)
class Provisioned:
    identity: StationIdentity
    server_url: str
    server_key_id: str


def check_url(server_url: str, *, allow_insecure_http: bool = False) -> str:
    try:
        return provisioning.check_server_url(server_url, allow_insecure_http=allow_insecure_http)
    except provisioning.InvalidServerUrl as exc:
        raise BadInput("server", str(exc), Code.BAD_URL) from exc


def provision(
    store: Store,
    server_url: str,
    code: str,
    *,
    actor: str,
    allow_insecure_http: bool = False,
    ca: tuple[str, bytes] | None = None,
) -> Provisioned:
    """Redeem ``code`` at ``server_url`` and store what the server accepted.

    ``ca``: (file, PEM) of the only certificate to trust for the server's https, pinned in
    the home before the identity is stored (the next sync must trust it too). Raises
    BadInput (the address, an empty code), Refusal (the code refused: ``bad-code``, or
    ``key-in-use`` naming the station that holds the key), MachineFault (no answer from the
    server; set up meanwhile by another process; the store could not be written)."""
    url = check_url(server_url, allow_insecure_http=allow_insecure_http)
    code = code.strip()
    if not code:
        raise BadInput("code", "the one-time code is empty", Code.CODE_EMPTY)
    existing = get_identity(store)
    # A key made by this run is bound nowhere if the code is refused: forgotten then. One
    # that was already pending may be bound (a lost answer): kept for the retry.
    made_now = existing is None and not has_pending_key(store)
    key = provisioning.station_key(store, existing)
    try:
        reg = provisioning.register(url, code, existing, key, verify=ca[0] if ca else True)
    except provisioning.CodeRefused as exc:
        if exc.reason == Reason.KEY_IN_USE and existing is None and get_identity(store) is not None:
            raise MachineFault(
                Code.IDENTITY_CHANGED,
                f"this station was set up meanwhile (its key is the server's station now): "
                f"{exc.detail}",
                subject="station",
            ) from exc
        if made_now and exc.reason != Reason.KEY_IN_USE:
            # In one transaction and only while no identity took it. Never after key_in_use
            # (the key is bound to another station) nor after a failure to get an answer
            # (the code may have been used with this key).
            try:
                discard_pending_key(store, key)
            except StorageError:
                pass  # the key stays pending: harmless, the next run registers it
        if isinstance(exc, provisioning.WrongAddress):  # answered, but no enrollment there
            raise Refusal(Code.BAD_URL, exc.reason, str(exc), field="server") from exc
        refused = Code.KEY_IN_USE if exc.reason == Reason.KEY_IN_USE else Code.BAD_CODE
        # key_in_use: the detail names the station that holds the key and what to do.
        raise Refusal(refused, exc.reason, str(exc), field="code", said=exc.detail) from exc
    except provisioning.ProvisionError as exc:  # no usable answer: the pending key is kept
        raise MachineFault(Code.SERVER_UNREACHABLE, str(exc), subject="server") from exc
    try:
        if ca is not None:
            pin_certificate(store.home, ca[1])
        identity = provisioning.save(store, url, reg, actor)
    except provisioning.IdentityChanged as exc:  # set up by another process meanwhile
        raise MachineFault(Code.IDENTITY_CHANGED, str(exc), subject="station") from exc
    except StorageError as exc:
        # The code is used now: say that the same code works again once fixed.
        raise MachineFault(
            Code.DISK_FULL if exc.kind == "disk_full" else Code.STORE_FAILED,
            f"{exc.message}; {provisioning.NOT_SAVED_HINT}",
            subject=f"storage ({exc.kind})",
        ) from exc
    return Provisioned(identity, url, reg.enrollment.server_key_id)
