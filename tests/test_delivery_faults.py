"""A send that Telegram accepted is never sent again, even when the database will not record it: the disk is full,
or another process holds the write lock past the busy timeout. The worker keeps the send in memory as
sent-but-unrecorded and writes the record once the store takes it.

The fault starts right after Telegram accepted the send (the worker claims a row with a write before it sends it,
so a database that refuses writes from the start sends nothing): the notifier runs a hook once its send is done."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from tests.fakes.telegram import make_store, queue_alert
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.notifiers.telegram import TelegramNotifier

LABELS = {"smuggling": "Migrant smuggling"}


@pytest.fixture
async def bot(api):
    async with Bot(api.token, base_url=api.base_url, request=HTTPXRequest(connection_pool_size=4)) as b:
        yield b


async def run_for(worker: DeliveryWorker, seconds: float) -> None:
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(seconds)
    worker.stop()
    await asyncio.wait_for(task, 10)


class FaultAfterSend(TelegramNotifier):
    """The real Telegram notifier, and ``fault()`` run once, after the first send Telegram accepted."""

    def __init__(self, bot, fault: Callable[[], None]):
        super().__init__(bot, LABELS)
        self.fault: Callable[[], None] | None = fault

    async def send(self, alert, plain: bool = False) -> None:
        await super().send(alert, plain=plain)
        if self.fault is not None:
            self.fault, fault = None, self.fault
            fault()


def worker_for(store, bot, fault: Callable[[], None] = lambda: None) -> DeliveryWorker:
    return DeliveryWorker(store, {"telegram": FaultAfterSend(bot, fault)}, Pacer(), idle_wait=0.1)


async def test_held_lock_after_the_send_gives_no_extra_send(tmp_path, bot, api):
    """Another connection holds the write lock (a backup, a sqlite3 shell in a transaction): the alert is sent
    once, not once a second, and is recorded as delivered when the lock goes."""
    store = make_store(tmp_path / "w.db")
    store.subscribe("telegram", "1", ["smuggling"])
    queue_alert(store, "council-press", "a")
    store.db.execute("PRAGMA busy_timeout=50")
    holder = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    worker = worker_for(store, bot, lambda: holder.execute("BEGIN IMMEDIATE"))  # the write lock; reads still work
    await run_for(worker, 3.5)
    assert len(api.sent_messages(1)) == 1
    assert store.outbox_depth() == 1 and len(worker.unrecorded) == 1
    holder.execute("ROLLBACK")
    holder.close()
    await run_for(worker, 1.5)
    assert len(api.sent_messages(1)) == 1
    assert store.outbox_depth() == 0 and len(worker.unrecorded) == 0
    store.close()


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (needs root and mount rights); skipped where it cannot be mounted."""
    where = tmp_path / "disk"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def fill(directory: Path) -> None:
    """Write a filler file until the file system says it is full (tmpfs hands out whole pages)."""
    with open(directory / "filler", "wb", buffering=0) as out:
        for size in (65536, 4096, 512):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError:
                pass


async def test_full_disk_after_the_send_gives_no_extra_send(small_disk, bot, api):
    """The disk fills right after the send: the alert is sent once, and recorded when space comes back."""
    store = make_store(small_disk / "w.db")
    store.subscribe("telegram", "1", ["smuggling"])
    queue_alert(store, "council-press", "a")
    worker = worker_for(store, bot, lambda: fill(small_disk))
    await run_for(worker, 3.5)
    with pytest.raises(sqlite3.OperationalError, match="full"):
        store.db.execute("INSERT INTO migrations VALUES ('probe-of-a-full-disk', 'x')")
    assert len(api.sent_messages(1)) == 1
    assert len(worker.unrecorded) == 1
    (small_disk / "filler").unlink()
    await run_for(worker, 1.5)
    assert len(api.sent_messages(1)) == 1
    assert store.outbox_depth() == 0 and len(worker.unrecorded) == 0
    store.close()
