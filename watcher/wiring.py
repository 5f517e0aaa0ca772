"""The pieces of wiring that ``watcher run`` (``watcher.app``) and the one-shot commands share: topic and source
labels for the notifiers, the shared HTTP client from ``[http]``, the console subscriber. Kept apart from
``watcher.app`` so that a command such as ``watcher once`` does not load the scheduler and the web site with it."""

from __future__ import annotations

import os
from collections.abc import Mapping

from watcher import i18n
from watcher.config import Config
from watcher.http.client import Http
from watcher.notifiers.console import CONSOLE_ADDRESS
from watcher.store.health import StoredValidators
from watcher.store.sqlite import Store


def labels_of(config: Config) -> Mapping[str, str]:
    """Each topic's label by id, read in the language of the text being written (``name.fr``, ``name.de``)."""
    return i18n.Names({t.id: {i18n.DEFAULT: t.label, **dict(t.names)} for t in config.topics})


def source_labels_of(config: Config) -> dict[str, str]:
    """Each source's human name (its ``label``, else its name), by name."""
    return {s.name: s.display_name for s in config.sources}


def make_http(config: Config, store: Store | None = None, **overrides) -> Http:
    """The shared client from ``[http]`` (and ``WATCHER_ALLOW_PRIVATE_NETWORKS``); with a store, conditional GET
    keeps its validators there."""
    options = config.http.client_kwargs(os.environ)
    if store is not None:
        options["validators"] = StoredValidators(store)
    return Http(**(options | overrides))


def console_mode_setup(store: Store, config: Config) -> None:
    """Without a token every alert goes to standard output: a console subscriber gets every topic."""
    store.subscribe("console", CONSOLE_ADDRESS, [t.id for t in config.topics])
