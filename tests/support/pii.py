"""Searching files for a resident's personal data in clear (the PII scans of issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def needles(people: list[dict[str, Any]], blobs: list[bytes]) -> dict[str, bytes]:
    """What must not be found: each resident's NIK, name (and its longer words), address and
    KK number in UTF-8 and UTF-16, as written, title-cased and lower-cased; and 48-byte slices
    of each blob (photo, signature) at a dozen places."""
    found: dict[str, bytes] = {}
    for p in people:
        texts = [p["nik"], p["nama"], p["alamat"]]
        texts += [w for w in p["nama"].split() if len(w) >= 5]
        if p.get("no_kk"):
            texts.append(p["no_kk"])
        for t in texts:
            for variant in {t, t.title(), t.lower()}:
                found[f"{variant!r} utf-8"] = variant.encode()
                found[f"{variant!r} utf-16"] = variant.encode("utf-16-le")
    for i, blob in enumerate(blobs):
        for off in range(0, len(blob) - 48, max(1, len(blob) // 12)):
            found[f"blob{i}@{off}"] = blob[off : off + 48]
    return found


def scan(roots: list[Path], wanted: dict[str, bytes], *, skip: tuple[Path, ...] = ()) -> list[str]:
    """Every (file, needle) found under ``roots``, files under ``skip`` left out."""
    hits = []
    files = [
        f
        for root in roots
        for f in root.rglob("*")
        if f.is_file() and not any(f.is_relative_to(s) for s in skip)
    ]
    assert files
    for f in files:
        data = f.read_bytes()
        hits += [f"{f}: {name}" for name, n in wanted.items() if n in data]
    return hits
