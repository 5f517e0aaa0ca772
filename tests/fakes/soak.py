"""Parts of the kill -9 runs (``scripts/kill_soak.py`` on SQLite, ``scripts/chaos.py`` with replicas on PostgreSQL):
a feed that gains a matching item every few seconds, ``watcher run`` as a child process that can be killed and
started again, the alerts the fake Bot API received counted per (chat, item), and the tally of lost and doubled
alerts."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feeds import Route, rss
from watcher.store.sqlite import Store

ROOT = Path(__file__).resolve().parent.parent.parent
TITLE = "Soak item {n}: Council agrees new rules against migrant smuggling networks"
ITEM_RE = re.compile(r"Soak item (\d+):")
SEED = {"title": "Council adopts conclusions on fisheries", "link": "https://e.org/soak/seed", "guid": "soak-seed"}


class Publisher:
    """The feed: a non-matching seed item, then one matching item every ``every`` seconds while started."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.items: list[dict] = [SEED]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def published(self) -> int:
        """Matching items in the feed so far."""
        with self._lock:
            return len(self.items) - 1

    def route(self, _headers: dict[str, str]) -> Route:
        with self._lock:
            body = rss(list(reversed(self.items)), title="Soak feed")
        return Route(body.encode())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            with self._lock:
                n = len(self.items)
                self.items.append({"title": TITLE.format(n=n), "link": f"https://e.org/soak/{n}", "guid": f"soak-{n}"})


class Service:
    """`watcher run` as a child process, started again after each kill; its output goes to ``<name>.log``."""

    def __init__(self, work: Path, env: dict[str, str], name: str = "service") -> None:
        self.work, self.env, self.name = work, env, name
        self.path = work / f"{name}.log"
        self.log = self.path.open("ab")
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watcher", "--config", str(self.work / "config"), "run"],
            cwd=self.work,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the running child and reap it."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM, and the exit code (killed after 30 s if it does not stop)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.log.close()
        return code

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.path.read_text(errors="replace").splitlines()[-lines:])


def service_env(api: FakeBotAPI, **settings: str) -> dict[str, str]:
    """The environment of a service under test: none of the caller's WATCHER_* settings, the fake Bot API, a free
    HTTP port, this checkout on the path, and ``settings`` (WATCHER_DATA_DIR, WATCHER_DATABASE_URL, …)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(
        {
            "WATCHER_TELEGRAM_TOKEN": api.token,
            "WATCHER_TELEGRAM_API_URL": api.base_url,
            "WATCHER_HTTP_PORT": "0",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
            **settings,
        }
    )
    return env


def write_setup(work: Path, sources: str, database: str | Path, chats: list[int]) -> None:
    """What the service reads at start: ``work/config`` with ``sources`` (the text of its sources.toml) and the
    shipped topics (with the relevance model's weights), and ``chats`` subscribed to the smuggling topic in
    ``database`` (a SQLite file or a PostgreSQL URL)."""
    config = work / "config"
    config.mkdir(parents=True)
    (config / "sources.toml").write_text(sources, encoding="utf-8")
    for name in ("topics.toml", "relevance-model.json"):  # the topics and the weights their `relevance` keys use
        shutil.copy(ROOT / "config" / name, config / name)
    store = Store(database)
    try:
        for chat in chats:
            store.subscribe("telegram", str(chat), ["smuggling"])
    finally:
        store.close()


def received(api: FakeBotAPI) -> Counter:
    """Alerts accepted by the fake, counted per (chat, item number); a message listing several items counts each of
    them once (an alert names its item in the title and again in the snippet)."""
    counts: Counter = Counter()
    for message in api.sent_messages():
        items = {int(n) for n in ITEM_RE.findall(message.get("plain_text") or message["text"])}
        counts.update((int(message["chat_id"]), n) for n in items)
    return counts


def wait_until(condition: Callable[[], bool], timeout: float, alive: Callable[[], bool] | None = None) -> bool:
    """Poll ``condition`` every 0.1 s until it holds (True), ``timeout`` passes or ``alive()`` says no (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or (alive is not None and not alive()):
            return False
        time.sleep(0.1)
    return True


def drain(
    publisher: Publisher,
    api: FakeBotAPI,
    chats: list[int],
    outbox: Callable[[], tuple[int, int]],
    timeout: float,
    alive: Callable[[], bool],
) -> tuple[int, bool]:
    """Stop the feed, then wait (up to ``timeout`` s, while ``alive()``) until ``outbox()`` (rows queued, rows
    delivered) holds every published item delivered to every chat, and a little more for the fake to have them all
    and for late answers to sends cut short. The number of items published, and whether the outbox drained."""
    publisher.stop()
    items = publisher.published
    goal = items * len(chats)
    drained = wait_until(lambda: outbox() == (goal, goal), timeout, alive)
    wait_until(lambda: len(received(api)) >= goal, 5.0, alive)
    time.sleep(2.0)  # a late answer to a send cut short would show up by now
    return items, drained


def tally(counts: Counter, chats: list[int], items: int) -> dict:
    """Expected alerts (every item 1..items to every chat), received, lost, doubled, and any for other items."""
    expected = {(chat, n) for chat in chats for n in range(1, items + 1)}
    return {
        "items": items,
        "subscribers": len(chats),
        "expected": len(expected),
        "received": sum(counts[pair] for pair in expected),
        "lost": sum(1 for pair in expected if not counts[pair]),
        "duplicates": sum(counts[pair] - 1 for pair in expected if counts[pair] > 1),
        "unexpected": sum(n for pair, n in counts.items() if pair not in expected),
    }


def delivery_failures(result: dict) -> list[str]:
    """What went wrong with delivery in a run's ``result`` (a ``tally`` with its ``kills``): nothing received, alerts
    lost, more duplicates than kills (a kill between the send and its record may double one alert), or alerts for
    items that should not alert."""
    problems = []
    if not result["received"]:
        problems.append("nothing was received")
    if result["lost"]:
        problems.append(f"{result['lost']} alerts lost")
    if result["duplicates"] > result["kills"]:
        problems.append(f"{result['duplicates']} duplicates for {result['kills']} kills")
    if result["unexpected"]:
        problems.append(f"{result['unexpected']} messages for items that should not alert")
    return problems


def report(result: dict, summary: str, problems: list[str]) -> int:
    """Print the one-line ``summary``, each problem on stderr, and the result with ``ok`` as the last line (one JSON
    object); the exit code: 1 if there were problems, else 0."""
    print(summary)
    for problem in problems:
        print("FAILED: " + problem, file=sys.stderr)
    result["ok"] = not problems
    print(json.dumps(result))
    return 1 if problems else 0
