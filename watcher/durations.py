"""Durations as maintainers write them in the config files: ``"30s"``, ``"15m"``, ``"1h30m"``, ``"2d"``,
``"1w"``."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MIN_EVERY_SECONDS = 1.0


def parse_duration(text: str) -> float:
    """Turn ``"15m"``, ``"1h30m"``, ``"30s"``, ``"2d"`` or ``"1w"`` into seconds; ValueError names the forms."""
    if not isinstance(text, str):
        raise ValueError(f'expected a string such as "15m", got {text!r}')
    compact = text.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    for m in _DURATION.finditer(compact):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not compact or pos != len(compact):
        raise ValueError(f'{text!r} is not a duration; write a number and a unit, e.g. "30s", "15m", "1h", "1d", "1w"')
    return total


def doubling(step: int, base: float, cap: float) -> float:
    """The one backoff formula: ``base`` × 2^``step``, never above ``cap`` (step 0 gives ``base``)."""
    return min(cap, base * 2.0 ** min(max(step, 0), 60))
