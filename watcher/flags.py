"""Yes-or-no settings from the environment, read the same way wherever one is taken."""

from __future__ import annotations

TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")  # unset or empty is no


def env_flag(value: str | None) -> bool | None:
    """An environment variable's value as a flag: True, False, or None when it is not understood."""
    text = (value or "").strip().lower()
    return True if text in TRUE else False if text in FALSE else None
