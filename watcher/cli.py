"""Command line: ``watcher run | once | check-config | match``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from watcher import __version__
from watcher.config import Config, config_dir_from, load_config, settings_from_env
from watcher.errors import ConfigError
from watcher.logs import setup_logging

log = logging.getLogger("watcher")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watcher",
        description="Watch EU Council publications and related feeds; alert on Telegram about migrant smuggling, "
                    "borders, migration and police cooperation.")
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    parser.add_argument("--config", metavar="DIR",
                        help="configuration directory (default: $WATCHER_CONFIG or ./config)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("run", help="run the service: poll on schedule, alert subscribers",
                   description="Run the service: poll every enabled source on its schedule and deliver alerts. "
                               "Without WATCHER_TELEGRAM_TOKEN, alerts are printed to standard output.")
    once = sub.add_parser("once", help="poll each source once, now",
                          description="Poll each enabled source once, record what is new and deliver its alerts.")
    once.add_argument("--dry-run", action="store_true", help="write and send nothing; print what would be flagged")
    once.add_argument("--json", action="store_true", help="print one JSON object per flagged item")
    once.add_argument("--source", metavar="NAME", action="append",
                      help="poll only this source (repeatable; disabled sources may be named)")
    sub.add_parser("check-config", help="validate the configuration",
                   description="Validate sources.toml, topics.toml and the optional notifiers.toml. Exit 0 when valid; otherwise exit 1 with one "
                               "line per problem naming the file, the entry and the fix.")
    sub.add_parser("healthcheck", help="exit 0 when the running service's /healthz answers",
                   description="Ask the running service's health endpoint (WATCHER_HTTP_PORT on 127.0.0.1) whether "
                               "it is alive; exit 0 if so, 1 otherwise. Used by the container's HEALTHCHECK.")
    match = sub.add_parser("match", help="show which topics and terms match a text",
                           description="Run the configured topics over a text (argument or standard input).")
    match.add_argument("text", nargs="*", help="the text (default: read standard input)")
    match.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        settings = settings_from_env()
    except ConfigError as exc:
        return _config_failed(exc)
    setup_logging(logging.DEBUG if args.verbose else logging.INFO, fmt=settings.log_format,
                  secrets=[settings.telegram_token or ""])
    if args.command in NO_CONFIG_COMMANDS:
        return NO_CONFIG_COMMANDS[args.command](args, settings)
    try:
        config = load_config(config_dir_from(args.config))
    except ConfigError as exc:
        return _config_failed(exc)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    handler = COMMANDS[args.command]
    try:
        return handler(args, config, settings)
    except KeyboardInterrupt:
        return 130


def _config_failed(exc: ConfigError) -> int:
    for line in exc.problems:
        print(f"error: {line}", file=sys.stderr)
    print(f"{len(exc.problems)} problem(s) in the configuration; nothing was started.", file=sys.stderr)
    return 1


def cmd_run(args, config: Config, settings) -> int:
    from watcher.app import Service

    log.info("watcher %s starting with %d sources and %d topics; data in %s", __version__,
             len(config.sources), len(config.topics), settings.data_dir)
    asyncio.run(Service(config, settings).run())
    return 0


def cmd_once(args, config: Config, settings) -> int:
    from watcher.once import run_once

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
    enabled = sum(1 for s in config.sources if s.enabled)
    notifiers = f", {len(config.notifiers)} notifiers" if config.notifiers else ""
    print(f"configuration OK: {len(config.sources)} sources ({enabled} enabled), {len(config.topics)} topics"
          f"{notifiers} in {config.directory}")
    return 0


def cmd_match(args, config: Config, settings) -> int:
    from watcher.matcher import Matcher

    text = " ".join(args.text) if args.text else sys.stdin.read()
    found = Matcher(config.topics).match_text(text)
    if args.json:
        print(json.dumps({"topics": [m.topic for m in found],
                          "terms": sorted({t for m in found for t in m.terms}),
                          "matches": [{"topic": m.topic, "terms": list(m.terms), "snippet": m.snippet}
                                      for m in found]}, ensure_ascii=False))
    elif not found:
        print("no topic matched")
    else:
        for m in found:
            print(f"{m.topic}: {', '.join(m.terms)}" + (f"\n  {m.snippet}" if m.snippet else ""))
    return 0


def cmd_healthcheck(args, settings) -> int:
    import urllib.request

    url = f"http://127.0.0.1:{settings.http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 - fixed loopback URL
            ok = resp.status == 200
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    print("healthy" if ok else f"unhealthy: {url}")
    return 0 if ok else 1


NO_CONFIG_COMMANDS = {"healthcheck": cmd_healthcheck}
COMMANDS = {"run": cmd_run, "once": cmd_once, "check-config": cmd_check_config, "match": cmd_match, **NO_CONFIG_COMMANDS}


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
