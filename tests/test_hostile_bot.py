"""Hostile input to the bot: no message, command argument, deep link or button can hold the event loop. Each
adversarial update is followed by a /help from the same chat; the answer to that /help can only come once the
adversarial update was handled, so the time to it bounds the work that update caused."""

from __future__ import annotations

import random
import time

import pytest

from tests.fakes.telegram import ADMIN_CHAT, wait_sent
from watcher.bot import handlers as watcher_bot
from watcher.bot.handlers import MAX_PAYLOAD, parse_start_payload

USER = 4242
BOUND = 5.0  # seconds per message, far above a normal answer (a few ms), even on a loaded machine, and far below
# the 25 s of the cubic parse


def adversarial_args(rng: random.Random) -> list[str]:
    """Long, random and hand-picked hostile arguments (Telegram allows messages up to 4,096 characters)."""
    noise = "".join(rng.choice("ab-,_ <>&\"'\u202e\u0000é😀\t\n") for _ in range(3000))
    return [
        "-".join("x" for _ in range(2000)),  # the payload that took 25 s of CPU in cubic time
        "-".join(rng.choice(["smuggling", "borders", "all", "zz"]) for _ in range(800)),
        ",".join("borders" for _ in range(500)),
        "a" * 4080,
        "<b>" * 1000 + "&amp;" * 100,
        "99999999999999999999999999 Europe/" + "x" * 3000,
        noise,
        "\u202e\u200f" * 1000,
    ]


async def timed(running, chat_id: int, text: str) -> float:
    """Send ``text`` from the chat, then /help; seconds until the /help answer arrived."""
    api = running.api
    started = time.monotonic()
    api.send_user_message(chat_id, text)
    before = len(api.sent_messages(chat_id))
    api.send_user_message(chat_id, "/help")
    deadline = time.monotonic() + 30
    while True:
        sent = api.sent_messages(chat_id)
        if any("/topics" in m.get("text", "") for m in sent[before:]):
            return time.monotonic() - started
        assert time.monotonic() < deadline, f"no answer to /help after {text[:40]!r}…"
        await wait_sent(api, len(sent) + 1, chat_id, timeout=30)


def test_start_payload_parse_is_linear_and_payloads_are_capped():
    """Parsing 2,000 '-'-separated parts is immediate (it used to try every span, in cubic time)."""
    ids = ["smuggling", "eu-borders", "migration"]
    started = time.process_time()
    found, unknown = parse_start_payload("-".join("x" for _ in range(2000)), ids)
    assert found == [] and len(unknown) == 2000
    assert time.process_time() - started < 0.5
    assert parse_start_payload("eu-borders-smuggling", ids) == (["eu-borders", "smuggling"], [])
    assert MAX_PAYLOAD == 64


async def test_long_deep_link_is_refused_before_anything_else(running, store):
    """A /start payload over Telegram's 64 characters is refused with a reply, and subscribes nobody."""
    answer = await running.say(USER, "/start " + "-".join("x" for _ in range(2000)))
    assert "too long" in answer["plain_text"]
    assert store.subscription("telegram", str(USER)) == (False, [])
    answer = await running.say(USER, "/start " + "smuggling-" * 6 + "borders")
    assert "too long" in answer["plain_text"]
    answer = await running.say(USER, "/start smuggling-borders")
    assert store.subscription("telegram", str(USER)) == (True, ["borders", "smuggling"])


@pytest.mark.timeout(600)
async def test_fuzz_every_command_with_hostile_arguments(running):
    """Every public and operator command, from a subscriber and from an operator's chat, with long, random and
    adversarial arguments: each is handled within the bound and the bot keeps answering."""
    rng = random.Random(18)
    args = adversarial_args(rng)
    worst = 0.0
    names = [name for name in watcher_bot.HANDLERS]
    for chat_id in (USER, ADMIN_CHAT):
        await running.say(chat_id, "/start")
        for name in names:
            for arg in args:
                text = f"/{name} {arg}"[:4096]
                took = await timed(running, chat_id, text)
                worst = max(worst, took)
                assert took < BOUND, f"/{name} with {arg[:30]!r}… took {took:.2f}s"
    assert worst > 0


@pytest.mark.timeout(300)
async def test_fuzz_buttons_and_plain_text(running):
    """Forged callback data (prefixes the handler takes, random bytes, 64-byte limits) and plain text of every
    shape are each handled within the bound."""
    rng = random.Random(1818)
    topics = await running.say(USER, "/topics")
    forged = [
        "t:" + "x" * 62,
        "all:" + "-" * 60,
        "t:smuggling" * 5,
        "all:on",
        "all:",
        "t:",
        "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(64)),
        "t:\u202e<script>",
    ]
    for data in forged:
        started = time.monotonic()
        running.api.press_button(USER, topics["message_id"], data, forged=True)
        before = len(running.api.sent_messages(USER))
        running.api.send_user_message(USER, "/help")
        await wait_sent(running.api, before + 1, USER, timeout=30)
        assert time.monotonic() - started < BOUND, f"button {data!r}"
    for text in adversarial_args(rng):
        assert await timed(running, USER, text[:4096]) < BOUND
