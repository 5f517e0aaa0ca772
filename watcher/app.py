"""Wiring and lifecycle: config → store → http → sources → scheduler → bot → delivery, and a clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from watcher import pipeline
from watcher.config import Config, Settings
from watcher.delivery import backpressure
from watcher.delivery.operators import AdminMessenger, messenger_for
from watcher.delivery.pacing import SharedPacer
from watcher.delivery.worker import DeliveryWorker, Pacer
from watcher.durations import doubling
from watcher.health import HealthRules, next_delay
from watcher.http.client import Http
from watcher.matcher import Matcher
from watcher.notifiers.console import CONSOLE_ADDRESS, ConsoleNotifier
from watcher.notifiers.setup import close_notifiers, configured_notifiers
from watcher.store import claims, subscribers
from watcher.store import db as dbmod
from watcher.store.aio import AsyncStore, LoopValidators, StoreErrors, as_async
from watcher.store.archive import Reader
from watcher.store.leader import LEASES, OUTBOX_BACKLOG, TELEGRAM_UPDATES, Leadership, leadership_for
from watcher.store.notify import OutboxSignal
from watcher.store.pace import PaceBook, bot_key
from watcher.store.provenance import kept_documents
from watcher.store.sqlite import Store
from watcher.web.archive import ArchiveSite
from watcher.web.metrics import Metrics
from watcher.web.server import WebServer, readiness
from watcher.wiring import console_mode_setup, labels_of, make_http, source_labels_of

if TYPE_CHECKING:  # for annotations only: the Telegram library is loaded late, with a token
    from telegram.ext import Application

log = logging.getLogger(__name__)

BOT_RETRY_MAX = 300.0
SUMMARY_EVERY = 60.0
LEASE_FOLLOW_EVERY = 30.0  # how often polling is checked against the telegram-updates lease, besides its changes


class CycleSummary:
    """Counts polls between two summary lines: polled, new, flagged, failed."""

    def __init__(self) -> None:
        self.polled = self.new = self.flagged = self.alerts = 0
        self.failed: list[str] = []

    def reset(self) -> None:
        self.polled = self.new = self.flagged = self.alerts = 0
        self.failed = []

    def add(self, result) -> None:
        self.polled += 1
        self.new += len(result.new)
        self.flagged += len(result.flagged)
        self.alerts += result.alerts
        if not result.ok:
            self.failed.append(f"{result.source} ({result.failure})")

    def take(self) -> str:
        if not self.polled:
            return ""
        failed = f" [{', '.join(self.failed)}]" if self.failed else ""
        line = (
            f"polled {self.polled}, new {self.new}, flagged {self.flagged}, alerts {self.alerts}, "
            f"failed {len(self.failed)}{failed}"
        )
        self.reset()
        return line


def poll_delay(store: Store, source, result, rules: HealthRules) -> float:
    """Seconds until the source's next poll: its interval, spaced out while it keeps failing (see
    ``health.next_delay``), and never sooner than a Retry-After the server gave."""
    failures = int((store.source_states().get(source.name) or {}).get("consecutive_failures") or 0)
    delay = next_delay(source.every, failures, rules.backoff_cap)
    if result.retry_after:
        delay = max(delay, result.retry_after)
    return delay


def render_metrics(store: Store, metrics: Metrics | None) -> bytes:
    """The metrics page; run on the database thread, since its outbox figures read the store."""
    return metrics.render() if metrics is not None else b""


def schedule_offsets(count: int, spread: float = 5.0) -> list[float]:
    """Stagger first polls a little so sources do not all start in the same second."""
    return [min(spread, i * 0.5) for i in range(count)]


class Service:
    """The long-running process: scheduler, delivery worker and (with a token) the Telegram bot on one loop."""

    def __init__(self, config: Config, settings: Settings, *, stdout: TextIO | None = None):
        self.config = config
        self.settings = settings
        self.stdout = stdout
        self.matcher = Matcher(config.topics, relevance=config.relevance)
        self.personal = pipeline.PersonalTerms()  # every chat's own terms, shared by all polls
        self.store: Store | None = None
        self._db: AsyncStore | None = None  # holds the database thread while the service runs
        self.http: Http | None = None
        self.delivery: DeliveryWorker | None = None
        self.application: Application | None = None
        self.metrics: Metrics | None = None
        self.web: WebServer | None = None
        self.admin: AdminMessenger | None = None
        self.backlog: backpressure.BacklogWatch | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.leadership: Leadership | None = None  # which singletons this replica runs (all of them on SQLite)
        self.pace_book: PaceBook | None = None  # paces shared with the other replicas (PostgreSQL only)
        self.signal: OutboxSignal | None = None  # LISTEN/NOTIFY between replicas for queued alerts (PostgreSQL only)
        self._bot_started = False
        self._polling = asyncio.Lock()
        self.claim_owner = claims.new_owner()  # whose claim on a source poll says this process polls it
        self.rules = config.health_rules
        self.kept = kept_documents(settings.data_dir, config.archive)  # None unless [archive] keep_documents
        self.cycle = CycleSummary()
        self.notifiers: dict = {}
        self._stop = asyncio.Event()
        self.failed = False
        self._tasks: list[asyncio.Task] = []

    @property
    def db(self) -> AsyncStore:
        """The store as the loop awaits it: while the service runs, every call runs on the database thread."""
        assert self.store is not None, "the store is opened by run()"
        return as_async(self.store)

    def request_stop(self) -> None:
        self._stop.set()

    def _start_task(self, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._task_ended)
        self._tasks.append(task)

    def _task_ended(self, task: asyncio.Task) -> None:
        """A background task that dies stops the service with a non-zero exit, so the supervisor restarts it;
        the outbox keeps every undelivered alert across that restart."""
        if task.cancelled() or task.exception() is None or self._stop.is_set():
            return
        log.critical(
            "%s task crashed; stopping so that the supervisor restarts watcher",
            task.get_name(),
            exc_info=task.exception(),
        )
        self.failed = True
        self._stop.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError):
                log.debug("signal %s cannot be handled on this platform", sig)
        rules = backpressure.rules_from_env()  # a bad WATCHER_OUTBOX_* value stops the start with its fix
        self.store = await asyncio.to_thread(Store, self.settings.store_target)
        self._db = AsyncStore(self.store)  # from here on SQLite is used from the database thread only
        self.metrics = Metrics(self.store)
        await self._start_replication()
        self.http = make_http(
            self.config,
            validators=await LoopValidators.load(self.db),
            host_reserve=self.pace_book.reserve_wait if self.pace_book else None,
        )
        self.notifiers = await self._notifiers()
        labels = labels_of(self.config)
        allow_private = self.config.http.allows_private(os.environ)
        self.notifiers.update(
            await self.db.run(lambda store: configured_notifiers(self.config.notifiers, store, labels, allow_private))
        )
        self.delivery = DeliveryWorker(
            self.store,
            self.notifiers,
            self._send_pacer(),
            metrics=self.metrics,
            concurrency=self.settings.send_concurrency,
            chat_cap=rules.chat_cap,
        )
        self.admin = messenger_for(self.store, self.settings, self.application.bot if self.application else None)
        self.backlog = backpressure.BacklogWatch(self.store, rules, wake=self.admin.wake)
        await self._start_web()
        scheduler = self.scheduler = self._scheduler(loop)
        self._start_task(self.delivery.run(), "delivery")
        self._start_task(self.admin.run(), "operator-messages")
        if self.leadership is not None:
            self._start_task(self.leadership.run(), "leases")
        if self.signal is not None:
            self._start_task(self.signal.run(), "outbox-signal")
        if self.settings.telegram_token:
            self._start_task(self._run_bot(), "telegram")
        scheduler.start()
        try:
            await self._stop.wait()
        finally:
            log.info("shutting down")
            scheduler.shutdown(wait=False)
            await self._shutdown()

    async def _start_replication(self) -> None:
        """Leases for the singletons; with WATCHER_DATABASE_URL also the shared paces and the outbox signal."""
        url = self.settings.database_url
        self.leadership = leadership_for(url, LEASES)
        self.leadership.on_change(self._lease_changed)
        if self.metrics is not None:
            for name in LEASES:
                self.metrics.leader.labels(name).set(0)
        if url:
            self.pace_book = await PaceBook(url).open()
            self.signal = OutboxSignal(url, self._wake_delivery)
            log.info("replicas: leases by advisory lock, paces shared and queued alerts signalled in PostgreSQL")

    def _send_pacer(self) -> Pacer:
        """The send pace: shared by every replica of the bot on PostgreSQL, this process's own otherwise."""
        token = self.settings.telegram_token
        if self.pace_book is not None and token:
            return SharedPacer(self.pace_book, bot_key(token), rate=self.settings.send_rate)
        return Pacer(rate=self.settings.send_rate)

    def _wake_delivery(self) -> None:
        if self.delivery is not None:
            self.delivery.wake()

    async def _lease_changed(self, name: str, leads: bool) -> None:
        if self.metrics is not None:
            self.metrics.leader.labels(name).set(1 if leads else 0)
        if name == TELEGRAM_UPDATES:
            await self._follow_lease()

    async def _follow_lease(self) -> None:
        """Fetch Telegram's updates exactly while this replica leads ``telegram-updates`` (one getUpdates consumer
        per token) and the bot is up."""
        async with self._polling:
            application = self.application
            if application is None or application.updater is None or not self._bot_started:
                return
            # loaded late: python-telegram-bot costs ~0.2 s to import and is not needed without a token
            from telegram import Update

            updater = application.updater
            wanted = self.leadership is not None and self.leadership.leads(TELEGRAM_UPDATES) and not self._stop.is_set()
            if wanted and not updater.running:
                try:
                    await updater.start_polling(
                        allowed_updates=Update.ALL_TYPES,
                        poll_interval=0.5,
                        timeout=10,
                        error_callback=self.poll_watch.on_polling_error,
                    )
                except Exception as exc:  # e.g. the Bot API unreachable just now: the check below tries again
                    log.warning(
                        "Telegram bot could not start polling (%s); trying again in %.0fs", exc, LEASE_FOLLOW_EVERY
                    )
                    return
                log.info("Telegram bot polling for updates")
            elif not wanted and updater.running:
                await updater.stop()
                log.info("Telegram bot: another replica fetches the updates now; this one stopped polling")

    async def _ready(self, enabled) -> tuple[bool, dict]:
        ok, detail = await self.db.run(readiness, enabled)
        return ok, {**detail, "leader": self.leadership.held() if self.leadership is not None else {}}

    async def _notifiers(self) -> dict:
        labels = labels_of(self.config)
        if not self.settings.telegram_token:
            log.warning(
                "No WATCHER_TELEGRAM_TOKEN is set: alerts go to the console (standard output), "
                "and the Telegram bot is off."
            )
            await self.db.run(console_mode_setup, self.config)
            return {"console": ConsoleNotifier(labels, self.stdout, source_labels_of(self.config))}
        # loaded late: python-telegram-bot costs ~0.2 s to import and is not needed without a token
        from watcher.bot.outage import PollWatch, build_application
        from watcher.notifiers.telegram import TelegramNotifier

        await self.db.deactivate("console", CONSOLE_ADDRESS)
        self.poll_watch = PollWatch()
        application = self.application = build_application(
            self.settings.telegram_token, self.settings.telegram_api_url, self.poll_watch
        )
        log.info("Telegram bot on; Bot API at %s", self.settings.telegram_api_url)
        return {"telegram": TelegramNotifier(application.bot, labels, source_labels_of(self.config))}

    def _scheduler(self, loop) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(event_loop=loop, timezone=UTC)
        enabled = [s for s in self.config.sources if s.enabled]
        now = datetime.now(UTC)
        for src, offset in zip(enabled, schedule_offsets(len(enabled))):
            scheduler.add_job(
                self.poll_source,
                IntervalTrigger(seconds=src.every, jitter=min(src.every * 0.1, 60.0)),
                args=[src],
                id=src.name,
                name=f"poll {src.name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(60, int(src.every)),
                next_run_time=now + timedelta(seconds=offset),
            )
        scheduler.add_job(
            self.log_cycle, IntervalTrigger(seconds=SUMMARY_EVERY), id="cycle-summary", max_instances=1, coalesce=True
        )
        if self.settings.telegram_token:  # a leader whose start of polling failed tries again (changes act at once)
            scheduler.add_job(
                self._follow_lease,
                IntervalTrigger(seconds=LEASE_FOLLOW_EVERY),
                id="follow-telegram-lease",
                max_instances=1,
                coalesce=True,
            )
        if self.backlog is not None:
            scheduler.add_job(
                self.check_backlog,
                IntervalTrigger(seconds=backpressure.CHECK_EVERY),
                id="outbox-backlog",
                max_instances=1,
                coalesce=True,
            )
        skipped = [s.name for s in self.config.sources if not s.enabled]
        log.info("scheduled %d sources%s", len(enabled), f"; disabled: {', '.join(skipped)}" if skipped else "")
        return scheduler

    async def check_backlog(self) -> None:
        """The outbox age check, by the replica that leads ``outbox-backlog`` only (one "late" message, not one per
        replica)."""
        if self.backlog is not None and self.leadership is not None and self.leadership.leads(OUTBOX_BACKLOG):
            await self.backlog.run_check()

    async def poll_source(self, source) -> pipeline.PollResult | None:
        if await self._paused(source):
            log.info(
                "source %s: paused by an operator; poll skipped (/resume %s to poll it again)", source.name, source.name
            )
            return None
        shared = self._polls_shared()
        if shared and not await self._claim(source):
            return None
        renewing = asyncio.create_task(self._renew_claim(source), name=f"claim {source.name}") if shared else None
        try:
            result = await pipeline.poll(
                source,
                self.http,
                self.db,
                self.matcher,
                metrics=self.metrics,
                health=self.rules,
                keep=self.kept,
                personal=self.personal,
            )
        except Exception:
            log.exception("source %s: poll crashed", source.name)
            raise
        finally:
            if renewing is not None:
                renewing.cancel()
                await self._release_claim(source)
        if self.metrics is not None:
            self.metrics.observe_poll(result)
        self.cycle.add(result)
        if result.alerts and self.delivery:
            self.delivery.wake()
        if result.alerts and self.signal is not None:
            await self.signal.queued()  # the other replicas' senders too
        if self.admin:
            self.admin.wake()
        await self._space_out(source, result)
        return result

    def _polls_shared(self) -> bool:
        """Whether other replicas may poll the same sources, so each poll is claimed first (PostgreSQL). On SQLite
        one service runs per data directory (its lock), and a claim would be a write that waits behind any other
        process's write lock (a ``watcher once``, a backup) where the fetch itself needs no database at all."""
        return self.store is not None and self.store.backend == dbmod.POSTGRES

    async def _claim(self, source) -> bool:
        """Claim the source's poll (see ``store.claims``): False when another replica polls it now or it was polled
        less than its interval ago; this replica then tries again when it is due. A database that cannot answer
        skips the poll (it could not be recorded either)."""
        try:
            answer = await self.db.run(claims.claim, source.name, source.every, self.claim_owner)
        except StoreErrors as exc:
            log.warning("source %s: could not claim its poll (%s); trying again at its next turn", source.name, exc)
            return False
        if answer.ok:
            return True
        who = "another replica polls it now" if answer.holder else "polled less than its interval ago"
        log.debug("source %s: poll skipped (%s); due again in %.1fs", source.name, who, answer.wait)
        if self.metrics is not None:
            self.metrics.polls_skipped.labels(source.name).inc()
        self._reschedule(source, answer.wait)
        return False

    def _reschedule(self, source, delay: float) -> None:
        """Move the source's next poll to ``delay`` seconds from now, when that comes before its own next turn."""
        if self.scheduler is None:
            return
        job = self.scheduler.get_job(source.name)
        when = datetime.now(UTC) + timedelta(seconds=delay + 0.05)
        if job is not None and job.next_run_time is not None and when < job.next_run_time:
            job.modify(next_run_time=when)

    async def _renew_claim(self, source) -> None:
        """Extend the claim while a long poll runs, so no other replica takes the source over meanwhile."""
        while True:
            await asyncio.sleep(claims.RENEW_SECONDS)
            try:
                if not await self.db.run(claims.renew, source.name, self.claim_owner):
                    log.warning(
                        "source %s: its claim expired during a long poll; another replica may poll it", source.name
                    )
                    return
            except StoreErrors as exc:
                log.warning("source %s: could not extend the claim on its poll (%s)", source.name, exc)

    async def _release_claim(self, source) -> None:
        try:
            await self.db.run(claims.release, source.name, self.claim_owner)
        except StoreErrors as exc:  # the claim then ends at its expiry
            log.warning("source %s: could not give up the claim on its poll (%s)", source.name, exc)

    async def _paused(self, source) -> bool:
        """Whether an operator paused the source; a database that cannot say lets the poll go ahead."""
        try:
            return await self.db.run(subscribers.is_paused, source.name)
        except StoreErrors as exc:
            log.warning("source %s: could not read whether it is paused (%s); polling it", source.name, exc)
            return False

    async def _space_out(self, source, result) -> None:
        """Push a failing source's next poll back (backoff, Retry-After); a healthy one keeps its interval."""
        try:
            delay = await self.db.run(poll_delay, source, result, self.rules)
        except StoreErrors as exc:
            log.warning("source %s: could not read its failures (%s); its interval stays", source.name, exc)
            return
        if delay <= source.every or self.scheduler is None:
            return
        when = datetime.now(UTC) + timedelta(seconds=delay)
        try:
            self.scheduler.modify_job(source.name, next_run_time=when)
        except LookupError:
            log.debug("source %s: not scheduled (polled by hand)", source.name)
            return
        log.info("source %s: next poll in %.0fs (failing; backing off)", source.name, delay)

    async def _start_web(self) -> None:
        enabled = [s for s in self.config.sources if s.enabled]
        archive = ArchiveSite(
            reader=Reader(self.settings.store_target),
            topics=dict(labels_of(self.config)),  # the archive is in English
            sources=tuple(self.config.sources),
            rules=self.rules,
            kept=self.kept,
        )
        self.web = WebServer(
            self.settings.http_host,
            self.settings.http_port,
            ready=lambda: self._ready(enabled),
            metrics=lambda: self.db.run(render_metrics, self.metrics),
            archive=archive,
            token=self.settings.web_token,
        )
        try:
            await self.web.start()
        except OSError as exc:
            await asyncio.to_thread(archive.reader.close)
            log.error(
                "health/metrics endpoint could not listen on %s:%d (%s); polling and alerts go on without it",
                self.settings.http_host,
                self.settings.http_port,
                exc,
            )
            self.web = None

    def log_cycle(self) -> None:
        line = self.cycle.take()
        if line:
            log.info("cycle summary: %s", line)

    async def _run_bot(self) -> None:
        """Start the Telegram bot, retrying with backoff while the Bot API cannot be reached."""
        # loaded late: python-telegram-bot costs ~0.2 s to import and is not needed without a token
        from telegram.error import InvalidToken, NetworkError

        from watcher.bot import handlers as bot

        application = self.application
        if application is None or self.store is None:
            return
        bot.register(
            application,
            bot.BotDeps(
                self.store,
                {t.id: t for t in self.config.topics},
                self.settings.admin_chat_ids,
                tuple(self.config.sources),
                self.config.health_rules,
            ),
        )
        tries = 0
        while not self._stop.is_set():
            try:
                await application.initialize()
                await bot.set_commands(application.bot, self.settings.admin_chat_ids)
                break
            except InvalidToken:
                log.error("Telegram refused the token (WATCHER_TELEGRAM_TOKEN); the bot stays off")
                return
            except NetworkError as exc:
                delay = doubling(tries, 2.0, BOT_RETRY_MAX)
                tries += 1
                log.warning("Telegram not reachable (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
        await application.start()
        self._bot_started = True
        await self._follow_lease()  # polls now if this replica leads telegram-updates, else once it does

    async def _shutdown(self) -> None:
        if self.delivery:
            self.delivery.stop()
        if self.admin:
            self.admin.stop()
        workers = [t for t in self._tasks if t.get_name() in ("delivery", "operator-messages") and not t.done()]
        if workers:  # let the sends in flight finish and be recorded while the bot's connection is still open
            await asyncio.wait(workers, timeout=30)
        if self.application is not None and self.application.running:
            try:
                async with self._polling:
                    if self.application.updater is not None and self.application.updater.running:
                        await self.application.updater.stop()
                await self.application.stop()
                await self.application.shutdown()
            except Exception:
                log.exception("Telegram bot did not stop cleanly")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.leadership is not None:
            await self.leadership.aclose()  # the session ends: another replica takes the leases at its next try
        if self.signal is not None:
            await self.signal.aclose()
        if self.pace_book is not None:
            await self.pace_book.aclose()
        await close_notifiers(self.notifiers)
        if self.web:
            await self.web.stop()
        if self.http:
            await self.http.aclose()
        if self.store:
            await self.db.close()
