# PYTHON_ARGCOMPLETE_OK: lets argcomplete complete `watcher` (README, "Shell completion")
"""Command line: ``watcher run | once | status | check-config | match | replay | parse | healthcheck | init |
demo | archive verify | ledger | migrate-db``.

Each command loads what it uses inside its ``cmd_*`` function, so ``watcher match`` or ``watcher --help`` does not
pay for the Telegram library, the PDF reader, the HTTP client or the web server (``bench/startup.py`` measures it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from watcher import __version__
from watcher.errors import ConfigError, StoreError
from watcher.logs import redact, set_secret, setup_logging
from watcher.settings import config_dir_from, relevance_from, settings_from_env

if TYPE_CHECKING:
    from watcher.config import Config
    from watcher.matcher import Matcher
    from watcher.store.sqlite import Store

log = logging.getLogger("watcher")
STORE_FAILED = 3  # exit code when the database cannot be opened or used
COMPLETION_REQUEST = "_ARGCOMPLETE"  # set by the shell's completion hook (argcomplete's protocol), never by a user
# What `watcher parse --kind` accepts: commands.parse.KINDS, written out so that building the parser (for --help and
# shell completion) loads no source kind; tests/test_parse_command.py checks that both lists agree.
PARSE_KINDS = ("council-documents", "council-pdf", "council-register", "html-list", "rss")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, a command's name, the parser of that command alone among them (the
    one a run of it uses: building the others would cost ``watcher match`` more than matching does)."""
    parser = argparse.ArgumentParser(
        prog="watcher",
        description="Watch EU Council publications and related feeds; alert on Telegram about migrant smuggling, "
        "borders, migration and police cooperation.",
    )
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    _common_options(parser)
    sub = _Commands(parser.add_subparsers(dest="command", metavar="COMMAND"), only)

    sub.add_parser(
        "run",
        help="run the service: poll on schedule, alert subscribers",
        description="Run the service: poll every enabled source on its schedule and deliver alerts. "
        "Without WATCHER_TELEGRAM_TOKEN, alerts are printed to standard output.",
    )
    once = sub.add_parser(
        "once",
        help="poll each source once, now",
        description="Poll each enabled source once, record what is new and deliver its alerts.",
    )
    once.add_argument("--dry-run", action="store_true", help="write and send nothing; print what would be flagged")
    once.add_argument("--json", action="store_true", help="print one JSON object per flagged item")
    once.add_argument(
        "--source",
        metavar="NAME",
        action="append",
        help="poll only this source (repeatable; disabled sources may be named)",
    )
    sub.add_parser(
        "check-config",
        help="validate the configuration",
        description="Validate sources.toml, topics.toml and the optional notifiers.toml. Exit 0 when valid; "
        "otherwise exit 1 with one line per problem naming the file, the entry and the fix.",
    )
    status = sub.add_parser(
        "status",
        help="show the health of each source",
        description="Show each configured source's health as recorded in the database (WATCHER_DATA_DIR): status "
        "(ok, degraded, failing, blocked, stale, never polled, disabled), last success, consecutive failures, "
        "last failure class, new items in the last days and the last new item.",
    )
    status.add_argument("--json", action="store_true", help="print a JSON array with one object per source")
    sub.add_parser(
        "healthcheck",
        help="exit 0 when the running service's /healthz answers",
        description="Ask the running service's health endpoint (WATCHER_HTTP_PORT on 127.0.0.1) whether "
        "it is alive; exit 0 if so, 1 otherwise. Used by the container's HEALTHCHECK.",
    )
    match = sub.add_parser(
        "match",
        help="show which topics and terms match a text",
        description="Run the configured topics over a text: the arguments, a file, or standard "
        "input. Lists the hits that an exclusion or a missing context removed, and those that a never_dropped "
        "term kept from the relevance model's drop. "
        "Reads only topics.toml, and stops on any error in it (check-config also lists its warnings). "
        "Exits 0 when a topic matched and 1 when none did, so scripts can test it; "
        "2 when the text or topics.toml cannot be read.",
    )
    match.add_argument("text", nargs="*", help="the text (default: read standard input)")
    match.add_argument("--file", metavar="PATH", help="read the text from a file")
    match.add_argument("--json", action="store_true", help="print the result as JSON (topics, terms, matches)")
    match.add_argument(
        "--each-line",
        action="store_true",
        help="treat every line of standard input (or --file) as one text; print one JSON result per line",
    )
    replay = sub.add_parser(
        "replay",
        help="show what the current topics change on stored items",
        description="Run the current topics over the items already stored (title, summary, body) "
        "and list what would now be flagged that was not (+), and the reverse (-). "
        "Writes nothing; use it to see what a topic edit changes before deploying.",
    )
    replay.add_argument(
        "--since", metavar="DATE", type=_date_arg, help="only items first seen on or after this date (YYYY-MM-DD)"
    )
    replay.add_argument("--json", action="store_true", help="print one JSON object per changed item")
    ledger = sub.add_parser(
        "ledger",
        help="what is known about Council document numbers, per series and year",
        description="Summarise the Council document numbers the store knows, per series and "
        "year: known, highest, public, released later (with the median delay), "
        "never public, and the longest open gaps (numbers below the highest known "
        "that were never public). Writes nothing.",
    )
    ledger.add_argument("--series", metavar="ST", type=str.upper, help="only this series (ST, CM, ...)")
    ledger.add_argument("--year", metavar="YEAR", type=int, help="only this year")
    ledger.add_argument("--gaps", action="store_true", help="list every open gap")
    ledger.add_argument("--json", action="store_true", help="print the ledger as JSON")
    parse = sub.add_parser(
        "parse",
        help="show the items a saved feed, register page or PDF yields",
        description="Parse a saved file as a source of KIND would, and print its items (with the "
        "topics they match when the configuration's topics.toml can be read). "
        "Nothing is fetched or written. Exits 1 when the file does not parse, "
        "and says so when it is a bot-protection challenge page.",
    )
    parse.add_argument("--kind", required=True, choices=PARSE_KINDS, help="what the file is")
    parse.add_argument("file", metavar="FILE", help="the saved file ('-' reads standard input)")
    parse.add_argument("--json", action="store_true", help="print one JSON object per item")
    parse.add_argument("--url", default="", help="the address the file came from (resolves relative links)")
    parse.add_argument(
        "--select",
        metavar="KEY=SELECTOR",
        action="append",
        default=[],
        help="an html-list option, to try selectors on a saved page before writing them in "
        "sources.toml: --select 'row=article' --select 'title=h3 a' (also link, date, "
        "date_format, summary)",
    )
    init = sub.add_parser(
        "init",
        help="write a starter configuration to edit",
        description="Write the starter sources.toml, topics.toml and notifiers.toml.example into "
        "DIR (default: --config, $WATCHER_CONFIG or ./config) and say what to edit "
        "next. Refuses to replace existing files without --force.",
    )
    init.add_argument("directory", metavar="DIR", nargs="?", help="where to write the files")
    init.add_argument("--force", action="store_true", help="replace existing files with the starter ones")
    archive = sub.add_parser(
        "archive",
        help="check the archive's kept documents",
        description="Commands about the archive of what was found.",
    )
    archive_sub = archive.add_subparsers(dest="archive_command", metavar="ACTION", required=True)
    verify = archive_sub.add_parser(
        "verify",
        help="hash every kept document again; exit 1 when one does not match",
        description="Hash every document kept under WATCHER_DATA_DIR/documents ([archive] keep_documents = true) "
        "again and compare it with the SHA-256 it is named by and recorded under; print each copy that "
        "changed or is missing and exit 1 if there is one.",
    )
    _common_options(verify, default=argparse.SUPPRESS)  # --config and -v after "verify" too
    sub.add_parser(
        "demo",
        help="see the whole chain work on a sample feed",
        description="Serve a bundled sample feed on 127.0.0.1, poll it twice in a temporary data "
        "directory with the shipped topics, and print the alert the second poll finds. "
        "Touches no configuration and nothing outside the temporary directory.",
    )
    trainer = sub.add_parser(
        "train-model",
        help="train the relevance model on labelled cases and write its weights file",
        description="Train the optional relevance model (one logistic regression per topic of topics.toml, on the "
        "title and summary words of each case) on labelled case files ([[case]] tables with text and topics, as in "
        "tests/data/topic-cases.*.toml) and write its weights file. The same cases give a byte-identical file. "
        "The model raises a topic only when topics.toml gives it a threshold (relevance = 0.6), unless "
        'WATCHER_RELEVANCE_MODEL=0; see the README, "The relevance model".',
    )
    trainer.add_argument("--cases", nargs="+", required=True, metavar="FILE", help="labelled case files (TOML)")
    trainer.add_argument(
        "--out", metavar="PATH", help="the weights file to write (default: relevance-model.json in --config)"
    )
    trainer.add_argument("--epochs", type=int, default=12, help="passes over the cases (12)")
    trainer.add_argument("--seed", type=int, default=1, help="the seed of the order of the cases (1)")
    move = sub.add_parser(
        "migrate-db",
        help="copy the SQLite database into an empty PostgreSQL database",
        description="Copy every row of the SQLite database (WATCHER_DATA_DIR/watcher.db, or --from) into the empty "
        "PostgreSQL database named by --to, in one transaction, and check the counts. Stop the service first; "
        "then set WATCHER_DATABASE_URL to the same URL and start it. The SQLite file stays where it is.",
    )
    move.add_argument("--to", required=True, metavar="URL", help="postgresql://user:password@host:5432/dbname")
    move.add_argument(
        "--from", dest="source", metavar="PATH", help="the SQLite file (default: WATCHER_DATA_DIR/watcher.db)"
    )
    notify = sub.add_parser(
        "test-notify",
        help="send a sample alert through one channel's real notifier",
        description="Send one sample alert to TARGET through the same notifier and formatting as "
        "real alerts: telegram:CHAT_ID (needs WATCHER_TELEGRAM_TOKEN), or "
        "webhook:NAME, email:NAME, apprise:NAME for an entry of notifiers.toml. "
        "Writes nothing; exits 0 when the other side accepted it, 1 otherwise.",
    )
    notify.add_argument("target", metavar="TARGET", help="telegram:CHAT_ID, webhook:NAME, email:NAME or apprise:NAME")
    _options_after_command(sub)
    return parser


class _Commands:
    """The subparsers action of ``build_parser``, adding only the ``only`` command's parser when one is named: the
    others get a stand-in that accepts their arguments and keeps nothing."""

    def __init__(self, action, only: str | None):
        self.action = action
        self.only = only
        self.choices = action.choices

    def add_parser(self, name: str, **kwargs):
        if self.only is None or name == self.only:
            return self.action.add_parser(name, **kwargs)
        return _Unused()


class _Unused:
    """A command's parser that is not built: every call to it is accepted and dropped."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: self


def _command_in(args: list[str]) -> str | None:
    """The command ``args`` run when only ``--config DIR`` and ``-v`` come before its name, else None (then every
    parser is built: ``--help``, an unknown command or anything unusual is handled as it always was)."""
    rest = iter(args)
    for arg in rest:
        if arg == "--config":
            next(rest, None)
        elif not (arg in ("-v", "--verbose") or arg.startswith("--config=")):
            return arg if arg in COMMANDS else None
    return None


def _common_options(parser: argparse.ArgumentParser, default=None) -> None:
    """--config and -v; given after the command they land in the same place as before it."""
    parser.add_argument(
        "--config",
        metavar="DIR",
        default=default,
        help="configuration directory (default: $WATCHER_CONFIG or ./config)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", default=default or False, help="log debug details")


def _options_after_command(sub) -> None:
    """Every command also takes --config and -v after its name (``watcher check-config --config DIR``)."""
    for command in sub.choices.values():
        _common_options(command, default=argparse.SUPPRESS)


def _date_arg(text: str):
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2026-11-01") from None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if COMPLETION_REQUEST in os.environ:  # the shell asks what may follow: every command and option
        _complete(build_parser())
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        settings = settings_from_env()
    except ConfigError as exc:
        return _config_failed(exc)
    set_secret(settings.telegram_token)  # the one place the token is handed to redaction
    setup_logging(logging.DEBUG if args.verbose else logging.INFO, fmt=settings.log_format)
    if args.command in NO_CONFIG_COMMANDS:
        try:
            return NO_CONFIG_COMMANDS[args.command](args, settings)
        except StoreError as exc:  # the database cannot be used (damaged, out of reach): one line
            print(f"error: {exc}", file=sys.stderr)
            return STORE_FAILED
    from watcher.config import load_config  # loaded late: sources.toml's kinds and notifiers; `match` needs neither

    # check-config checks topics.toml from scratch; the others take its checked topics from the cache while it is
    # unchanged (the warnings are kept with them, and printed below either way)
    cache_dir = None if args.command == "check-config" else settings.cache_dir
    # check-config and the service read the relevance model's weights now, the others at the first match; the
    # commands that never match an item are given no settings, so they neither build the model nor need its file
    model_settings = None if args.command in NEVER_MATCH else settings
    try:
        config = load_config(
            config_dir_from(args.config), cache_dir, model_settings, read_model=args.command in ("check-config", "run")
        )
    except ConfigError as exc:
        return _config_failed(exc)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    handler = COMMANDS[args.command]
    try:
        return handler(args, config, settings)
    except KeyboardInterrupt:
        return 130
    except ConfigError as exc:  # the relevance model's weights, read at the first item matched, cannot be used
        return _config_failed(exc)
    except StoreError as exc:  # the database cannot be used: one line, and nothing was started
        print(f"error: {exc}", file=sys.stderr)
        return STORE_FAILED


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion when argcomplete is installed (the ``completion`` extra); argcomplete answers and exits."""
    try:
        import argcomplete  # loaded late: optional, and only the shell's completion request needs it
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def _config_failed(exc: ConfigError) -> int:
    for line in exc.problems:
        print(f"error: {line}", file=sys.stderr)
    print(f"{len(exc.problems)} problem(s) in the configuration; nothing was started.", file=sys.stderr)
    return 1


def cmd_run(args, config: Config, settings) -> int:
    import asyncio  # loaded late: only the commands that poll or send run an event loop
    import signal

    # Until the service's event loop handles SIGTERM itself (its first step), a stop request ends the start at once
    # with exit 0, as a stop during the service does, not with the death by signal a supervisor counts as a crash;
    # nothing has been started yet, and leaving releases the data directory's lock.
    signal.signal(signal.SIGTERM, _stop_before_start)

    from watcher.app import Service  # loaded late: the service pulls in Telegram and the scheduler
    from watcher.store import dirlock  # loaded late: only `run` locks the data directory

    # One service per SQLite data directory, for the life of this process; replicas on PostgreSQL share no file.
    lock = contextlib.nullcontext() if settings.database_url else dirlock.acquire(settings.data_dir)
    with lock:
        log.info(
            "watcher %s starting with %d sources and %d topics; data in %s",
            __version__,
            len(config.sources),
            len(config.topics),
            settings.data_dir,
        )
        service = Service(config, settings)
        asyncio.run(service.run())
    return 1 if service.failed else 0


def _stop_before_start(signum: int, frame: object) -> None:
    log.info("stop requested while starting; nothing was started")
    raise SystemExit(0)


def cmd_once(args, config: Config, settings) -> int:
    import asyncio  # loaded late: only the commands that poll or send run an event loop

    from watcher.commands.once import run_once  # loaded late: it pulls in the service's Telegram set-up

    selected = config.sources
    if args.source:
        names = {s.name for s in config.sources}
        unknown = [n for n in args.source if n not in names]
        if unknown:
            print(f"error: unknown source {', '.join(unknown)}; known: {', '.join(sorted(names))}", file=sys.stderr)
            return 1
        selected = tuple(s for s in config.sources if s.name in args.source)
    else:
        selected = tuple(s for s in selected if s.enabled)
    return asyncio.run(run_once(config, settings, selected, dry_run=args.dry_run, as_json=args.json))


def cmd_check_config(args, config: Config, settings) -> int:
    from watcher.commands.checks import vanished_topics  # loaded late: the database check is this command's alone
    from watcher.delivery.backpressure import rules_from_env  # loaded late: only run and check-config read them

    try:
        rules_from_env()  # WATCHER_OUTBOX_*: what `watcher run` would stop on
    except ConfigError as exc:
        return _config_failed(exc)
    vanished = vanished_topics(settings.store_target, (t.id for t in config.topics), config.directory / "topics.toml")
    for line in private_destinations(config) + vanished:
        print(f"warning: {line}", file=sys.stderr)
    enabled = sum(1 for s in config.sources if s.enabled)
    notifiers = f", {len(config.notifiers)} notifiers" if config.notifiers else ""
    print(
        f"configuration OK: {len(config.sources)} sources ({enabled} enabled), {len(config.topics)} topics"
        f"{notifiers} in {config.directory}"
    )
    return 0


def private_destinations(config: Config) -> list[str]:
    """Warnings about source and webhook URLs that name a private, loopback or link-local address."""
    from watcher.http.guard import destination_warnings, private_allowed  # loaded late: only check-config asks
    from watcher.notifiers.settings import WebhookConfig  # loaded late: only check-config asks

    sources = [(f"{config.directory / 'sources.toml'}: source {s.name!r}", s.url) for s in config.sources]
    hooks = [
        (f"{config.directory / 'notifiers.toml'}: webhook {n.name!r}", n.url)
        for n in config.notifiers
        if isinstance(n, WebhookConfig)
    ]
    return destination_warnings(sources, hooks, private_allowed(config.http.allow_private, os.environ))


def cmd_match(args, settings) -> int:
    """Reads topics.toml alone: matching a text needs no source, notifier or database."""
    # loaded late: the matcher and its output, which only match, replay and parse use
    from watcher.commands.maintain import match_json, match_lines
    from watcher.matcher import Matcher
    from watcher.topic_cache import checked_topics

    # Every error of check-config, none of its warnings (they never change what a text matches); from the cache
    # when topics.toml has not changed since it was last checked.
    directory = config_dir_from(args.config)
    topics, problems = checked_topics(directory / "topics.toml", settings.cache_dir)
    relevance = None
    if not problems:
        try:
            relevance = relevance_from(settings, directory, topics)  # read when the text is matched
        except ConfigError as exc:
            problems = exc.problems
    if problems:
        _config_failed(ConfigError(problems))
        return 2  # not 1, which says "nothing matched" to a script
    try:
        text = (
            Path(args.file).read_text(encoding="utf-8")
            if args.file
            else (" ".join(args.text) if args.text and not args.each_line else sys.stdin.read())
        )
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    # only the terms this text can reach: the same matches, built faster
    matcher = Matcher(topics, for_text=text, relevance=relevance)
    try:
        return _print_matches(matcher, text, args, match_json, match_lines)
    except ConfigError as exc:  # the relevance model's weights, read at the first text matched, cannot be used
        _config_failed(exc)
        return 2


def _print_matches(matcher, text: str, args, match_json, match_lines) -> int:
    if args.each_line:
        matched = 0
        for line in text.splitlines():
            if line.strip():
                found = matcher.match_text(line)
                matched += bool(found)
                print(json.dumps({"text": line, **match_json(found)}, ensure_ascii=False))
        return 0 if matched else 1
    # loaded late: the matcher's engine is the match command's, and `watcher --help` never needs it
    from watcher.matcher.engine import KEPT

    found, notes = matcher.explain_text(text)
    kept = [note.removeprefix(KEPT) for note in notes if note.startswith(KEPT)]
    removed = [note for note in notes if not note.startswith(KEPT)]
    if args.json:
        print(json.dumps({**match_json(found), "removed": removed, "kept": kept}, ensure_ascii=False))
    else:
        lines = match_lines(found) + [f"removed: {note}" for note in removed] + [f"kept: {note}" for note in kept]
        print("\n".join(lines))
    return 0 if found else 1


def _existing_store(settings) -> Store | None:
    """The store at WATCHER_DATABASE_URL or WATCHER_DATA_DIR for a command that only reads it; None (and an error
    line) when there is none."""
    from watcher.store.sqlite import Store  # loaded late: only the commands that read the database need it

    if settings.database_url:
        return Store(settings.database_url)
    if not settings.db_path.exists():
        print(
            f"error: no database at {settings.db_path}; set WATCHER_DATA_DIR to the directory that holds watcher.db",
            file=sys.stderr,
        )
        return None
    return Store(settings.db_path)


def cmd_replay(args, config: Config, settings) -> int:
    # loaded late: the matcher and the replay, which only this command runs
    from watcher.commands.maintain import replay, replay_lines
    from watcher.matcher import Matcher

    store = _existing_store(settings)
    if store is None:
        return 1
    try:
        result = replay(store, Matcher(config.topics, relevance=config.relevance), args.since)
    finally:
        store.close()
    if args.json:
        for change in result.changes:
            print(json.dumps(change.as_json(), ensure_ascii=False))
    else:
        print("\n".join(replay_lines(result)))
    return 0


def cmd_status(args, config: Config, settings) -> int:
    # loaded late: the health rules and the store, which only this command reads
    from watcher import health
    from watcher.commands.checks import shared_failure, shared_failure_hint
    from watcher.store.sqlite import Store

    db = settings.db_path
    if not settings.database_url and not db.exists():
        print(f"note: no database at {db} yet (nothing polled, or WATCHER_DATA_DIR points elsewhere)", file=sys.stderr)
    store = Store(settings.database_url or (db if db.exists() else ":memory:"))
    try:
        now = store.clock()
        rows = health.source_health(store, config.sources, config.health_rules, now)
    finally:
        store.close()
    if args.json:
        shown = [{k: redact(v) if isinstance(v, str) else v for k, v in row.items()} for row in health.to_json(rows)]
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        print(redact(health.render_table(rows, now)))
    polled = [r for r in rows if r.enabled and r.last_attempt_at]
    failure = shared_failure([r.last_failure if r.consecutive_failures else None for r in polled])
    if failure:
        print(
            shared_failure_hint(failure).replace(", then `watcher status` for each source's last success", ""),
            file=sys.stderr,
        )
    return 0


def cmd_healthcheck(args, settings) -> int:
    import urllib.request  # loaded late: only the container's health check asks over HTTP

    url = f"http://127.0.0.1:{settings.http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 - fixed loopback URL
            ok = resp.status == 200
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    print("healthy" if ok else f"unhealthy: {url}")
    return 0 if ok else 1


def cmd_parse(args, settings) -> int:
    # loaded late: the parsers of every kind (feedparser, BeautifulSoup, the PDF reader), which only parse needs
    from watcher.commands.parse import Blocked, parse_saved, print_items, select_options
    from watcher.errors import FetchError, ParseError
    from watcher.pipeline import match_items

    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        items = parse_saved(
            args.kind, data, name=args.file, url=args.url, options=select_options(args.kind, args.select)
        )
    except ValueError as exc:  # --select that the kind refuses, or a selector that is not CSS
        hint = "; on the command line: --select 'row=...' --select 'title=...'" if args.kind == "html-list" else ""
        print(f"error: {exc}{hint if 'needs' in str(exc) else ''}", file=sys.stderr)
        return 2
    except Blocked as exc:
        print(
            f"{args.file}: blocked by bot protection: {exc}; this is a challenge page, not the source's content",
            file=sys.stderr,
        )
        return 1
    except (FetchError, ParseError) as exc:
        detail = exc.detail if isinstance(exc, FetchError) else str(exc)
        print(f"{args.file}: does not parse as {args.kind}: {detail}", file=sys.stderr)
        return 1
    matcher = _topics_matcher(args.config, settings)
    matches = None
    if matcher is not None:
        matches = match_items(items, matcher)
    print_items(items, matches, sys.stdout, as_json=args.json)
    print(f"{len(items)} items from {args.file}", file=sys.stderr)
    return 0


def _topics_matcher(config_arg: str | None, settings) -> Matcher | None:
    """The configured topics (and the relevance model when it is on), when topics.toml is there and valid;
    otherwise None (with a warning if invalid)."""
    from watcher.matcher import Matcher, load_topics  # loaded late: as in cmd_parse, which calls this

    path = config_dir_from(config_arg) / "topics.toml"
    if not path.exists():
        return None
    try:
        topics = load_topics(path)
        # the weights are read and checked here, where their errors are reported, not at the first item matched
        return Matcher(topics, relevance=relevance_from(settings, path.parent, topics, now=True))
    except ConfigError as exc:
        print(f"warning: topics not matched, {path} has problems: {'; '.join(exc.problems)}", file=sys.stderr)
        return None


def cmd_train_model(args, settings) -> int:
    """Reads topics.toml for the topic ids, the case files, and writes the weights file."""
    # loaded late: only this command trains, and it reads the topics afresh
    from watcher.commands.train_model import train_model, write_model
    from watcher.matcher import load_topics
    from watcher.settings import MODEL_FILE

    directory = config_dir_from(args.config)
    if args.epochs < 1:
        print("error: --epochs must be at least 1", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else directory / MODEL_FILE
    try:
        topics = load_topics(directory / "topics.toml")
        model = train_model(
            [Path(p) for p in args.cases],
            [t.id for t in topics],
            epochs=args.epochs,
            seed=args.seed,
            say=lambda line: print(line, flush=True),
        )
        size = write_model(model, out)
    except ConfigError as exc:
        return _config_failed(exc)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    weights = sum(len(t.weights) for t in model.topics.values())
    print(f"wrote {out}: {size} bytes, {weights} weights for {len(model.topics)} topics")
    return 0


def cmd_test_notify(args, config: Config, settings) -> int:
    import asyncio  # loaded late: only the commands that poll or send run an event loop

    from watcher.commands.notify import TargetError, parse_target, send_sample  # loaded late: the notifiers' clients

    try:
        channel, address = parse_target(args.target, config)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problem = asyncio.run(send_sample(channel, address, config, settings))
    if problem:
        print(redact(f"{args.target}: {problem}"), file=sys.stderr)
        return 1
    print(f"{args.target}: sample alert accepted")
    return 0


def cmd_init(args, settings) -> int:
    from watcher.commands.init import init_config, next_steps, refusal_lines  # loaded late: only init writes files

    result = init_config(Path(args.directory) if args.directory else config_dir_from(args.config), force=args.force)
    if result.existing and not result.written:
        print("\n".join(refusal_lines(result)), file=sys.stderr)
        return 1
    print("\n".join(next_steps(result)))
    return 0


def cmd_demo(args, settings) -> int:
    from watcher.commands.demo import run_demo  # loaded late: it pulls in the service's delivery set-up

    try:
        return run_demo(relevance_model=settings.relevance_model)
    except ConfigError as exc:  # the shipped weights of a damaged installation
        return _config_failed(exc)


def cmd_ledger(args, settings) -> int:
    from watcher.commands.ledger import print_ledger  # loaded late: only this command summarises the ledger

    store = _existing_store(settings)
    if store is None:
        return 1
    try:
        print_ledger(store, args.series, args.year, args.json, args.gaps)
    finally:
        store.close()
    return 0


def cmd_archive(args, settings) -> int:
    from watcher.commands.archive import verify_kept, verify_lines  # loaded late: only this command hashes documents

    checked, bad = verify_kept(settings.data_dir, settings.database_url)
    for line in verify_lines(settings.data_dir / "documents", checked, bad):
        print(line, file=sys.stderr if line.startswith("MISMATCH") else sys.stdout)
    return 1 if bad else 0


def cmd_migrate_db(args, settings) -> int:
    from watcher.store.db import safe_url  # loaded late: only this command copies a database
    from watcher.store.transfer import copy_to_postgres  # loaded late: as above

    source = Path(args.source) if args.source else settings.db_path
    try:
        done = copy_to_postgres(source, args.to, lambda table, rows: print(f"{table}: {rows} rows", flush=True))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return STORE_FAILED
    total = sum(done.rows.values())
    print(f"copied {total} rows of {len(done.rows)} tables from {source} to {safe_url(args.to)}")
    print(f"next: set WATCHER_DATABASE_URL={safe_url(args.to)} (with its password) and start watcher")
    return 0


NO_CONFIG_COMMANDS: dict[str, Callable[..., int]] = {
    "match": cmd_match,
    "healthcheck": cmd_healthcheck,
    "parse": cmd_parse,
    "init": cmd_init,
    "demo": cmd_demo,
    "archive": cmd_archive,
    "ledger": cmd_ledger,
    "migrate-db": cmd_migrate_db,
    "train-model": cmd_train_model,
}
# commands that load the configuration but match no item: the relevance model and its weights file are not theirs
NEVER_MATCH = frozenset({"status", "test-notify"})
COMMANDS: dict[str, Callable[..., int]] = {
    "run": cmd_run,
    "once": cmd_once,
    "check-config": cmd_check_config,
    "replay": cmd_replay,
    "status": cmd_status,
    "test-notify": cmd_test_notify,
    **NO_CONFIG_COMMANDS,
}


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
