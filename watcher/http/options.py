"""The ``[http]`` table of ``sources.toml`` as one typed, frozen value, and the keyword arguments it gives the
shared client."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from watcher import __version__
from watcher.durations import parse_duration
from watcher.http.guard import private_allowed
from watcher.http.polite import RetryPolicy

DEFAULT_USER_AGENT = f"watcher/{__version__} (+https://github.com/watcher-eu/watcher; EU policy monitoring bot)"
_POSITIVE = ("timeout", "connect_timeout", "max_bytes", "attempts", "per_host_concurrency")
_TYPES = {
    "user_agent": str,
    "timeout": float,
    "connect_timeout": float,
    "max_bytes": int,
    "max_redirects": int,
    "attempts": int,
    "retry_budget": float,
    "per_host_concurrency": int,
    "per_host_interval": float,
    "respect_robots": bool,
    "allow_private": bool,
}


@dataclasses.dataclass(frozen=True)
class HttpOptions:
    """Settings of the shared HTTP client; durations in seconds. ``max_bytes`` None leaves each kind its own cap."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 20.0
    connect_timeout: float = 10.0
    max_bytes: int | None = None
    max_redirects: int = 5
    attempts: int = RetryPolicy.attempts
    retry_budget: float = RetryPolicy.budget
    per_host_concurrency: int = 2
    per_host_interval: float = 1.0
    respect_robots: bool = False
    allow_private: bool = False

    def allows_private(self, env: Mapping[str, str] | None = None) -> bool:
        """Whether private destinations are allowed, by this option or ``env``'s WATCHER_ALLOW_PRIVATE_NETWORKS; the
        same answer governs what sources fetch and where webhooks post."""
        return private_allowed(self.allow_private, env or {})

    def client_kwargs(self, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Keyword arguments of ``watcher.http.client.Http`` for these settings; ``env`` may allow private
        destinations too (``WATCHER_ALLOW_PRIVATE_NETWORKS``)."""
        out: dict[str, Any] = {
            "user_agent": self.user_agent,
            "timeout": self.timeout,
            "connect_timeout": self.connect_timeout,
            "max_redirects": self.max_redirects,
            "per_host_concurrency": self.per_host_concurrency,
            "per_host_interval": self.per_host_interval,
            "respect_robots": self.respect_robots,
            "retry": RetryPolicy(attempts=self.attempts, budget=self.retry_budget),
            "allow_private": self.allows_private(env),
        }
        if self.max_bytes is not None:
            out["max_bytes"] = self.max_bytes
        return out


def http_options_from_toml(table: Any, filename: str) -> tuple[HttpOptions, list[str]]:
    """The ``[http]`` table as HttpOptions, or the defaults plus one problem line per wrong key or value."""
    if table is None:
        return HttpOptions(), []
    if not isinstance(table, dict):
        return HttpOptions(), [f"{filename}: [http] must be a table"]
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in table.items():
        value, problem = _read(key, value, f"{filename}: [http]")
        if problem:
            problems.append(problem)
        else:
            values[key] = value
    return HttpOptions(**values), problems


def _read(key: str, value: Any, where: str) -> tuple[Any, str | None]:
    """One [http] value checked and converted, or the problem with it."""
    want = _TYPES.get(key)
    if want is None:
        return None, f"{where}: unknown key {key!r}; allowed: {', '.join(_TYPES)}"
    if want is bool:
        return (
            (value, None)
            if isinstance(value, bool)
            else (None, f"{where}: {key!r} must be true or false, got {value!r}")
        )
    if want is float:
        if isinstance(value, bool):
            return None, f'{where}: {key!r} must be a duration such as "20s", got {value!r}'
        try:
            value = parse_duration(value) if isinstance(value, str) else float(value)
        except (TypeError, ValueError) as exc:
            return None, f"{where}: {key!r}: {exc}"
    elif not isinstance(value, want) or isinstance(value, bool):
        return None, f"{where}: {key!r} must be {'a whole number' if want is int else 'a string'}, got {value!r}"
    if want is not str and (value <= 0 if key in _POSITIVE else value < 0):
        least = "above 0" if key in _POSITIVE else "0 or more"
        return None, f"{where}: {key!r} must be {least}, got {value!r}"
    return value, None
