"""``config/notifiers.toml`` (optional): webhooks, email addresses and apprise destinations that get alerts besides
Telegram.

Secrets never sit in the file: a header value, a webhook URL or an SMTP password is given as the NAME of an
environment variable (``headers_from_env``, ``url_env``, ``password_env``). Every problem becomes one line naming the
file, the entry and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watcher.durations import parse_duration

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER = re.compile(r"^[A-Za-z0-9-]+$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

WEBHOOK_KEYS = ("name", "url", "url_env", "topics", "payload", "headers", "headers_from_env", "timeout")
EMAIL_KEYS = (
    "name",
    "to",
    "from",
    "host",
    "port",
    "security",
    "username",
    "password_env",
    "topics",
    "subject_prefix",
    "timeout",
)
APPRISE_KEYS = ("name", "url", "url_env", "topics", "timeout")
PAYLOADS = ("full", "text")
SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class WebhookConfig:
    name: str
    url: str = field(repr=False)
    topics: tuple[str, ...]
    payload: str = "full"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    timeout: float = 10.0
    channel = "webhook"


@dataclass(frozen=True)
class EmailConfig:
    name: str
    to: tuple[str, ...]
    sender: str
    host: str
    topics: tuple[str, ...]
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    subject_prefix: str = "[watcher]"
    timeout: float = 20.0
    channel = "email"


@dataclass(frozen=True)
class AppriseConfig:
    """One apprise destination (``json://``, ``ntfy://``, ``matrix://``, ...): its URL usually holds a secret."""

    name: str
    url: str = field(repr=False)
    topics: tuple[str, ...]
    timeout: float = 20.0
    channel = "apprise"


class _Entry:
    """One [[webhook]] or [[email]] table being checked; collects problems."""

    def __init__(
        self,
        filename: str,
        kind: str,
        index: int,
        data: Any,
        keys: tuple[str, ...],
        env: Mapping[str, str],
        problems: list[str],
    ):
        self.data = data if isinstance(data, dict) else {}
        name = self.data.get("name")
        self.label = (
            f"{filename}: {kind} {name!r}" if isinstance(name, str) and name else f"{filename}: {kind} #{index + 1}"
        )
        self.env, self.problems = env, problems
        if not isinstance(data, dict):
            self.error(f"expected a [[{kind}]] table")
            return
        for key in self.data:
            if key not in keys:
                self.error(f"unknown key {key!r}; allowed keys: {', '.join(keys)}")

    def error(self, text: str) -> None:
        self.problems.append(f"{self.label}: {text}")

    def string(self, key: str, default: str | None = None, example: str = "...") -> str:
        value = self.data.get(key, default)
        if value is None:
            self.error(f'{key!r} is missing; add {key} = "{example}"')
            return ""
        if not isinstance(value, str):
            self.error(f'{key!r} must be a string in quotes, e.g. {key} = "{example}"')
            return ""
        return value

    def url_or_env(self, example: str, both_or_neither: str) -> str:
        """The address from 'url', or from the environment variable named by 'url_env'; exactly one must be given
        (``both_or_neither`` says so in the entry's own words). "" when neither or both are."""
        if ("url" in self.data) == ("url_env" in self.data):
            self.error(both_or_neither)
            return ""
        return self.string("url", example=example) if "url" in self.data else self.secret("url_env")

    def secret(self, key: str) -> str:
        """The value of the environment variable that ``key`` names."""
        var = self.string(key, example="WATCHER_SECRET_NAME")
        if not var:
            return ""
        if not _ENV_NAME.match(var):
            self.error(
                f'{key!r} must be the NAME of an environment variable, e.g. "WATCHER_SMTP_PASSWORD", '
                "not the secret itself"
            )
            return ""
        value = self.env.get(var, "")
        if not value:
            self.error(f"{key!r} names the environment variable {var}, which is not set; set it, or remove {key!r}")
        return value

    def duration(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        try:
            seconds = parse_duration(value) if isinstance(value, str) else float(value)
        except (TypeError, ValueError) as exc:
            self.error(f"{key!r}: {exc}")
            return default
        if not 0 < seconds <= 300:
            self.error(f"{key!r} must be between 1s and 5m, got {value!r}")
        return seconds

    def topics(self, known: tuple[str, ...]) -> tuple[str, ...]:
        value = self.data.get("topics", list(known))
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value) or not value:
            self.error(
                f"'topics' must be a non-empty list of topic ids, e.g. topics = [\"{known[0] if known else 'x'}\"]"
                " (leave it out for every topic)"
            )
            return ()
        unknown = [t for t in value if t not in known]
        if unknown:
            self.error(f"unknown topic {', '.join(map(repr, unknown))}; the topics are: {', '.join(known)}")
        return tuple(dict.fromkeys(value))

    def name(self, seen: set[str]) -> str:
        name = self.string("name", example="newsroom")
        if name and not _NAME.match(name):
            self.error("'name' must be letters, digits, '-', '_' or '.' (it names the subscriber in logs and /stats)")
        elif name in seen:
            self.error("duplicate name; give every webhook and email entry its own name")
        seen.add(name)
        return name


def webhook_from(entry: _Entry, seen: set[str], known: tuple[str, ...]) -> WebhookConfig:
    name = entry.name(seen)
    url = entry.url_or_env(
        "https://...",
        "give exactly one of 'url' (the address) or 'url_env' (the name of an environment variable "
        "holding it, for URLs that embed a secret)",
    )
    if url and not re.match(r"^https?://[^\s/]+", url):
        entry.error("the webhook URL must start with http:// or https://")
    payload = entry.string("payload", "full")
    if payload and payload not in PAYLOADS:
        entry.error(f"'payload' must be one of {', '.join(PAYLOADS)}, got {payload!r}")
    headers = _headers(entry)
    return WebhookConfig(
        name=name,
        url=url,
        topics=entry.topics(known),
        payload=payload or "full",
        headers=headers,
        timeout=entry.duration("timeout", 10.0),
    )


def _headers(entry: _Entry) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, from_env in (("headers", False), ("headers_from_env", True)):
        table = entry.data.get(key, {})
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            entry.error(f'{key!r} must be a table of strings, e.g. {key} = {{ X-Team = "value" }}')
            continue
        for header, value in table.items():
            if not _HEADER.match(header):
                entry.error(f"{key!r}: {header!r} is not a header name (letters, digits and '-')")
            elif from_env:
                headers[header] = _env_value(entry, key, header, value)
            elif "\n" in value or "\r" in value:
                entry.error(f"{key!r}: the value of {header!r} contains a line break")
            else:
                headers[header] = value
    return headers


def _env_value(entry: _Entry, key: str, header: str, var: str) -> str:
    if not _ENV_NAME.match(var):
        entry.error(
            f'{key!r}: {header} must name an environment variable, e.g. "WATCHER_HOOK_TOKEN", '
            "not hold the secret itself"
        )
        return ""
    value = entry.env.get(var, "")
    if not value:
        entry.error(
            f"{key!r}: {header} names the environment variable {var}, which is not set; set it, or remove the header"
        )
    return value


def email_from(entry: _Entry, seen: set[str], known: tuple[str, ...]) -> EmailConfig:
    name = entry.name(seen)
    to = entry.data.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to or not all(isinstance(a, str) and _EMAIL.match(a) for a in to):
        entry.error("'to' must be an address or a list of addresses, e.g. to = [\"team@example.org\"]")
        to = []
    sender = entry.string("from", example="watcher@example.org")
    if sender and not _EMAIL.match(sender):
        entry.error(f"'from' is not an email address: {sender!r}")
    host = entry.string("host", example="smtp.example.org")
    security = entry.string("security", "starttls")
    if security and security not in SECURITY:
        entry.error(f"'security' must be one of {', '.join(SECURITY)}, got {security!r}")
    port = entry.data.get("port", 465 if security == "tls" else 587 if security == "starttls" else 25)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        entry.error(f"'port' must be a port number, got {port!r}")
        port = 0
    username = entry.string("username", "")
    password = entry.secret("password_env") if "password_env" in entry.data else ""
    if username and "password_env" not in entry.data:
        entry.error(
            "'username' is set but 'password_env' is not; name the environment variable holding the "
            'SMTP password, e.g. password_env = "WATCHER_SMTP_PASSWORD"'
        )
    prefix = entry.string("subject_prefix", "[watcher]")
    return EmailConfig(
        name=name,
        to=tuple(to),
        sender=sender,
        host=host,
        topics=entry.topics(known),
        port=port,
        security=security or "starttls",
        username=username,
        password=password,
        subject_prefix=prefix,
        timeout=entry.duration("timeout", 20.0),
    )


def apprise_from(entry: _Entry, seen: set[str], known: tuple[str, ...]) -> AppriseConfig:
    name = entry.name(seen)
    url = entry.url_or_env(
        "json://...",
        "give exactly one of 'url_env' (the name of an environment variable holding the apprise URL, "
        "which usually embeds a token) or 'url'",
    )
    problem = apprise_problem(url) if url else ""
    if problem:
        entry.error(problem)
    return AppriseConfig(name=name, url=url, topics=entry.topics(known), timeout=entry.duration("timeout", 20.0))


def apprise_problem(url: str) -> str:
    """Why apprise cannot send to ``url`` (the extra is missing, or no plugin takes the URL), or ""."""
    try:
        import apprise  # loaded late: the optional extra, needed only when notifiers.toml has [[apprise]] entries
    except ImportError:
        return (
            "apprise is not installed; install the extra (pip install 'eu-council-watcher[apprise]') or remove "
            "the [[apprise]] entry"
        )
    if apprise.Apprise.instantiate(url) is None:
        scheme = url.split("://", 1)[0] if "://" in url else url[:12]
        return (
            f"apprise does not take this URL (scheme {scheme!r}); see the apprise documentation for the URL of "
            "each service, e.g. json://host/path or ntfy://topic"
        )
    return ""


def notifiers_from_toml(
    data: dict, filename: str, topic_ids: tuple[str, ...], env: Mapping[str, str]
) -> tuple[list, list[str]]:
    """Build every [[webhook]], [[email]] and [[apprise]] entry; returns them and the problems found."""
    problems: list[str] = []
    for key in data:
        if key not in ("webhook", "email", "apprise"):
            problems.append(
                f"{filename}: unknown top-level key {key!r}; use [[webhook]], [[email]] and [[apprise]] entries"
            )
    out: list = []
    seen: set[str] = set()
    for kind, keys, build in (
        ("webhook", WEBHOOK_KEYS, webhook_from),
        ("email", EMAIL_KEYS, email_from),
        ("apprise", APPRISE_KEYS, apprise_from),
    ):
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            problems.append(f"{filename}: '{kind}' must be written as [[{kind}]] tables")
            continue
        for index, raw in enumerate(entries):
            entry = _Entry(filename, kind, index, raw, keys, env, problems)
            if isinstance(raw, dict):
                out.append(build(entry, seen, topic_ids))
    return out, problems
