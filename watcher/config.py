"""Configuration: maintainers' TOML files under ``config/`` and deployment settings from the environment.

Every problem found becomes one line naming the file, the entry and the fix. All problems are collected before
anything starts, so a maintainer sees every mistake at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.errors import ConfigError
from watcher.health import HealthRules, rules_from_toml
from watcher.http.options import HttpOptions
from watcher.matcher import Topic
from watcher.notifiers.settings import AppriseConfig, EmailConfig, WebhookConfig, notifiers_from_toml
from watcher.settings import (
    DEFAULT_API_URL,
    Settings,
    config_dir_from,
    read_toml,
    relevance_from,
    settings_from_env,
)
from watcher.sources.base import Source
from watcher.sources.kinds import sources_from_toml
from watcher.store.provenance import ArchiveOptions, archive_options_from_toml
from watcher.topic_cache import checked_topics_and_warnings

if TYPE_CHECKING:
    from watcher.matcher.model import Relevance

# Settings and the directory come from the environment and live in watcher.settings, which commands that read no
# sources.toml can import alone; they are named here too, where most callers look for them.
__all__ = [
    "DEFAULT_API_URL",
    "Config",
    "Settings",
    "config_dir_from",
    "load_config",
    "read_toml",
    "settings_from_env",
]


@dataclass(frozen=True)
class Config:
    """Everything the service needs, validated."""

    directory: Path
    sources: tuple[Source, ...]
    topics: tuple[Topic, ...]
    http: HttpOptions = field(default_factory=HttpOptions)
    warnings: tuple[str, ...] = ()
    health: HealthRules | None = None  # None means the defaults

    @property
    def health_rules(self) -> HealthRules:
        return self.health or HealthRules()

    notifiers: tuple[WebhookConfig | EmailConfig | AppriseConfig, ...] = ()  # from the optional notifiers.toml
    archive: ArchiveOptions = field(default_factory=ArchiveOptions)  # [archive]: whether PDFs are kept
    relevance: Relevance | None = None  # the relevance model, unless it is off or no topic gives a threshold

    def source(self, name: str) -> Source:
        for src in self.sources:
            if src.name == name:
                return src
        raise KeyError(name)


def load_config(
    directory: Path, cache_dir: Path | None = None, settings: Settings | None = None, *, read_model: bool = False
) -> Config:
    """Read and validate ``sources.toml`` and ``topics.toml``. Raises ConfigError listing every problem.

    With ``cache_dir``, topics.toml's topics and warnings come from its entry in the topics cache while the file is
    unchanged (``watcher.topic_cache``); check-config passes none and checks everything. With ``settings`` (that do
    not turn the relevance model off) and a topic that gives a ``relevance`` threshold, the weights file
    (``relevance-model.json``) must be there; with ``read_model`` it is read and checked against the topics now
    (check-config, the service's start-up), else when the first item is matched."""
    directory = Path(directory)
    problems: list[str] = []
    warnings: list[str] = []
    src_path, topic_path = directory / "sources.toml", directory / "topics.toml"
    src_data, errs = read_toml(src_path)
    problems += errs
    sources: list = []
    http = HttpOptions()
    health = None
    archive = ArchiveOptions()
    if src_data is not None:
        sources, http, errs = sources_from_toml(src_data, str(src_path))
        problems += errs
        health, errs = rules_from_toml(src_data.get("health"), str(src_path))
        problems += errs
        archive, errs = archive_options_from_toml(src_data.get("archive"), str(src_path))
        problems += errs
    topics, topic_errors, warns = checked_topics_and_warnings(topic_path, cache_dir)
    problems += topic_errors
    warnings += warns
    notifiers, errs = _notifiers(directory / "notifiers.toml", tuple(t.id for t in topics))
    problems += errs
    relevance = None
    # the model is checked against topics.toml only when topics.toml itself is sound: with errors, the topics that
    # survive are not all the file's, and the weights of the others would look like strangers
    if settings is not None and topics and not topic_errors:
        try:
            relevance = relevance_from(settings, directory, topics, now=read_model, warnings=warnings)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return Config(
        directory=directory,
        sources=tuple(sources),
        topics=tuple(topics),
        http=http,
        warnings=tuple(warnings),
        health=health,
        notifiers=tuple(notifiers),
        archive=archive,
        relevance=relevance,
    )


def _notifiers(path: Path, topic_ids: tuple[str, ...]) -> tuple[list, list[str]]:
    """The optional notifiers.toml: webhooks and email, with secrets from the environment."""
    if not path.exists():
        return [], []
    data, errs = read_toml(path)
    if data is None:
        return [], errs
    return notifiers_from_toml(data, str(path), topic_ids, os.environ)
