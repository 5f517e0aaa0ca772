"""Every exception watcher raises on purpose.

    WatcherError
     ├── ConfigError            bad configuration; carries one line per problem
     ├── FetchError             a poll failed; ``failure`` names the class
     │    (classes: blocked, rate_limited, server_error, client_error, timeout,
     │     too_large, network, unparseable, empty, redirect_loop, disallowed)
     ├── NotModified            the server answered 304 to a conditional GET:
     │                          a successful poll with nothing new (not a failure)
     ├── ParseError             bytes that do not parse; a FetchError of class
     │                          ``unparseable`` (or ``empty``) once it reaches the pipeline
     ├── StoreError             the database cannot be opened or used safely: damaged,
     │                          locked, written by a newer watcher, or out of reach
     └── NotifyError            a notifier could not deliver an alert
          ├── RetryLater        transient: try again after ``delay`` seconds
          ├── RecipientGone     blocked, kicked or deleted: deactivate them
          ├── RecipientMoved    the chat now lives at ``new_address``
          └── BadMarkup         the formatted text was refused: send it plain

Errors from libraries (httpx, feedparser, telegram) are translated into these
at the boundary, once, with ``raise ... from exc``.
"""

from __future__ import annotations


class WatcherError(Exception):
    """Base of all watcher errors."""


class ConfigError(WatcherError):
    """The configuration is invalid. ``problems`` holds one readable line each."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


FAILURE_CLASSES = (
    "blocked",
    "rate_limited",
    "server_error",
    "client_error",
    "timeout",
    "too_large",
    "network",
    "unparseable",
    "empty",
    "redirect_loop",
    "disallowed",
)


class FetchError(WatcherError):
    """A fetch or poll failed. ``failure`` is one of FAILURE_CLASSES."""

    def __init__(
        self,
        failure: str,
        detail: str,
        *,
        source: str = "",
        url: str = "",
        retry_after: float | None = None,
        status: int | None = None,
    ):
        if failure not in FAILURE_CLASSES:
            raise ValueError(f"unknown failure class {failure!r}")
        self.failure = failure
        self.detail = detail
        self.source = source
        self.url = url
        self.retry_after = retry_after
        self.status = status  # the HTTP status, when the failure was an HTTP answer
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{failure}: {detail}")


class NotModified(WatcherError):
    """The server said 304 Not Modified: nothing changed since the validators were stored."""

    def __init__(self, url: str, source: str = ""):
        self.url = url
        self.source = source
        super().__init__(f"{source + ': ' if source else ''}not modified: {url}")


class ParseError(WatcherError):
    """Bytes from a source could not be turned into items. ``failure`` is ``unparseable``, or ``empty`` when the
    document was read but held no rows where rows were expected."""

    def __init__(self, detail: str, failure: str = "unparseable"):
        self.failure = failure
        super().__init__(detail)


class StoreError(WatcherError):
    """The database cannot be opened or used safely; ``path``, ``problem`` and ``hint`` make one line."""

    def __init__(self, path: str, problem: str, hint: str):
        self.path, self.problem, self.hint = path, problem, hint
        super().__init__(f"{path}: {problem}; {hint}")


class NotifyError(WatcherError):
    """A notifier failed to deliver one alert."""


class RetryLater(NotifyError):
    """Transient failure. ``flood`` means the service asked every send to wait ``delay`` seconds."""

    def __init__(self, detail: str, delay: float = 5.0, *, flood: bool = False):
        self.delay = delay
        self.flood = flood
        super().__init__(detail)


class RecipientGone(NotifyError):
    """The recipient blocked the bot, left, or no longer exists."""


class RecipientMoved(NotifyError):
    def __init__(self, detail: str, new_address: str):
        self.new_address = new_address
        super().__init__(detail)


class BadMarkup(NotifyError):
    """The service refused the formatted text; a plain-text resend may pass."""
