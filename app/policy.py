"""The limits the central office sets for its kits (issue 12): which keys, their ranges.

One table for both ends: the server refuses a value out of range when the office sets it
(``ektp-server policy set``), and the station checks again what it receives before it
applies it (an answer is signed, but a station of an older release may know narrower
ranges). Each key is a station setting of the same name (app/store/settings.py); a key the
centre has set overrides the local value, and ``settings set`` refuses to change it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyKey:
    name: str
    kind: str  # int | float | choice
    low: float = 0.0
    high: float = 0.0
    choices: tuple[str, ...] = ()
    meaning: str = ""

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        return f"a {'whole number' if self.kind == 'int' else 'number'} from {self.low:g} to {self.high:g}"


KEYS: dict[str, PolicyKey] = {
    k.name: k
    for k in (
        PolicyKey(
            "backlog_max_age_h",
            "float",
            1,
            720,
            meaning="refuse new recordings when the oldest unsent record is older (hours)",
        ),
        PolicyKey(
            "backlog_max_unsent",
            "int",
            1,
            100_000,
            meaning="refuse new recordings at this many unsent records without a mirror",
        ),
        PolicyKey(
            "retention_days",
            "int",
            1,
            3650,
            meaning="days an uploaded record keeps its payload before the purge",
        ),
        PolicyKey(
            "mirror_policy",
            "choice",
            choices=("required", "warn"),
            meaning="a seal fails (required) or warns (warn) when the mirror cannot be written",
        ),
        PolicyKey(
            "idle_lock_minutes", "int", 1, 240, meaning="minutes without input before the lock"
        ),
        PolicyKey(
            "fate_pull_interval_s",
            "int",
            30,
            86_400,
            meaning="seconds between the kit's pulls of its records' fates",
        ),
    )
}


class PolicyValueError(ValueError):
    """A policy key unknown or a value out of range; the message names the key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def check_value(key: str, value: object) -> str:
    """The canonical text of ``value`` for ``key``, or PolicyValueError with the reason."""
    spec = KEYS.get(key)
    if spec is None:
        raise PolicyValueError(key, "not a policy key (one of " + ", ".join(KEYS) + ")")
    text = str(value).strip()
    if spec.kind == "choice":
        if text not in spec.choices:
            raise PolicyValueError(key, f"{text!r} is not {spec.describe()}")
        return text
    try:
        number = int(text) if spec.kind == "int" else float(text)
    except ValueError:
        raise PolicyValueError(key, f"{text!r} is not {spec.describe()}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise PolicyValueError(key, f"{text!r} is not {spec.describe()}")
    if not spec.low <= number <= spec.high:
        raise PolicyValueError(key, f"{text} is out of range: give {spec.describe()}")
    return str(number) if spec.kind == "int" else f"{number:g}"
