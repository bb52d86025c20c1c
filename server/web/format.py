"""Numbers, percentages and times as an Indonesian reader writes them (34.262; 61,3 %)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def number(value: int | float | None, missing: str = "–") -> str:
    """``34262`` -> ``34.262`` (a dot groups thousands, a comma marks decimals)."""
    if value is None:
        return missing
    if isinstance(value, float) and not value.is_integer():
        whole, _, frac = f"{value:,.2f}".partition(".")
        return whole.replace(",", ".") + "," + frac
    return f"{int(value):,}".replace(",", ".")


def percent(value: float | None, missing: str = "–") -> str:
    """``61.27`` -> ``61,3 %``; under 1 %, two decimals (``0,02 %``), so a start shows."""
    if value is None:
        return missing
    return (f"{value:.1f}" if value >= 1 or value == 0 else f"{value:.2f}").replace(".", ",") + " %"


def when(ts: float | None, missing: str = "–") -> str:
    """A time in WIB, as the office reads it: ``07/12/2026 10:40 WIB``."""
    if ts is None:
        return missing
    return datetime.fromtimestamp(ts, WIB).strftime("%d/%m/%Y %H:%M WIB")


def ago(seconds: float | None, lang: str = "id") -> str:
    """How long ago, roughly: ``3 jam lalu`` / ``3 h ago``."""
    if seconds is None:
        return "–"
    s = max(int(seconds), 0)
    units = (
        (86400, "hari", "d"),
        (3600, "jam", "h"),
        (60, "menit", "min"),
    )
    for size, word_id, word_en in units:
        if s >= size:
            n = s // size
            return f"{n} {word_id} lalu" if lang == "id" else f"{n} {word_en} ago"
    return "baru saja" if lang == "id" else "just now"
