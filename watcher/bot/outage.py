"""Whether the Bot API answers the bot's polls for updates: one warning when it stops answering, one info line when
it answers again, and no traceback for a network error in between."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from telegram.error import NetworkError, TelegramError
from telegram.ext import Application
from telegram.request import HTTPXRequest

from watcher.logs import redact

log = logging.getLogger("watcher.bot")


class PollWatch:
    """The state of the bot's polls for updates, logged only when it changes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.down_since: float | None = None
        self.failures = 0

    def failed(self, exc: BaseException) -> None:
        """A poll got no answer (or a server error): warn once, when the outage starts."""
        self.failures += 1
        if self.down_since is None:
            self.down_since = self.clock()
            log.warning(
                "Telegram Bot API not answering the bot's polls (%s); commands wait until it answers",
                redact(str(exc))[:200],
            )

    def answered(self) -> None:
        """A poll was answered: say once that the outage is over."""
        if self.down_since is None:
            return
        log.info(
            "Telegram Bot API answering again after %.0fs and %d failed polls",
            self.clock() - self.down_since,
            self.failures,
        )
        self.down_since, self.failures = None, 0

    def on_polling_error(self, exc: TelegramError) -> None:
        """The updater's error callback: network errors go to ``failed``; anything else is logged on one line."""
        if isinstance(exc, NetworkError):
            self.failed(exc)
        else:
            log.error("Telegram: polling for updates failed: %s", redact(str(exc))[:200])


class WatchedRequest(HTTPXRequest):
    """The getUpdates connection, telling a :class:`PollWatch` whether each poll was answered."""

    def __init__(self, watch: PollWatch, **kwargs: Any):
        super().__init__(**kwargs)
        self.watch = watch

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Send one request and note when the Bot API answered it (a 5xx is no answer)."""
        code, payload = await super().do_request(*args, **kwargs)  # a failure reaches the updater's callback
        if code < 500:
            self.watch.answered()
        return code, payload


def build_application(token: str, base_url: str, watch: PollWatch) -> Application:
    """The bot's Application, its getUpdates connection watched by ``watch``."""
    return (
        Application.builder()
        .token(token)
        .base_url(base_url)
        .get_updates_request(WatchedRequest(watch, connection_pool_size=1))
        .build()
    )
