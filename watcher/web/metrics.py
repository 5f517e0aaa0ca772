"""Prometheus metrics, on a registry of the service's own (so tests can run several services in one process)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from watcher.store import ledger, subscribers

STAGE_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self, store=None):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter(
            "watcher_polls",
            "Polls by source and result class (ok or a failure class)",
            ["source", "result"],
            registry=r,
        )
        self.polls_skipped = Counter(
            "watcher_polls_skipped",
            "Polls not made because another replica polled the source or it was not due yet (source claims)",
            ["source"],
            registry=r,
        )
        self.items_seen = Counter("watcher_items_seen", "Items fetched, new or not", ["source"], registry=r)
        self.items_new = Counter("watcher_items_new", "Items seen for the first time", ["source"], registry=r)
        self.items_matched = Counter("watcher_items_matched", "New items that matched a topic", ["source"], registry=r)
        self.alerts_queued = Counter("watcher_alerts_queued", "Alerts written to the outbox", ["source"], registry=r)
        self.deliveries = Counter(
            "watcher_deliveries", "Notifier answers by channel and kind", ["channel", "kind"], registry=r
        )
        self.stage = Histogram(
            "watcher_stage_seconds", "Time spent in each pipeline stage", ["stage"], buckets=STAGE_BUCKETS, registry=r
        )
        self.leader = Gauge(
            "watcher_leader",
            "1 while this replica holds the leader lease of that name (it runs that singleton), else 0",
            ["lease"],
            registry=r,
        )
        if store is not None:
            r.register(OutboxCollector(store))

    @contextmanager
    def timed(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage.labels(stage).observe(time.perf_counter() - start)

    def observe_poll(self, result) -> None:
        self.polls.labels(result.source, result.failure or "ok").inc()
        if result.ok:
            self.items_seen.labels(result.source).inc(len(result.items))
            self.items_new.labels(result.source).inc(len(result.new))
            self.items_matched.labels(result.source).inc(len(result.flagged))
            self.alerts_queued.labels(result.source).inc(result.alerts)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class OutboxCollector:
    """The outbox read from the store at scrape time: its depth, the age of its oldest undelivered alert (all of
    them, and those owed to instant-mode chats), the drain and fill rates, whether the operators were told that alerts
    are late, and how many outbox leases this process holds."""

    def __init__(self, store):
        self.store = store

    def describe(self):
        return []

    def collect(self):
        now = self.store.clock()
        minutes = subscribers.DRAIN_WINDOW_MINUTES
        yield _gauge("watcher_outbox_depth", "Alerts waiting for delivery", self.store.outbox_depth())
        yield _gauge(
            "watcher_outbox_oldest_age_seconds",
            "Age of the oldest undelivered alert (digests included)",
            _age(self.store.oldest_pending_at(), now),
        )
        yield _gauge(
            "watcher_outbox_oldest_instant_age_seconds",
            "Age of the oldest undelivered alert owed to an instant-mode chat (what the late-queue warning watches)",
            _age(subscribers.oldest_instant_pending_at(self.store), now),
        )
        yield _gauge(
            "watcher_outbox_delivered_per_minute",
            f"Alerts marked delivered per minute over the last {minutes} minutes",
            subscribers.delivered_per_minute(self.store, now, minutes),
        )
        yield _gauge(
            "watcher_outbox_queued_per_minute",
            f"Alerts queued per minute over the last {minutes} minutes",
            subscribers.queued_per_minute(self.store, now, minutes),
        )
        yield _gauge(
            "watcher_outbox_late",
            "1 while the operators have been told that alerts are late, else 0",
            1.0 if subscribers.backlog_notified_at(self.store) else 0.0,
        )
        yield _gauge(
            "watcher_outbox_leases_held",
            "Outbox rows this process holds a lease on (alerts it is sending now)",
            self.store.leases_held(),
        )
        yield from _ledger_gauges(ledger.gauges(self.store))


def _ledger_gauges(rows: list[tuple[str, int, int, int, int]]):
    """The Council ledger per series and year: numbers known, public, and open gaps."""
    families = [
        GaugeMetricFamily(f"watcher_ledger_{name}", text, labels=["series", "year"])
        for name, text in (
            ("known", "Council document numbers known"),
            ("public", "Council document numbers public"),
            ("open_gaps", "Council document numbers known below the highest and never public"),
        )
    ]
    for series, year, *values in rows:
        for family, value in zip(families, values):
            family.add_metric([series, str(year)], value)
    return families


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], value)
    return gauge


def _age(then: datetime | None, now: datetime) -> float:
    return max(0.0, (now - then).total_seconds()) if then else 0.0
