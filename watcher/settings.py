"""Deployment settings from the environment (``WATCHER_*``), where the configuration directory is, and reading
one of its TOML files with errors that name the file and the fix.

Kept apart from ``watcher.config`` so that a command which reads no ``sources.toml`` (``watcher match``) does not
load every source kind to learn its log format.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watcher.errors import ConfigError
from watcher.flags import env_flag

if TYPE_CHECKING:
    from watcher.matcher.model import Relevance
    from watcher.matcher.rules import Topic

DEFAULT_API_URL = "https://api.telegram.org/bot"
MODEL_FILE = "relevance-model.json"  # the relevance model's weights, in the configuration directory


@dataclass(frozen=True)
class Settings:
    """Deployment settings and secrets. They come only from the environment."""

    telegram_token: str | None = None
    telegram_api_url: str = DEFAULT_API_URL
    data_dir: Path = Path("data")
    admin_chat_ids: frozenset[int] = frozenset()
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    log_format: str = "plain"
    send_rate: float = 25.0
    send_concurrency: int = 1
    web_token: str | None = None  # WATCHER_WEB_TOKEN: needed by the archive's pages on a non-loopback address
    database_url: str | None = None  # WATCHER_DATABASE_URL: postgresql://... instead of the SQLite file
    cache_dir: Path | None = None  # where the commands keep checked topics (watcher.topic_cache); None: no cache
    relevance_model: bool = True  # WATCHER_RELEVANCE_MODEL=0 keeps the relevance model from raising topics (README)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "watcher.db"

    @property
    def store_target(self) -> str | Path:
        """What the store opens: the PostgreSQL URL when one is set, else the SQLite file in the data directory."""
        return self.database_url or self.db_path

    def __repr__(self) -> str:  # never show the token
        token = "set" if self.telegram_token else "unset"
        return (
            f"Settings(telegram_token=<{token}>, telegram_api_url={self.telegram_api_url!r}, "
            f"data_dir={str(self.data_dir)!r}, admin_chat_ids={sorted(self.admin_chat_ids)})"
        )


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Read WATCHER_* variables. Raises ConfigError naming the variable and the fix."""
    env = os.environ if env is None else env
    problems: list[str] = []
    admins: set[int] = set()
    for part in env.get("WATCHER_ADMIN_CHAT_IDS", "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            admins.add(int(part))
        except ValueError:
            problems.append(
                f"WATCHER_ADMIN_CHAT_IDS: {part!r} is not a chat id; give whole numbers separated by "
                "commas, e.g. 12345,-100987"
            )
    port_text = env.get("WATCHER_HTTP_PORT", "8080").strip()
    port = 8080
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        problems.append(f"WATCHER_HTTP_PORT: {port_text!r} is not a port number; give a number from 0 to 65535")
    else:
        port = int(port_text)
    log_format = env.get("WATCHER_LOG_FORMAT", "plain").strip().lower() or "plain"
    if log_format not in ("plain", "json"):
        problems.append(f'WATCHER_LOG_FORMAT: {log_format!r} is unknown; use "plain" or "json"')
    send_rate = _send_rate(env.get("WATCHER_SEND_RATE", ""), problems)
    concurrency_text = env.get("WATCHER_SEND_CONCURRENCY", "1").strip() or "1"
    if not concurrency_text.isdigit() or not 1 <= int(concurrency_text) <= 64:
        problems.append(
            f"WATCHER_SEND_CONCURRENCY: {concurrency_text!r} is not allowed; give the number of sends "
            "in flight at once, from 1 to 64 (default 1: at most one message can repeat after "
            "a crash)"
        )
        concurrency_text = "1"
    database_url = env.get("WATCHER_DATABASE_URL", "").strip() or None
    if database_url and not database_url.startswith(("postgresql://", "postgres://")):
        problems.append(
            "WATCHER_DATABASE_URL: only PostgreSQL is offered; give postgresql://user:password@host:5432/dbname, "
            "or leave it unset for the SQLite file in WATCHER_DATA_DIR"
        )
        database_url = None
    cache_dir = cache_dir_from(env, problems)
    relevance_model = _relevance(env, problems)
    if problems:
        raise ConfigError(problems)
    return Settings(
        telegram_token=env.get("WATCHER_TELEGRAM_TOKEN", "").strip() or None,
        telegram_api_url=env.get("WATCHER_TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL,
        data_dir=Path(env.get("WATCHER_DATA_DIR", "").strip() or "data"),
        admin_chat_ids=frozenset(admins),
        http_host=env.get("WATCHER_HTTP_HOST", "").strip() or "127.0.0.1",
        http_port=port,
        log_format=log_format,
        send_rate=send_rate,
        send_concurrency=int(concurrency_text),
        web_token=env.get("WATCHER_WEB_TOKEN", "").strip() or None,
        database_url=database_url,
        cache_dir=cache_dir,
        relevance_model=relevance_model,
    )


def _relevance(env: Mapping[str, str], problems: list[str]) -> bool:
    """WATCHER_RELEVANCE_MODEL: on when unset or empty, off with 0 (false, no, off)."""
    written = env.get("WATCHER_RELEVANCE_MODEL", "").strip()
    on = env_flag(written) if written else True
    if on is None:
        problems.append(
            f"WATCHER_RELEVANCE_MODEL: {written!r} is not understood; give 0 to match with the terms alone, or unset "
            f"it to let the relevance model in {MODEL_FILE} raise the topics that give a relevance threshold"
        )
        return True
    return on


def relevance_from(
    settings: Settings,
    directory: Path,
    topics: Sequence[Topic],
    *,
    now: bool = False,
    warnings: list[str] | None = None,
) -> Relevance | None:
    """The relevance model of the configuration directory, or None when WATCHER_RELEVANCE_MODEL=0 or no topic gives
    a ``relevance`` or ``irrelevant_below`` threshold. Read at once with ``now`` (check-config, the service's
    start-up, parse), else when a text is first scored; a missing file is an error either way, and so is a threshold
    on a topic whose ``fields`` leave the model nothing to read. Read now, the weights of topics that topics.toml
    lacks go to ``warnings``. Raises ConfigError naming the file and the fix."""
    needed = [topic.id for topic in topics if topic.relevance is not None or topic.irrelevant_below is not None]
    if not settings.relevance_model or not needed:
        return None
    # loaded late: only when some topic asks for the model, and `watcher --help` never does
    from watcher.matcher.model import Relevance, load_model, missing_file, unknown_topics, unreadable_topics

    path = Path(directory) / MODEL_FILE
    problems = unreadable_topics(topics)
    if not path.is_file():
        raise ConfigError(problems + [missing_file(path)])
    if not now:
        if problems:
            raise ConfigError(problems)
        return Relevance.lazy(path, needed)
    try:
        model = load_model(path, needed=needed)
    except ConfigError as exc:
        raise ConfigError(problems + exc.problems) from exc
    if problems:
        raise ConfigError(problems)
    if warnings is not None:
        warnings += unknown_topics(model, [topic.id for topic in topics], path)
    return Relevance.of(model)


def _send_rate(text: str, problems: list[str]) -> float:
    """WATCHER_SEND_RATE: Telegram messages a second overall (default 25; Telegram allows about 30)."""
    text = text.strip()
    if not text:
        return 25.0
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    # loaded late: the pacer pulls in asyncio, and only a rate to check needs its ceiling
    from watcher.delivery.pacing import MAX_RATE

    if not 0 < rate <= MAX_RATE:
        problems.append(
            f"WATCHER_SEND_RATE: {text!r} is not a rate; give messages a second above 0 and at most "
            f"{MAX_RATE:g} (Telegram allows about 30), e.g. 25"
        )
        return 25.0
    return rate


def cache_dir_from(env: Mapping[str, str], problems: list[str]) -> Path | None:
    """Where the commands may keep the topics they have checked: ``WATCHER_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/watcher`` (an absolute path, as the XDG rules ask), else ``$HOME/.cache/watcher``; None when
    ``WATCHER_NO_CACHE`` is set or there is no home to put it in."""
    off = env_flag(env.get("WATCHER_NO_CACHE"))
    if off is None:
        written = env.get("WATCHER_NO_CACHE", "").strip().lower()
        problems.append(
            f"WATCHER_NO_CACHE: {written!r} is not understood; give 1 to turn the topics cache off, or unset it"
        )
    if off:
        return None
    given = env.get("WATCHER_CACHE_DIR", "").strip()
    if given:
        return Path(given)
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    if os.path.isabs(xdg):
        return Path(xdg) / "watcher"
    home = env.get("HOME", "").strip()
    return Path(home) / ".cache" / "watcher" if os.path.isabs(home) else None


def config_dir_from(arg: str | None, env: Mapping[str, str] | None = None) -> Path:
    """The configuration directory: ``--config``, else ``WATCHER_CONFIG``, else ``./config``."""
    env = os.environ if env is None else env
    return Path(arg or env.get("WATCHER_CONFIG") or "config")


def read_toml(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """Parse one TOML file; a missing file or a syntax error becomes a problem line."""
    raw, problems = read_bytes(path)
    return (None, problems) if raw is None else parse_toml(path, raw)


def read_bytes(path: Path) -> tuple[bytes | None, list[str]]:
    """The bytes of one configuration file, or the problem line saying why it cannot be read."""
    try:
        return path.read_bytes(), []
    except FileNotFoundError:
        return None, [f"{path}: file not found; create it or point --config / WATCHER_CONFIG at the right directory"]
    except OSError as exc:
        return None, [f"{path}: cannot read: {exc}"]


def parse_toml(path: Path, raw: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """The TOML document in ``raw`` (the bytes of ``path``); text that is not UTF-8 or not TOML becomes a problem."""
    import tomli  # loaded late: `watcher match` reads its topics from the cache when topics.toml has not changed

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, [f"{path}: line {line} is not UTF-8 text; save the file as UTF-8"]
    try:
        return tomli.loads(text), []
    except tomli.TOMLDecodeError as exc:
        return None, [f"{path}: TOML syntax error: {exc}; {single_bracket_hint(path) or 'fix the syntax at that line'}"]


LIST_TABLES = ("source", "topic", "webhook", "email", "apprise")
_SINGLE_TABLE = re.compile(r"^\s*\[\s*(" + "|".join(LIST_TABLES) + r")\s*\]\s*(?:#.*)?$", re.M)


def single_bracket_hint(path: Path) -> str:
    """The fix when the file writes ``[source]`` (one table) where each entry must be ``[[source]]``, else ""."""
    try:
        found = _SINGLE_TABLE.search(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return ""
    if found is None:
        return ""
    name = found.group(1)
    line = path.read_text(encoding="utf-8", errors="replace").count("\n", 0, found.start()) + 1
    return (
        f"line {line} writes [{name}]: write [[{name}]] (double brackets) at the top of every {name} entry, "
        "since each one is an item of a list"
    )
