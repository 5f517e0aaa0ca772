"""`watcher once` beside a running `watcher run` on one SQLite data directory, both sending through one fake Bot API:
every alert arrives once. Both claim the outbox rows they send (``watcher.store.leases``); without the claims each
of them sends every row it finds due, and the rows the service is sending arrive twice.

To make the race show every time rather than by luck, the fake Bot API answers each sendMessage slowly, and every
round queues a fresh batch of alerts just before two `watcher once` start side by side, so the service is in the
middle of sending when they look at the outbox. All of them are real processes on the real file.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.conftest import cli_env, make_config, source_toml, unpaced
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feeds import FeedServer, rss
from watcher.models import Item, Match
from watcher.store.sqlite import Store

ROOT = Path(__file__).resolve().parent.parent
SEED = {"title": "Council adopts conclusions on fisheries", "link": "https://e.org/seed", "guid": "lease-seed"}
TITLE = "Lease item {n}: Council agrees new rules against migrant smuggling"
ITEM_RE = re.compile(r"Lease item (\d+):")
CHATS = [7101 + i for i in range(8)]
ROUNDS = 10  # two `watcher once` per round: 20 runs
ITEMS_PER_ROUND = 2
SEND_DELAY = 0.25  # seconds the fake holds every sendMessage


def env_for(tmp_path: Path, api: FakeBotAPI) -> dict[str, str]:
    """The environment of every process: one data directory, one fake Bot API, this checkout's code."""
    return cli_env(
        tmp_path,
        WATCHER_TELEGRAM_TOKEN=api.token,
        WATCHER_TELEGRAM_API_URL=api.base_url,
        WATCHER_HTTP_PORT="0",
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )


def queue_items(db: Path, first: int, count: int) -> list[int]:
    """Record ``count`` matching items as a poll of source ``lease`` would, which queues one alert per chat each."""
    numbers = list(range(first, first + count))
    store = Store(db)
    try:
        items = [
            Item(source="lease", id=f"lease-{n}", title=TITLE.format(n=n), url=f"https://e.org/{n}") for n in numbers
        ]
        store.record_poll("lease", items, {("lease", i.id): [Match("smuggling", ("smuggling",))] for i in items})
    finally:
        store.close()
    return numbers


def received(api: FakeBotAPI) -> Counter:
    """What the fake accepted, per (chat, item number)."""
    counts: Counter = Counter()
    for message in api.sent_messages():
        for n in set(ITEM_RE.findall(message.get("plain_text") or message["text"])):
            counts[(int(message["chat_id"]), int(n))] += 1
    return counts


def pending(db: Path) -> int:
    store = Store(db)
    try:
        return store.outbox_depth()
    finally:
        store.close()


def test_once_beside_run_sends_nothing_twice(tmp_path):
    data = tmp_path / "data"
    db = data / "watcher.db"
    with FeedServer() as feeds, FakeBotAPI() as api:
        feeds.set("/feed.xml", rss([SEED]))
        config = make_config(tmp_path / "config", unpaced(source_toml("lease", feeds.url("/feed.xml"), every="1h")))
        store = Store(db)
        for chat in CHATS:
            store.subscribe("telegram", str(chat), ["smuggling"])
        store.record_poll("lease", [Item(source="lease", id="lease-seed", title=SEED["title"], url=SEED["link"])], {})
        store.close()
        api.delay_next("sendMessage", SEND_DELAY, count=1_000_000)
        env = env_for(tmp_path, api)
        log = (tmp_path / "run.log").open("w")
        service = subprocess.Popen(
            [sys.executable, "-m", "watcher", "--config", str(config), "run"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        expected: list[int] = []
        onces: list[subprocess.CompletedProcess] = []
        try:
            assert api.wait_until(lambda: bool(api.calls("setMyCommands")), 60), "the service did not start"
            for _ in range(ROUNDS):
                before = len(api.calls("sendMessage"))
                expected += queue_items(db, len(expected) + 1, ITEMS_PER_ROUND)
                api.wait_until(lambda: len(api.calls("sendMessage")) > before, 10)  # noqa: B023 (called right here)
                time.sleep(0.3)  # the service is in the middle of this batch
                runs = [
                    subprocess.Popen(
                        [sys.executable, "-m", "watcher", "--config", str(config), "once"],
                        cwd=tmp_path,
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    for _ in range(2)
                ]
                for run in runs:
                    out, err = run.communicate(timeout=120)
                    onces.append(subprocess.CompletedProcess(run.args, run.returncode, out, err))
            goal = len(expected) * len(CHATS)
            assert api.wait_until(lambda: pending(db) == 0 and sum(received(api).values()) >= goal, 120), (
                f"the outbox did not drain: {pending(db)} waiting"
            )
            time.sleep(1.0)  # a late duplicate would show up by now
        finally:
            if service.poll() is None:
                service.send_signal(signal.SIGTERM)
            code = service.wait(timeout=60)
            log.close()
    assert len(onces) == 2 * ROUNDS and all(o.returncode == 0 for o in onces), [o.stderr[-500:] for o in onces]
    assert code == 0, (tmp_path / "run.log").read_text()[-2000:]
    counts = received(api)
    wanted = {(chat, n) for chat in CHATS for n in expected}
    lost = wanted - set(counts)
    duplicates = {pair: n for pair, n in counts.items() if n > 1}
    assert not lost, f"{len(lost)} alerts never arrived"
    assert not duplicates, f"{sum(n - 1 for n in duplicates.values())} duplicate sends: {sorted(duplicates)[:10]}"
    assert set(counts) == wanted
