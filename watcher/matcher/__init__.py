"""Topic matching: which maintainers' topics an item raises, and why.

Public names: :class:`Topic`, :class:`Matcher` (and :class:`LazyMatcher`, compiled on first use), :func:`fold`,
:func:`topics_from_toml` and :func:`load_topics`. Pure: no I/O except
``load_topics`` reading the file it is given.

Semantics, in short (the header of ``config/topics.toml`` explains them to maintainers):

* Text is folded (case, accents, ligatures, quotes, dashes) and split into words;
  terms match whole words, phrases match consecutive words whatever spaces or
  punctuation lie between them, and ``word*`` matches words starting with ``word``.
* A term written in capitals with at most 5 characters (``SIS``) only matches
  capitals in the text.
* An exclusion removes the term hits that lie inside the text it matches, in the
  same field: "carbon border adjustment" silences "border" there, while another
  "border" elsewhere in the item still counts.
* ``yield_to`` maps another topic's id to terms that count only when that topic
  is not raised by its own ordinary terms or subject codes anywhere in the item
  (a smuggling story that mentions migrants does not also raise migration).
* ``subjects`` also raise the topic when the item's Council subject codes include
  one (recorded as ``subject:MIGR``); ``doc_types`` restricts the topic to those
  document types; ``fields`` restricts where terms are looked for.
* Each Match lists the terms that fired as written, in order of first hit, the
  field of the first hit and a snippet of about 160 characters with the hit in
  square brackets.
"""

from __future__ import annotations

import logging
from pathlib import Path

from watcher.errors import ConfigError
from watcher.matcher.engine import LazyMatcher, Matcher
from watcher.matcher.folding import fold
from watcher.matcher.rules import Topic, topics_from_toml

__all__ = ["LazyMatcher", "Matcher", "Topic", "fold", "load_topics", "topics_from_toml"]

log = logging.getLogger(__name__)


def load_topics(path: str | Path) -> list[Topic]:
    """Read and validate a topics file; raise ConfigError listing every problem.

    Warnings are logged, not raised.
    """
    import tomli  # loaded late: `watcher match` may load its topics from the cache and parse no TOML

    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomli.load(handle)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the topics file ({exc.strerror}); check the path"]) from exc
    except tomli.TOMLDecodeError as exc:
        raise ConfigError([f"{path.name}: not valid TOML ({exc}); fix the syntax at that place"]) from exc
    topics, errors, warnings = topics_from_toml(data, path.name)
    for warning in warnings:
        log.warning("%s", warning)
    if errors:
        raise ConfigError(errors)
    return topics
