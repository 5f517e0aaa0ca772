"""Daily digests: subscribers in digest mode get, once a day at the hour they chose in their time zone, one message
(or a few, split between alerts under Telegram's limit) listing the alerts queued since their last digest.

Time comes from the store's clock, so tests move it by hand. Each message's alerts are marked delivered as soon as
that message is accepted; if a digest is cut short (a crash, flood control, a network error), the rest goes out at
the next check, a few seconds later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Container, Mapping
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from functools import cache, partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from watcher.clock import from_iso
from watcher.delivery.unrecorded import Unrecorded
from watcher.errors import BadMarkup, NotifyError, RecipientGone, RecipientMoved, RetryLater
from watcher.notifiers import Notifier, TextNotifier
from watcher.notifiers.format import digest_messages
from watcher.store import chat_prefs, leases, subscribers
from watcher.store.aio import as_async

log = logging.getLogger(__name__)

MAX_ROUNDS = 20  # 20 × 500 alerts in one digest at most; the rest comes the next day


MAX_ZONE_TEXT = 64  # longer than any tz database name or offset; a longer text is refused before it is read
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$")
MAX_OFFSET = timedelta(hours=14)  # the widest offset in use (Kiribati, UTC+14; the lowest is UTC-12)


@cache
def _zone_names() -> dict[str, str]:
    """Every IANA zone name by its lower-case spelling (read once: the tz database does not change while we run)."""
    return {name.lower(): name for name in available_timezones()}


def offset_name(offset: timedelta) -> str:
    """The stored name of a fixed offset: ``UTC+02:00``, ``UTC-05:00``, ``UTC+05:30``."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _offset(text: str) -> timedelta | None:
    found = _OFFSET.match(text.strip().lower())
    if not found:
        return None
    sign, hours, minutes = found.group(1), int(found.group(2)), int(found.group(3) or 0)
    if minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
    return offset if -timedelta(hours=12) <= offset <= MAX_OFFSET else None


def resolve_zone(text: str) -> tuple[str, tzinfo] | None:
    """What a user wrote as a time zone, as (the name to store, the zone), or None when it is neither a tz database
    name (in any case: ``europe/brussels``) nor a UTC offset (``+2``, ``-5``, ``+5:30``, ``UTC+2``, ``GMT-3``).

    An offset becomes a fixed zone named ``UTC+02:00``: it does not follow daylight saving."""
    text = text.strip()
    if not text or len(text) > MAX_ZONE_TEXT:
        return None
    offset = _offset(text)
    if offset is not None:
        return offset_name(offset), timezone(offset)
    name = _zone_names().get(text.lower())
    if name is None or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def is_fixed(name: str) -> bool:
    """Whether a stored zone name is a fixed UTC offset (which keeps no daylight saving)."""
    return _offset(name) is not None and name.upper().startswith("UTC")


def zone(name: str) -> tzinfo | None:
    """The time zone of a stored name (an IANA name such as ``Europe/Brussels``, any case, or a fixed offset such
    as ``UTC+02:00``), or None if unknown."""
    found = resolve_zone(name or "")
    return found[1] if found else None


def next_digest_after(last: datetime, hour: int, tz: tzinfo) -> datetime:
    """The first moment after ``last`` at which the clock in ``tz`` reads ``hour``:00 (as UTC)."""
    local = last.astimezone(tz)
    for days in (0, 1, 2):
        day = local.date() + timedelta(days=days)
        candidate = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
        if candidate > last:
            return candidate
    raise AssertionError("unreachable: a day always has the hour")


def is_due(sub: Mapping, now: datetime) -> bool:
    if sub.get("muted_until"):  # a muted chat gets what was held once the mute is over, in one digest
        return now >= from_iso(sub["muted_until"])  # type: ignore[operator]
    tz = zone(sub.get("digest_tz") or "")
    last = from_iso(sub.get("last_digest_at")) or from_iso(sub.get("updated_at"))
    if tz is None or sub.get("digest_hour") is None or last is None:
        return False
    return now >= next_digest_after(last, int(sub["digest_hour"]), tz)


class DigestSender:
    def __init__(self, store, notifiers: Mapping[str, Notifier], pacer, count: Callable[[str, str], None]):
        self.store = store
        self.db = as_async(store)
        self.notifiers = notifiers
        self.pacer = pacer
        self.count = count
        self.unrecorded = Unrecorded("digest")  # the delivery worker hands in its own, so both skip the same rows
        self.inflight: Container[int] = ()  # alerts this process is sending alone (never claimed away from them)
        self.claimed: set[int] = set()  # alerts claimed here and not handed over yet

    async def release_claimed(self) -> None:
        """Give up the leases on alerts claimed and not handed over (a digest cut short), so they wait for the next
        try here, or another process, without holding anybody up."""
        rest = [i for i in self.claimed if i not in self.inflight and i not in self.unrecorded]
        self.claimed.clear()
        if rest:
            await self.db.run(leases.release, "outbox", rest)

    async def claim_pending(self, sub_id: int, limit: int = 500) -> list:
        """The subscriber's undelivered alerts this process may send now: claimed (see ``leases``), and neither
        being sent alone nor sent already and waiting to be recorded."""
        alerts = await self.db.run(subscribers.claim_pending_for, sub_id, limit)
        mine = [a for a in alerts if a.id not in self.inflight and a.id not in self.unrecorded]
        self.claimed.update(a.id for a in mine)
        return mine

    async def handed(self, ids: list[int]) -> None:
        """Record alerts as delivered once their message was accepted."""
        await self.unrecorded.record_async(ids, partial(self.db.run, subscribers.mark_many_delivered, ids))
        self.claimed.difference_update(ids)

    def channels(self) -> list[str]:
        return [name for name, n in self.notifiers.items() if isinstance(n, TextNotifier)]

    async def run_due(self) -> int:
        """Send every digest whose hour has come; returns how many were completed."""
        now = self.store.clock()
        done = 0
        subs = {s["id"]: s for s in await self.db.run(subscribers.digest_subscribers, self.channels())}
        subs.update((s["id"], s) for s in await self.db.run(chat_prefs.muted_subscribers, self.channels()))
        try:
            for sub in subs.values():
                if is_due(sub, now) and await self.send_digest(sub, now):
                    done += 1
                    if sub.get("muted_until"):
                        await self.db.run(chat_prefs.unmute, sub["id"])
        finally:
            await self.release_claimed()
        return done

    async def send_digest(self, sub: Mapping, now: datetime) -> bool:
        notifier = self.notifiers[sub["channel"]]
        for _ in range(MAX_ROUNDS):
            alerts = await self.claim_pending(sub["id"])
            if not alerts:
                break
            for html_text, plain_text, ids in digest_messages(
                alerts, notifier.labels, sources=getattr(notifier, "source_labels", None)
            ):
                if not await self._send_part(notifier, sub, html_text, plain_text, ids):
                    return False
                await self.handed(ids)
        await self.unrecorded.record_async(
            [("digest", sub["id"])], lambda: self.db.run(subscribers.mark_digest_sent, sub["id"], now)
        )
        log.info("digest: %s %s served", sub["channel"], sub["address"])
        return True

    async def _send_part(self, notifier, sub: Mapping, html_text: str, plain_text: str, ids: list[int]) -> bool:
        """Send one digest message; True when it was accepted (or refused for good and its alerts dropped)."""
        address, channel = sub["address"], sub["channel"]
        group = notifier.is_group(address)
        key, paced = f"{channel}:{address}", notifier.chat_paced
        quiet = {"quiet": True} if sub.get("quiet") else {}  # only chats of a channel that offers it set it
        while (wait := self.pacer.chat_wait(key, group, paced)) > 0:
            await self.pacer.sleep(wait)
        await self.pacer.acquire(key, group, paced)
        self.pacer.begin(key)
        sent = False
        try:
            try:
                await notifier.send_text(address, html_text, plain_text, **quiet)
            except BadMarkup as exc:
                log.warning("digest: %s %s refused the formatting (%s); resending as plain text", channel, address, exc)
                await notifier.send_text(address, html_text, plain_text, plain=True, **quiet)
            sent = True
            self.count(channel, "digest")
            return True
        except RetryLater as exc:
            if exc.flood:
                self.pacer.pause(exc.delay)
            log.warning("digest: %s %s postponed: %s", channel, address, exc)
        except RecipientMoved as exc:
            log.warning("digest: %s %s moved to %s; address updated", channel, address, exc.new_address)
            await self.db.run(subscribers.migrate_address, channel, address, exc.new_address)
        except RecipientGone as exc:
            log.warning("digest: %s %s is gone (%s); subscriber deactivated", channel, address, exc)
            await self.db.deactivate(channel, address)
        except NotifyError as exc:
            log.error("digest: %s %s refused a digest message for good: %s", channel, address, exc)
            for alert_id in ids:
                await self.db.mark_dropped(alert_id, str(exc))
            return True
        except Exception:
            log.exception("digest: sending to %s %s failed unexpectedly; trying again later", channel, address)
        finally:
            self.pacer.end(key, group, sent=sent, paced=paced)
        return False
