"""One sealing key for the cluster: every host that serves one database holds the same key.

Stations seal every packet to the key their server handed them at enrollment, so the key is
the cluster's, not a host's. The key id in force is recorded in the database
(``server_meta.sealing_key_id``) by the first host that starts on it; every later host must
hold that key, or it refuses to start with one line (a host set up with a fresh key would
otherwise answer every station ``400 wrong_server_key``, which a station takes as final).

Where a host's keys come from, first found wins:

1. ``--sealing-key FILE`` (repeatable) on the command line;
2. ``EKTP_SEALING_KEY_FILE``: one path, or several separated by ``:``;
3. ``EKTP_SEALING_KEY``: the PEM text itself (one or more blocks), e.g. from a secret store;
4. the home's ``sealing_key.pem`` (and ``sealing_key.retired-*.pem``, earlier keys), made on
   first start only when the database records no key yet (a host never makes a fresh key for
   a cluster that has one).

The first key is the one in force; any further keys are earlier cluster keys kept after a
rotation (``keys rotate``): packets sealed to them are still accepted and opened (stations
provisioned before the rotation keep sealing to the key they were given).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from app import packet as pkt
from app.packet import HybridPrivateKey, SealingPrivateKey, sealing_private_key_pem
from server import db
from server.keys import (
    SEALING_PRIVATE,
    KeyFileError,
    load_or_create_sealing_key,
    write_private,
    write_sealing,
)

ENV_FILE = "EKTP_SEALING_KEY_FILE"
ENV_PEM = "EKTP_SEALING_KEY"
META_KEY = "sealing_key_id"
RETIRED_GLOB = "sealing_key.retired-*.pem"
_HOW = "give this host the cluster's key (--sealing-key FILE, EKTP_SEALING_KEY_FILE or EKTP_SEALING_KEY)"


class ClusterKeyError(RuntimeError):
    """This host's sealing key is not the cluster's: the server must not start."""


@dataclass
class Keyring:
    """The key in force and every key kept for opening, by key id."""

    current: SealingPrivateKey
    by_id: dict[str, SealingPrivateKey] = field(default_factory=dict)
    # True when the keys are the home's files (not given on the command line or environment).
    in_home: bool = False

    @property
    def current_id(self) -> str:
        return pkt.key_id(self.current.public_key())

    @property
    def keys(self) -> list[SealingPrivateKey]:
        """Every key held, the one in force first."""
        return [self.current, *(k for i, k in self.by_id.items() if i != self.current_id)]

    @classmethod
    def of(cls, keys: Sequence[SealingPrivateKey], in_home: bool = False) -> Keyring:
        return cls(keys[0], {pkt.key_id(k.public_key()): k for k in keys}, in_home)


_PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.S)


def _pem_keys(text: bytes, where: str) -> list[SealingPrivateKey]:
    """The sealing keys in ``text``, in order: an X25519 block alone, or an ML-KEM-768 block
    followed by its X25519 block (a hybrid key, app.packet)."""
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise KeyFileError(f"{where}: no PEM private key in it")
    out: list[SealingPrivateKey] = []
    i = 0
    while i < len(blocks):
        # A hybrid key is two blocks; try the pair first, then the block alone.
        for n in (2, 1):
            chunk = b"\n".join(blocks[i : i + n]) + b"\n"
            if n == 2 and i + 1 >= len(blocks):
                continue
            try:
                out.append(pkt.load_sealing_private_key(chunk))
            except pkt.PacketError as exc:
                if n == 1:
                    raise KeyFileError(f"{where}: {exc}") from exc
                continue
            i += n
            break
    return out


def given_keys(paths: Sequence[str | Path] | None = None) -> list[SealingPrivateKey] | None:
    """The keys this host was given (command line, then environment), or None."""
    if not paths:
        env = os.environ.get(ENV_FILE, "").strip()
        paths = [p for p in env.split(os.pathsep) if p] if env else None
    if paths:
        keys: list[SealingPrivateKey] = []
        for p in paths:
            try:
                text = Path(p).read_bytes()
            except OSError as exc:
                raise KeyFileError(f"--sealing-key: cannot read {p}: {exc.strerror}") from exc
            keys += _pem_keys(text, f"--sealing-key {p}")
        return keys
    pem = os.environ.get(ENV_PEM, "").strip()
    if pem:
        return _pem_keys(pem.encode(), ENV_PEM)
    return None


def recorded_key_id(engine: Engine) -> str | None:
    with engine.begin() as conn:
        value = conn.execute(select(db.meta.c.value).where(db.meta.c.key == META_KEY)).scalar()
    return None if value is None else str(value)


def establish(engine: Engine, home: Path, paths: Sequence[str | Path] | None = None) -> Keyring:
    """This host's keys, checked against (or, on a new database, recorded as) the cluster's.

    Raises ``ClusterKeyError`` with one line when the key in force here is not the one the
    database records, or when this host has no key and the database records one."""
    recorded = recorded_key_id(engine)
    keys = given_keys(paths)
    if keys is None:
        if recorded is not None and not (home / SEALING_PRIVATE).exists():
            raise ClusterKeyError(
                f"--sealing-key: this host has no sealing key and the cluster's is {recorded} "
                f"(recorded in the database); {_HOW}"
            )
        keys = [load_or_create_sealing_key(home)]
        for retired in sorted(home.glob(RETIRED_GLOB)):
            keys += _pem_keys(retired.read_bytes(), str(retired))
        ring = Keyring.of(keys, in_home=True)
    else:
        ring = Keyring.of(keys)
    if recorded is None:
        with engine.begin() as conn:
            db.insert_ignore(conn, db.meta, {"key": META_KEY, "value": ring.current_id})
        recorded = recorded_key_id(engine)  # another host may have recorded its key first
    if recorded != ring.current_id:
        held = ", ".join(sorted(ring.by_id))
        raise ClusterKeyError(
            f"--sealing-key: this host's sealing key is {ring.current_id}, but the cluster's "
            f"(recorded in the database) is {recorded}"
            + (f" (this host also holds {held})" if len(ring.by_id) > 1 else "")
            + f"; {_HOW}"
        )
    return ring


def rotate(engine: Engine, home: Path, ring: Keyring, new_key: SealingPrivateKey) -> str:
    """Record ``new_key`` as the cluster's key in force; the caller holds the one recorded
    (``establish`` checked it). Returns the new key id.

    When this host's keys are the home's files, the home is changed first: the key in force
    is kept as ``sealing_key.retired-<id>.pem`` and the new one becomes ``sealing_key.pem``.
    A crash between the two steps leaves a host that refuses to start, saying which key the
    database records and which it holds."""
    new_id = pkt.key_id(new_key.public_key())
    if ring.in_home and new_id != ring.current_id:
        write_private(
            home / f"sealing_key.retired-{ring.current_id}.pem",
            sealing_private_key_pem(ring.current),
        )
        write_sealing(home, new_key)
    with engine.begin() as conn:
        conn.execute(db.meta.delete().where(db.meta.c.key == META_KEY))
        conn.execute(db.meta.insert().values(key=META_KEY, value=new_id))
    return new_id


def write_new_key(path: Path) -> str:
    """A fresh hybrid (ML-KEM-768 + X25519) key written to ``path`` (0600, refused if it
    exists); its key id."""
    if path.exists():
        raise FileExistsError(f"{path} exists")
    key = HybridPrivateKey.generate()
    pem = sealing_private_key_pem(key)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    return pkt.key_id(key.public_key())
