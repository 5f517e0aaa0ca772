"""A fake Telegram Bot API server on 127.0.0.1 for tests.

The real python-telegram-bot talks to it over HTTP: ``POST /bot<token>/<method>``
with form-encoded, multipart or JSON parameters, answered with
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description":
..., "parameters": ...}``. Tests queue what users do (messages, button presses),
inject faults and read back every call the bot made.

    with FakeBotAPI() as api:
        bot = telegram.Bot(api.token, base_url=api.base_url)
        api.send_user_message(42, "/start")
        api.wait_for_messages(1, chat_id=42)

Known differences from Telegram: Markdown is not parsed, message ids are
numbered per chat from 1, and a bare ``&`` in HTML is refused (Telegram keeps
it), which makes missing escaping visible.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
import logging
import re
import select
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.telegram_html import HtmlError, html_to_text, utf16_len
from tests.fakes.telegram_limits import RateLimits

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:TEST-TOKEN"
DEFAULT_USER_ID = 4242
MAX_TEXT = 4096
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
_DEFAULT_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "my_chat_member",
        "inline_query",
    }
)
_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_JSON_KEYS = frozenset(
    {
        "reply_markup",
        "link_preview_options",
        "entities",
        "reply_parameters",
        "commands",
        "scope",
        "allowed_updates",
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
    }
)
_NUMBER_KEYS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
    }
)
_TOKEN_RE = re.compile(r"\d+:[\w-]+")
_PATH_RE = re.compile(r"/bot([^/]*)/(\w*)")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_INT_RE = re.compile(r"\s*-?\d+\s*")
_FLOAT_RE = re.compile(r"\s*-?\d*\.\d+\s*")


# ------------------------------------------------------------- request bodies


def decode_params(content_type: str, body: bytes, query: str = "") -> dict[str, Any]:
    """Decode a Bot API request the way Telegram does; raise ValueError if unreadable."""
    raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("JSON body is not an object")
        raw.update(data)
    elif kind == "multipart/form-data":
        raw.update(_multipart(content_type, body))
    elif body:
        raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    return {key: _decode_value(key, value) for key, value in raw.items()}


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is None:
            fields[str(name)] = data.decode("utf-8")
        else:
            fields[str(name)] = {
                "filename": part.get_filename(),
                "size": len(data),
                "content_type": part.get_content_type(),
            }
    return fields


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _NUMBER_KEYS:
        if _INT_RE.fullmatch(value):
            return int(value)
        return float(value) if _FLOAT_RE.fullmatch(value) else value
    if key in _JSON_KEYS:
        try:
            return json.loads(value)
        except ValueError:
            log.debug("parameter %s is not JSON: %r", key, value)
    return value


# ------------------------------------------------------------------ helpers


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def payload(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            answer["parameters"] = self.parameters
        return answer


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    time: float
    status: int


@dataclass
class _Fault:
    method: str
    chat_id: int | str | None
    count: int
    error: ApiError | None
    raw_body: bytes | None = None
    delay: float = 0.0


def _chat_for(chat_id: int, chat_type: str | None = None, title: str | None = None) -> dict[str, Any]:
    if chat_type is None:
        chat_type = "private" if chat_id > 0 else ("supergroup" if str(chat_id).startswith("-100") else "group")
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = title or f"User {chat_id}"
    else:
        chat["title"] = title or f"Chat {chat_id}"
    return chat


def _member(user: dict[str, Any], status: str) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "kicked":
        member["until_date"] = 0
    elif status == "administrator":
        member.update(
            dict.fromkeys(
                (
                    "can_be_edited",
                    "is_anonymous",
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_promote_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                ),
                False,
            )
        )
        member["can_manage_chat"] = True
    return member


def _command_entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    word = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]


def _inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup if "inline_keyboard" in markup else None


def render_text(params: dict[str, Any]) -> str:
    """The text a chat would show for these sendMessage/editMessageText parameters."""
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    plain = text
    if str(params.get("parse_mode", "")).lower() == "html":
        try:
            plain = html_to_text(text)
        except HtmlError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(plain) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return plain


# ------------------------------------------------------------------- the fake


class FakeBotAPI:
    """A Bot API server in a background thread; all state is guarded by one lock."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "watcher_test_bot",
        bot_name: str = "Watcher Test",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.token = token
        self.bot_username = bot_username
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":")[0]) if token.split(":")[0].isdigit() else 1,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._clock = clock
        self._cond = threading.Condition(threading.RLock())
        self._stop_event = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._calls: list[Call] = []
        self._sent: list[dict[str, Any]] = []
        self._messages: dict[tuple[Any, int], dict[str, Any]] = {}
        self._sources: dict[tuple[Any, int], tuple[str, Any]] = {}
        self._last_id: defaultdict[Any, int] = defaultdict(int)
        self._chats: dict[Any, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._admins: dict[Any, list[dict[str, Any]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1000
        self._allowed: frozenset[str] = _DEFAULT_UPDATES
        self._poll_generation = 0
        self._queries: dict[str, dict[str, Any] | None] = {}
        self._faults: list[_Fault] = []
        self._blocked: dict[Any, str] = {}
        self._migrated: dict[Any, int] = {}
        self._limits: RateLimits | None = None
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.count_429 = 0
        # getUpdates consumers: the connections of the long polls waiting now, the most seen at once (a poll whose
        # client has gone, say killed, no longer counts), and (time, consumers) at each poll's start
        self._long_polls: list[socket.socket] = []
        self.max_consumers = 0
        self.consumers_log: list[tuple[float, int]] = []
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": lambda p: self.bot_user,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setmycommands": self._set_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_text,
            "answercallbackquery": self._answer_query,
            "getchatmember": self._get_member,
        }

    # -- lifecycle

    def start(self) -> FakeBotAPI:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-botapi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake long polls, close every connection and join every thread."""
        if self._server is None:
            return
        with self._cond:
            self._stop_event.set()
            self._cond.notify_all()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as ``base_url``; it appends the token."""
        return f"{self.url}/bot"

    # -- configuration and fault injection

    def add_chat(
        self, chat_id: int, chat_type: str | None = None, title: str | None = None, username: str | None = None
    ) -> dict[str, Any]:
        """Declare a chat (type, title, @username) before the bot meets it."""
        with self._cond:
            chat = _chat_for(chat_id, chat_type, title)
            if username:
                chat["username"] = username
            self._chats[chat_id] = chat
            return chat

    def set_admins(self, chat_id: int, user_ids: list[int], creator: int | None = None) -> None:
        """Make getChatMember report these users as the chat's creator and administrators."""
        with self._cond:
            admins = [_member(self._user(creator), "creator")] if creator is not None else []
            admins += [_member(self._user(uid), "administrator") for uid in user_ids]
            self._admins[chat_id] = admins

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
        raw_body: bytes | None = None,
    ) -> None:
        """Answer the next ``count`` matching calls with this error (or raw body)."""
        if error_code == 429 and not parameters:
            parameters = {"retry_after": 1}
        text = description or _DESCRIPTIONS.get(error_code, "Error").format(
            retry_after=(parameters or {}).get("retry_after")
        )
        with self._cond:
            self._faults.append(
                _Fault(method.lower(), chat_id, count, ApiError(error_code, text, parameters), raw_body)
            )

    def delay_next(self, method: str, seconds: float, count: int = 1, chat_id: int | str | None = None) -> None:
        """Hold the next ``count`` calls of ``method`` (to ``chat_id`` if given) for ``seconds``
        before answering."""
        with self._cond:
            self._faults.append(_Fault(method.lower(), chat_id, count, None, delay=seconds))

    def clear_faults(self) -> None:
        """Forget every queued fault and delay that has not fired yet."""
        with self._cond:
            self._faults.clear()

    def block_chat(self, chat_id: int | str, description: str = BLOCKED) -> None:
        """Every send/edit to this chat answers 403 from now on."""
        with self._cond:
            self._blocked[chat_id] = description

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """Calls to ``old_chat_id`` answer 400 with ``migrate_to_chat_id``."""
        with self._cond:
            self._migrated[old_chat_id] = new_chat_id
            self._chats.setdefault(new_chat_id, _chat_for(new_chat_id, "supergroup"))

    def enforce_limits(
        self, global_per_sec: int | None = 30, per_chat_per_sec: int | None = 1, per_group_per_min: int | None = 20
    ) -> None:
        """Answer sendMessage with 429 and retry_after when Telegram's limits are exceeded."""
        with self._cond:
            self._limits = RateLimits(global_per_sec, per_chat_per_sec, per_group_per_min)

    # -- simulated users

    def send_user_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
        title: str | None = None,
        language_code: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Queue a ``message`` update from a user; returns the update. ``language_code`` is the user's Telegram
        language (kept for the user's later updates)."""
        with self._cond:
            chat = self._chat(chat_id, chat_type, title)
            uid = user_id if user_id is not None else (chat_id if chat["type"] == "private" else DEFAULT_USER_ID)
            user = self._user(uid, first_name, username)
            if language_code:
                user["language_code"] = language_code
            if chat["type"] == "private":
                chat["first_name"] = user["first_name"]
            message = {
                "message_id": self._new_message_id(chat_id),
                "from": user,
                "chat": dict(chat),
                "date": int(time.time()),
                "text": text,
            }
            if entities := _command_entities(text):
                message["entities"] = entities
            message.update(extra)
            return self._queue({"message": message})

    def send_channel_post(self, chat_id: int, text: str, *, title: str | None = None, **extra: Any) -> dict[str, Any]:
        """Queue a ``channel_post`` update: a post in a channel, sent as the channel itself."""
        with self._cond:
            chat = self._chat(chat_id, "channel", title)
            post = {
                "message_id": self._new_message_id(chat_id),
                "sender_chat": dict(chat),
                "chat": dict(chat),
                "date": int(time.time()),
                "text": text,
            }
            if entities := _command_entities(text):
                post["entities"] = entities
            post.update(extra)
            return self._queue({"channel_post": post})

    def press_button(
        self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None, forged: bool = False
    ) -> str:
        """Queue a ``callback_query`` for a button on a bot message; returns the query id. ``forged`` sends data
        that no button carries, as a modified client can."""
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            if message is None:
                raise KeyError(f"the bot sent no message {message_id} to chat {chat_id}")
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if not forged and data not in [b.get("callback_data") for row in rows for b in row]:
                raise ValueError(f"message {message_id} has no button with data {data!r}")
            uid = user_id if user_id is not None else (chat_id if chat_id > 0 else DEFAULT_USER_ID)
            query_id = str(9_000_000 + len(self._queries))
            self._queries[query_id] = None
            self._queue(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": self._user(uid),
                        "message": copy.deepcopy(message),
                        "chat_instance": str(abs(chat_id) * 7919 + 13),
                        "data": data,
                    }
                }
            )
            return query_id

    def send_my_chat_member(
        self,
        chat_id: int,
        new_status: str = "member",
        old_status: str = "left",
        *,
        user_id: int = DEFAULT_USER_ID,
        chat_type: str | None = None,
    ) -> dict[str, Any]:
        """Queue a ``my_chat_member`` update: the bot was added, removed or blocked."""
        with self._cond:
            chat = self._chat(chat_id, chat_type)
            return self._queue(
                {
                    "my_chat_member": {
                        "chat": dict(chat),
                        "from": self._user(user_id),
                        "date": int(time.time()),
                        "old_chat_member": _member(self.bot_user, old_status),
                        "new_chat_member": _member(self.bot_user, new_status),
                    }
                }
            )

    # -- inspection

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received, or those of one method (case-insensitive)."""
        with self._cond:
            return [c for c in self._calls if method is None or c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Accepted sendMessage calls: chat_id, message_id, text, plain_text, parse_mode, ..."""
        with self._cond:
            return [copy.deepcopy(m) for m in self._sent if chat_id is None or m["chat_id"] == chat_id]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The current state of a message the bot sent (after edits)."""
        with self._cond:
            return copy.deepcopy(self._messages.get((chat_id, message_id)))

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by an offset."""
        with self._cond:
            return copy.deepcopy(self._updates)

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """The command list set for a scope."""
        with self._cond:
            return list(self._commands.get(self._scope_key(scope, language_code), []))

    def wait_for_messages(self, n: int, chat_id: int | str | None = None, timeout: float = 10) -> list[dict[str, Any]]:
        """Block until at least ``n`` messages were sent; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._count_sent(chat_id) >= n, timeout):
                raise AssertionError(f"{self._count_sent(chat_id)} of {n} messages sent to {chat_id} within {timeout}s")
            return self.sent_messages(chat_id)

    def _count_sent(self, chat_id: int | str | None) -> int:
        return sum(1 for m in self._sent if chat_id is None or m["chat_id"] == chat_id)

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10) -> bool:
        """Block until ``condition()`` holds, checked after every request; False on timeout."""
        with self._cond:
            return self._cond.wait_for(condition, timeout)

    def wait_for_calls(self, method: str, n: int = 1, timeout: float = 10) -> list[Call]:
        """Block until ``method`` was called ``n`` times; AssertionError on timeout."""
        with self._cond:

            def done() -> bool:
                return sum(1 for c in self._calls if c.method.lower() == method.lower()) >= n

            if not self._cond.wait_for(done, timeout):
                raise AssertionError(f"{method} called {len(self.calls(method))} of {n} times")
            return self.calls(method)

    # -- request handling

    def handle_request(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes]:
        """Answer one HTTP request: (status, JSON body). Usable without a socket."""
        started = time.time()
        split = urlsplit(path)
        match = _PATH_RE.fullmatch(split.path)
        if not match:
            return _answer(ApiError(404, "Not Found").payload(), 404)
        token, method = match.groups()
        if token != self.token:
            code = 401 if _TOKEN_RE.fullmatch(token) else 404
            return _answer(ApiError(code, _DESCRIPTIONS[code]).payload(), code)
        try:
            params = decode_params(content_type, body, split.query)
        except ValueError as exc:
            log.debug("unreadable %s request: %s", method, exc)
            return _answer(ApiError(400, "Bad Request: invalid request body").payload(), 400)
        status, payload = self._dispatch(method, params)
        with self._cond:
            self.count_429 += status == 429
            self._calls.append(Call(method, params, started, status))
            self._cond.notify_all()
        return status, payload

    def _dispatch(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        handler = self._methods.get(method.lower())
        fault = self._take_fault(method, params) if handler else None
        if fault is not None and fault.delay:
            self._stop_event.wait(fault.delay)
        if fault is not None and fault.raw_body is not None and fault.error is not None:
            return fault.error.code, fault.raw_body
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            if fault is not None and fault.error is not None:
                raise fault.error
            with self._cond:
                result = handler(params)
        except ApiError as exc:
            log.debug("%s answered %s: %s", method, exc.code, exc.description)
            return _answer(exc.payload(), exc.code)
        return _answer({"ok": True, "result": result}, 200)

    def _take_fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        with self._cond:
            for fault in self._faults:
                if fault.method == method.lower() and fault.chat_id in (None, params.get("chat_id")):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- state helpers (called with the lock held)

    def _user(self, user_id: int, first_name: str | None = None, username: str | None = None) -> dict[str, Any]:
        user = self._users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"})
        if first_name:
            user["first_name"] = first_name
        if username:
            user["username"] = username
        return user

    def _chat(self, chat_id: int, chat_type: str | None = None, title: str | None = None) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is None or (chat_type and chat["type"] != chat_type):
            chat = self._chats[chat_id] = _chat_for(chat_id, chat_type, title)
        return chat

    def _target(self, params: dict[str, Any], sending: bool) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):
            found = [c for c in self._chats.values() if f"@{c.get('username')}" == chat_id]
            if not found:
                raise ApiError(400, "Bad Request: chat not found")
            chat_id = found[0]["id"]
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self._migrated:
            raise ApiError(400, UPGRADED, {"migrate_to_chat_id": self._migrated[chat_id]})
        if sending and chat_id in self._blocked:
            raise ApiError(403, self._blocked[chat_id])
        return self._chat(chat_id)

    def _new_message_id(self, chat_id: Any) -> int:
        self._last_id[chat_id] += 1
        return self._last_id[chat_id]

    def _queue(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update, **body}
        self._next_update += 1
        self._updates.append(update)
        self._cond.notify_all()
        return copy.deepcopy(update)

    def _bot_message(self, params: dict[str, Any], verb: str) -> tuple[tuple[Any, int], dict[str, Any]]:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        key = (self._target(params, True)["id"], params.get("message_id"))
        if key not in self._messages:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        return key, self._messages[key]

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), str(language_code or "")

    # -- Bot API methods (called with the lock held)

    def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if p.get("allowed_updates") is not None:
            self._allowed = frozenset(p["allowed_updates"]) or _DEFAULT_UPDATES
        self._confirm(int(p.get("offset") or 0))
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + max(float(p.get("timeout") or 0), 0.0)
        connection = getattr(_REQUEST, "connection", None)
        live = sum(1 for other in self._long_polls if _connected(other)) + 1
        self.max_consumers = max(self.max_consumers, live)
        self.consumers_log.append((time.time(), live))
        if connection is not None:
            self._long_polls.append(connection)
        try:
            return self._wait_for_updates(limit, deadline)
        finally:
            if connection is not None:
                self._long_polls.remove(connection)

    def _wait_for_updates(self, limit: int, deadline: float) -> list[dict[str, Any]]:
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()
        while True:
            self._updates = [u for u in self._updates if (set(u) - {"update_id"}) & self._allowed]
            if self._updates or self._stop_event.is_set():
                return copy.deepcopy(self._updates[:limit])
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._cond.wait(remaining)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _delete_webhook(self, p: dict[str, Any]) -> bool:
        if p.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _set_commands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for item in commands:
            if not _COMMAND_RE.fullmatch(str(item.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(item.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: command description must be non-empty")
        self._commands[self._scope_key(p.get("scope"), p.get("language_code"))] = commands
        return True

    def _send_message(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._target(p, True)
        plain = render_text(p)
        markup = _inline_markup(p)
        if self._limits is not None:
            now = self._clock()
            if (wait := self._limits.retry_after(chat["id"], now)) is not None:
                raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
            self._limits.record(chat["id"], now)
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": dict(chat),
            "date": int(time.time()),
            "text": plain,
        }
        for key, value in (("reply_markup", markup), ("link_preview_options", p.get("link_preview_options"))):
            if value is not None:
                message[key] = value
        key = (chat["id"], message["message_id"])
        self._messages[key] = message
        self._sources[key] = (p["text"], p.get("parse_mode"))
        self._sent.append(
            {
                "chat_id": chat["id"],
                "message_id": message["message_id"],
                "text": p["text"],
                "plain_text": plain,
                "parse_mode": p.get("parse_mode"),
                "reply_markup": p.get("reply_markup"),
                "link_preview_options": p.get("link_preview_options"),
                "disable_web_page_preview": p.get("disable_web_page_preview"),
                "disable_notification": p.get("disable_notification"),
                "params": dict(p),
                "time": time.time(),
            }
        )
        return copy.deepcopy(message)

    def _edit_text(self, p: dict[str, Any]) -> dict[str, Any]:
        key, message = self._bot_message(p, "edit")
        plain = render_text(p)
        markup = _inline_markup(p)
        unchanged = (p["text"], p.get("parse_mode")) == self._sources[key]
        if unchanged and markup == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        self._sources[key] = (p["text"], p.get("parse_mode"))
        message.update(text=plain, edit_date=int(time.time()))
        self._set_markup(message, markup)
        return copy.deepcopy(message)

    @staticmethod
    def _set_markup(message: dict[str, Any], markup: dict[str, Any] | None) -> None:
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup

    def _answer_query(self, p: dict[str, Any]) -> bool:
        query_id = str(p.get("callback_query_id", ""))
        if query_id not in self._queries or self._queries[query_id] is not None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._queries[query_id] = dict(p)
        return True

    def _get_member(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._target(p, False)
        user_id = p.get("user_id")
        if not isinstance(user_id, int):
            raise ApiError(400, "Bad Request: invalid user_id specified")
        for admin in self._admins.get(chat["id"], []):
            if admin["user"]["id"] == user_id:
                return admin
        user = self.bot_user if user_id == self.bot_user["id"] else self._user(user_id)
        return _member(user, "member")


def _answer(payload: dict[str, Any], status: int) -> tuple[int, bytes]:
    return status, json.dumps(payload, ensure_ascii=False).encode("utf-8")


_REQUEST = threading.local()  # the connection of the request this server thread answers


def _connected(connection: socket.socket) -> bool:
    """Whether the client of a waiting request is still there: a socket readable at EOF (or broken) is a client
    that closed or died; a waiting client sends nothing more, so a live one is never readable."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return not readable or connection.recv(1, socket.MSG_PEEK) != b""
    except (OSError, ValueError):
        return False


class _Server(ThreadingHTTPServer):
    """Tracks connections so stop() can close keep-alive sockets and join handlers."""

    daemon_threads = False
    block_on_close = True
    api: FakeBotAPI

    def __init__(self, *args: Any, **kwargs: Any):
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                log.debug("closing a connection: %s", exc)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as httpx expects."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm meets the client's delayed
        # ACK and every answer waits about 40 ms, which no real Bot API does.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _REQUEST.connection = self.connection

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        self._serve()

    def do_GET(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        status, payload = self.server.api.handle_request(self.path, self.headers.get("Content-Type", ""), body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s " + format, self.client_address[0], *args)
