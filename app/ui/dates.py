"""Dates as the operator reads and types them: HH-BB-TTTT (day-month-year), as on the KK.

The form shows and accepts ``12-08-1990`` (also ``12/08/1990`` and ``12.08.1990``); what is
validated and sealed stays ISO (``1990-08-12``). An ISO date typed as such is kept.
"""

from __future__ import annotations

import re

_DMY = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def to_iso(typed: str) -> str:
    """``12-08-1990`` → ``1990-08-12``; anything else unchanged (validation says why)."""
    match = _DMY.match(typed)
    if match is None:
        return typed.strip()
    day, month, year = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def to_display(iso: str) -> str:
    """``1990-08-12`` → ``12-08-1990``; anything else unchanged."""
    match = _ISO.match(iso.strip())
    if match is None:
        return iso
    year, month, day = match.groups()
    return f"{day}-{month}-{year}"
