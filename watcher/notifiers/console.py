"""Console notifier: prints alerts to standard output. Used when no Telegram token is set."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TextIO

from watcher.models import Alert
from watcher.notifiers.format import alert_text

CONSOLE_ADDRESS = "stdout"


class ConsoleNotifier:
    channel = "console"
    chat_paced = False  # no per-chat limits outside Telegram

    def is_group(self, address: str) -> bool:
        return False

    def __init__(
        self, labels: Mapping[str, str], stream: TextIO | None = None, source_labels: Mapping[str, str] | None = None
    ):
        self.labels = labels
        self.stream = stream
        self.source_labels: Mapping[str, str] = source_labels or {}  # source name -> its label in sources.toml

    async def send(self, alert: Alert, *, plain: bool = False) -> None:
        out = self.stream or sys.stdout
        out.write("=== ALERT ===\n" + alert_text(alert, self.labels, self.source_labels) + "\n\n")
        out.flush()
