"""The fake Bot API speaks Telegram's wire format to the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import socket
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakes.botapi import FakeBotAPI
from tests.fakes.telegram_html import HtmlError, html_to_text

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Yes", callback_data="yes"), InlineKeyboardButton("No", callback_data="no")]]
)


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


@contextlib.asynccontextmanager
async def polling(fake: FakeBotAPI, *handlers: Any) -> AsyncIterator[Application]:
    """Run a real Application that long-polls the fake with a short timeout."""
    app = Application.builder().token(fake.token).base_url(fake.base_url).build()
    for handler in handlers:
        app.add_handler(handler)
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def post(fake: FakeBotAPI, method: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{fake.base_url}{fake.token}/{method}", timeout=10, **kwargs)


# ---------------------------------------------------------------- basics


async def test_get_me_returns_the_configured_bot(bot: Bot, fake: FakeBotAPI) -> None:
    """getMe answers a bot user that PTB accepts during initialize()."""
    me = await bot.get_me()
    assert me.is_bot and me.username == fake.bot_username and bot.username == fake.bot_username


async def test_send_message_is_recorded_and_answered(bot: Bot, fake: FakeBotAPI) -> None:
    """sendMessage returns a real Message and records decoded parameters."""
    sent = await bot.send_message(
        42,
        "<b>Alert</b> &amp; more",
        parse_mode="HTML",
        reply_markup=KEYBOARD,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert sent.text == "Alert & more" and sent.chat.id == 42 and sent.from_user.id == bot.id
    [record] = fake.sent_messages(chat_id=42)
    assert record["text"] == "<b>Alert</b> &amp; more" and record["parse_mode"] == "HTML"
    assert record["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "no"
    assert record["link_preview_options"] == {"is_disabled": True}
    assert record["message_id"] == sent.message_id
    assert fake.sent_messages(chat_id=7) == []


async def test_message_ids_increase_per_chat(bot: Bot) -> None:
    """Each chat numbers its messages upward."""
    first = await bot.send_message(1, "a")
    second = await bot.send_message(1, "b")
    assert second.message_id == first.message_id + 1


def test_unknown_method_answers_404_like_telegram(fake: FakeBotAPI) -> None:
    """An unknown method gets Telegram's exact 404 body."""
    response = post(fake, "sendTelepathy", data={"chat_id": "1"})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_json_multipart_and_query_requests_are_decoded(fake: FakeBotAPI) -> None:
    """JSON, multipart and GET query parameters are all understood."""
    assert post(fake, "sendMessage", json={"chat_id": 5, "text": "json"}).json()["ok"]
    assert post(
        fake, "sendMessage", data={"chat_id": "5", "text": "multi"}, files={"document": ("a.txt", b"abc", "text/plain")}
    ).json()["ok"]
    got = httpx.get(f"{fake.base_url}{fake.token}/sendMessage", params={"chat_id": 5, "text": "q"})
    assert got.json()["result"]["text"] == "q"
    assert [m["text"] for m in fake.sent_messages(5)] == ["json", "multi", "q"]
    upload = fake.calls("sendMessage")[1].params["document"]
    assert upload == {"filename": "a.txt", "size": 3, "content_type": "text/plain"}


async def test_wrong_token_raises_invalid_token(fake: FakeBotAPI) -> None:
    """A token other than the configured one is refused with 401."""
    with pytest.raises(InvalidToken):
        async with Bot("999999:WRONG-TOKEN", base_url=fake.base_url):
            pass
    assert post(fake, "getMe").status_code == 200
    assert httpx.post(f"{fake.base_url}999:NOPE/getMe").json()["error_code"] == 401


# -------------------------------------------------------- updates and polling


def test_get_updates_blocks_until_an_update_is_queued(fake: FakeBotAPI) -> None:
    """A long poll waits for a queued update and returns as soon as it arrives."""
    timer = threading.Timer(0.3, fake.send_user_message, args=(42, "hello"))
    timer.start()
    started = time.monotonic()
    result = post(fake, "getUpdates", data={"timeout": "5"}).json()["result"]
    elapsed = time.monotonic() - started
    timer.join()
    assert 0.2 < elapsed < 3
    assert [u["message"]["text"] for u in result] == ["hello"]


def test_get_updates_times_out_empty(fake: FakeBotAPI) -> None:
    """With nothing queued, getUpdates answers an empty list after the timeout."""
    started = time.monotonic()
    assert post(fake, "getUpdates", data={"timeout": "0.4"}).json() == {"ok": True, "result": []}
    assert time.monotonic() - started >= 0.35


def test_two_live_long_polls_are_two_consumers(fake: FakeBotAPI) -> None:
    """A getUpdates that starts while another client's long poll waits is a second consumer at once (and the older
    poll ends with Telegram's 409 Conflict)."""
    answers: list[int] = []
    first = threading.Thread(target=lambda: answers.append(post(fake, "getUpdates", data={"timeout": "3"}).status_code))
    first.start()
    assert fake.wait_until(lambda: len(fake.consumers_log) == 1, 5)
    post(fake, "getUpdates", data={"timeout": "0"})
    first.join()
    assert fake.max_consumers == 2
    assert answers == [409]


def test_a_killed_clients_long_poll_is_no_consumer(fake: FakeBotAPI) -> None:
    """A long poll whose client went away (its connection closed, as at kill -9) no longer counts: the next
    consumer is the only one."""
    body = b"timeout=5"
    raw = socket.create_connection(("127.0.0.1", httpx.URL(fake.url).port or 80))
    raw.sendall(
        f"POST /bot{fake.token}/getUpdates HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    assert fake.wait_until(lambda: len(fake.consumers_log) == 1, 5)
    raw.close()
    time.sleep(0.2)
    post(fake, "getUpdates", data={"timeout": "0"})
    assert fake.max_consumers == 1
    assert [n for _, n in fake.consumers_log] == [1, 1]


def test_offset_limit_and_allowed_updates(fake: FakeBotAPI) -> None:
    """offset confirms earlier updates, limit caps the batch, allowed_updates filters kinds."""
    ids = [fake.send_user_message(42, f"m{i}")["update_id"] for i in range(3)]
    assert len(post(fake, "getUpdates", data={"limit": "2"}).json()["result"]) == 2
    rest = post(fake, "getUpdates", data={"offset": str(ids[1] + 1)}).json()["result"]
    assert [u["update_id"] for u in rest] == [ids[2]]
    assert [u["update_id"] for u in fake.pending_updates()] == [ids[2]]
    fake.send_my_chat_member(-5, "kicked", "member")
    only = post(fake, "getUpdates", data={"offset": str(ids[2] + 1), "allowed_updates": json.dumps(["my_chat_member"])})
    assert [list(u)[1] for u in only.json()["result"]] == ["my_chat_member"]


def test_second_poll_ends_the_first_with_conflict(fake: FakeBotAPI) -> None:
    """Two pollers at once: the older one gets 409 Conflict like Telegram."""
    answers: list[httpx.Response] = []
    first = threading.Thread(target=lambda: answers.append(post(fake, "getUpdates", data={"timeout": "5"})))
    first.start()
    time.sleep(0.3)
    assert post(fake, "getUpdates", data={"timeout": "0"}).status_code == 200
    first.join(timeout=5)
    assert answers[0].status_code == 409 and "terminated by other getUpdates" in answers[0].text


def test_user_message_has_telegram_shape(fake: FakeBotAPI) -> None:
    """Queued messages carry chat, from, date and a bot_command entity with @botname."""
    update = fake.send_user_message(-100777, "/status@watcher_test_bot now", user_id=9, first_name="Ana")
    message = update["message"]
    assert message["chat"]["type"] == "supergroup" and message["chat"]["title"]
    assert message["from"] == {"id": 9, "is_bot": False, "first_name": "Ana"}
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 24}]
    private = fake.send_user_message(9, "hi")["message"]
    assert private["chat"]["type"] == "private" and "entities" not in private
    assert private["chat"]["first_name"] == "Ana"


async def test_start_command_reaches_a_command_handler(fake: FakeBotAPI) -> None:
    """A queued /start travels by long polling to a CommandHandler, whose reply is recorded."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"hello {update.effective_user.first_name}")

    async with polling(fake, CommandHandler("start", start)):
        fake.send_user_message(42, "/start", first_name="Ana")
        [reply] = await asyncio.to_thread(fake.wait_for_messages, 1, 42, 5)
    assert reply["text"] == "hello Ana"
    assert fake.pending_updates() == []
    assert any(c.params.get("timeout") == 1 for c in fake.calls("getUpdates"))


async def test_button_press_reaches_a_callback_query_handler(fake: FakeBotAPI) -> None:
    """press_button delivers a callback_query whose answer and edit are recorded."""

    async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("noted")
        await query.edit_message_text(f"chose {query.data}")

    async with polling(fake, CallbackQueryHandler(chosen)) as app:
        sent = await app.bot.send_message(42, "Pick", reply_markup=KEYBOARD)
        query_id = fake.press_button(42, sent.message_id, "yes")
        await asyncio.to_thread(fake.wait_for_calls, "editMessageText", 1, 5)
    [answer] = fake.calls("answerCallbackQuery")
    assert answer.params["callback_query_id"] == query_id and answer.params["text"] == "noted"
    assert fake.message(42, sent.message_id)["text"] == "chose yes"
    with pytest.raises(ValueError):
        fake.press_button(42, sent.message_id, "maybe")


# --------------------------------------------------------- fault injection


async def test_429_raises_retry_after_with_its_delay(bot: Bot, fake: FakeBotAPI) -> None:
    """A 429 with parameters.retry_after becomes RetryAfter carrying that delay."""
    fake.fail_next("sendMessage", 429, parameters={"retry_after": 3})
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(42, "x")
    assert seconds(caught.value) == 3
    assert (await bot.send_message(42, "again")).text == "again"
    assert fake.count_429 == 1


async def test_blocked_chat_raises_forbidden(bot: Bot, fake: FakeBotAPI) -> None:
    """A blocked chat answers every send with 403, which PTB raises as Forbidden."""
    fake.block_chat(42)
    for _ in range(2):
        with pytest.raises(Forbidden, match="blocked by the user"):
            await bot.send_message(42, "x")
    assert fake.sent_messages() == []
    await bot.send_message(43, "other chats still work")


async def test_migrated_chat_raises_chat_migrated(bot: Bot, fake: FakeBotAPI) -> None:
    """A migrated group answers with migrate_to_chat_id, raised as ChatMigrated."""
    fake.migrate_chat(-123, -100123)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-123, "x")
    assert caught.value.new_chat_id == -100123
    assert (await bot.send_message(-100123, "x")).chat.type == "supergroup"


async def test_fail_next_honours_count_and_chat(bot: Bot, fake: FakeBotAPI) -> None:
    """fail_next only hits matching chats and only as many times as asked."""
    fake.fail_next("sendMessage", 500, count=2, chat_id=1)
    await bot.send_message(2, "unaffected")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(1, "x")
    await bot.send_message(1, "recovered")
    assert [c.status for c in fake.calls("sendMessage")] == [200, 500, 500, 200]


async def test_raw_body_fault_is_a_network_error(bot: Bot, fake: FakeBotAPI) -> None:
    """A proxy page instead of JSON makes PTB raise NetworkError."""
    fake.fail_next("sendMessage", 502, raw_body=b"<html>502 Bad Gateway</html>")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(1, "x")


async def test_delay_next_holds_the_answer(bot: Bot, fake: FakeBotAPI) -> None:
    """delay_next makes the next call wait before it is answered normally."""
    fake.delay_next("sendMessage", 0.4)
    started = time.monotonic()
    await bot.send_message(1, "slow")
    assert time.monotonic() - started >= 0.35
    started = time.monotonic()
    await bot.send_message(1, "fast")
    assert time.monotonic() - started < 0.3


# ----------------------------------------------------------- text checks


@pytest.mark.parametrize(
    "text",
    [
        "<b>x</b>",
        "a &lt;b&gt; &amp; &quot;c&quot; &#39;",
        '<a href="https://e.eu/?a=1&amp;b=2">l</a>',
        '<span class="tg-spoiler">s</span>',
        "<pre><code>1 > 0</code></pre>",
        "<blockquote><i>q</i></blockquote>",
    ],
)
def test_valid_html_is_accepted(text: str) -> None:
    """Telegram's supported HTML passes the check."""
    html_to_text(text)


@pytest.mark.parametrize(
    "text", ["a & b", "1 < 2", "<script>x</script>", "<b>x", "<b><i>x</b></i>", "x</b>", "<span>x</span>", "&nbsp;"]
)
def test_invalid_html_is_refused(text: str) -> None:
    """Unescaped & or <, unknown tags and unbalanced tags are refused."""
    with pytest.raises(HtmlError):
        html_to_text(text)


async def test_bad_html_raises_bad_request(bot: Bot) -> None:
    """Unescaped text in HTML mode is answered 400 can't parse entities."""
    with pytest.raises(BadRequest, match="an't parse entities"):
        await bot.send_message(1, "Smuggling <networks> & routes", parse_mode="HTML")
    assert (await bot.send_message(1, "Smuggling <networks> & routes")).text.startswith("Smug")


async def test_message_length_limit_counts_visible_text(bot: Bot) -> None:
    """4096 visible characters pass, 4097 fail; HTML tags do not count."""
    await bot.send_message(1, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(1, "a" * 4097)
    with pytest.raises(BadRequest, match="empty"):
        await bot.send_message(1, "<b> </b>", parse_mode="HTML")


async def test_edit_of_unchanged_text_is_refused(bot: Bot) -> None:
    """Editing to the same text and markup answers 'message is not modified'."""
    sent = await bot.send_message(1, "same", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("same", 1, sent.message_id, reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("same", 1, sent.message_id)
    assert edited.reply_markup is None


# ----------------------------------------------------------- rate limits


async def test_limits_answer_429_per_chat() -> None:
    """Two messages to one chat within a second: the second gets RetryAfter."""
    now = [1000.0]
    with FakeBotAPI(clock=lambda: now[0]) as limited:
        limited.enforce_limits()
        async with Bot(limited.token, base_url=limited.base_url) as client:
            await client.send_message(1, "first")
            with pytest.raises(RetryAfter) as caught:
                await client.send_message(1, "second")
            assert seconds(caught.value) == 1
            now[0] += 1.01
            await client.send_message(1, "later")
        assert limited.count_429 == 1


def test_limits_cap_groups_per_minute() -> None:
    """A group gets 20 messages a minute, then a 429 whose retry_after reaches the window end."""
    now = [0.0]
    api = FakeBotAPI(clock=lambda: now[0])
    api.enforce_limits()
    body = b"chat_id=-5&text=x"
    path = f"/bot{api.token}/sendMessage"
    for _ in range(20):
        assert api.handle_request(path, "application/x-www-form-urlencoded", body)[0] == 200
        now[0] += 1.5
    status, payload = api.handle_request(path, "application/x-www-form-urlencoded", body)
    assert status == 429 and json.loads(payload)["parameters"]["retry_after"] == 30


def test_limits_hold_over_ten_thousand_messages() -> None:
    """10,000 sends at 100/s to distinct chats: at most 30 accepted in any second, quickly."""
    now = [0.0]
    api = FakeBotAPI(clock=lambda: now[0])
    api.enforce_limits()
    path = f"/bot{api.token}/sendMessage"
    accepted: list[float] = []
    started = time.monotonic()
    for i in range(10_000):
        now[0] = i / 100
        status, _ = api.handle_request(path, "application/x-www-form-urlencoded", f"chat_id={i + 1}&text=x".encode())
        if status == 200:
            accepted.append(now[0])
    assert time.monotonic() - started < 10
    assert 2900 <= len(accepted) <= 3100
    assert api.count_429 == 10_000 - len(accepted)
    assert all(accepted[j + 30] - accepted[j] >= 1 - 1e-9 for j in range(len(accepted) - 30))


# ------------------------------------------------------- chats and commands


async def test_chat_members_and_administrators(bot: Bot, fake: FakeBotAPI) -> None:
    """Configured admins come back as PTB owner/administrator objects; others are members."""
    fake.set_admins(-5, [7], creator=8)
    assert isinstance(await bot.get_chat_member(-5, 8), ChatMemberOwner)
    assert isinstance(await bot.get_chat_member(-5, 7), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(-5, 99), ChatMemberMember)


async def test_commands_round_trip(bot: Bot, fake: FakeBotAPI) -> None:
    """setMyCommands stores valid commands and refuses bad names."""
    await bot.set_my_commands([BotCommand("subscribe", "Follow a topic")])
    assert [c["command"] for c in fake.commands()] == ["subscribe"]
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert [c["command"] for c in fake.commands()] == ["subscribe"]


async def test_delete_webhook_can_drop_pending_updates(bot: Bot, fake: FakeBotAPI) -> None:
    """deleteWebhook answers true and, with drop_pending_updates, forgets the updates queued so far."""
    fake.send_user_message(42, "before the bot started")
    assert await bot.delete_webhook() and len(fake.pending_updates()) == 1
    assert await bot.delete_webhook(drop_pending_updates=True) and fake.pending_updates() == []


def test_wait_for_messages_fails_when_nothing_is_sent(fake: FakeBotAPI) -> None:
    """wait_for_messages raises AssertionError instead of hanging."""
    with pytest.raises(AssertionError, match="0 of 1"):
        fake.wait_for_messages(1, timeout=0.2)


async def test_stop_closes_open_connections_and_threads() -> None:
    """stop() returns promptly and leaves no server thread, even with keep-alive clients."""
    before = threading.active_count()
    api = FakeBotAPI().start()
    client = Bot(api.token, base_url=api.base_url)
    await client.initialize()
    await client.send_message(1, "x")
    started = time.monotonic()
    api.stop()
    assert time.monotonic() - started < 3
    assert threading.active_count() == before, threading.enumerate()
    await client.shutdown()
