"""The shared vocabulary of the pipeline. Plain frozen dataclasses, no I/O."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Item:
    """One thing a source published: a feed entry, a register row, a document.

    ``id`` is stable across polls and unique within its source. ``extra`` holds
    kind-specific metadata (for Council documents: ``doc_type``, ``subjects``,
    ``public``, ``family`` ...). It must be JSON-serialisable.
    """

    source: str
    id: str
    title: str
    url: str
    published: datetime | None = None
    summary: str = ""
    body: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.id)


@dataclass(frozen=True)
class Match:
    """One topic that fired on one item, with the evidence for it."""

    topic: str
    terms: tuple[str, ...]
    snippet: str = ""
    field: str = ""
    # The words of the text that the terms matched, as the text writes them ("smuggling" for ``smuggl*``); evidence
    # derived from the hits, so two matches of the same terms compare equal whatever their case in the text.
    words: tuple[str, ...] = dataclasses.field(default=(), compare=False)  # ``field`` is the name above


@dataclass(frozen=True)
class Alert:
    """One outbox row: an item that matched, addressed to one subscriber.

    ``extra`` is the item's ``extra`` (for Council documents what the header says: type, parties, codes,
    procedures ...). ``since`` is when the store first saw the document before this event: the family's first
    version for ``version``, the listing as not public for ``public``; None for ``new``.
    """

    id: int
    subscriber_id: int
    channel: str
    address: str
    source: str
    item_id: str
    title: str
    url: str
    published: datetime | None
    topics: tuple[str, ...]
    terms: tuple[str, ...]
    snippet: str = ""
    event: str = "new"
    attempts: int = 0
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    since: datetime | None = None
    quiet: bool = False  # the chat asked for alerts without a sound
    #: the chat's own terms (/watch) that raised the alert: (the term as the chat wrote it, the words as matched)
    personal: tuple[tuple[str, str], ...] = ()
    summary: str = ""  # the item's summary, as the source gave it
    words: tuple[str, ...] = ()  # the matched words as the text writes them (empty for alerts queued before them)
    language: str = "en"  # the chat's language (what it chose with /language, else its user's Telegram language)


# A topic raised by the relevance model (watcher.matcher.model) records one term that says so, whole:
# "relevance model borders 0.83 on: frontier, guards, frontex" (the topic, the probability, then the features that
# raised it most). The topic is in the term since an alert for several topics joins their terms, and the store keeps
# identical terms once. Stored, archived and posted to webhooks as it is; an alert shows it in the chat's language,
# with the topic's label.
MODEL_TERM = "relevance model "
_MODEL_ON = " on: "


def model_term(topic: str, probability: float, words: tuple[str, ...] | list[str]) -> str:
    """The term of ``topic`` raised by the relevance model at ``probability`` on ``words``."""
    head = f"{MODEL_TERM}{topic} {probability:.2f}"
    return f"{head}{_MODEL_ON}{', '.join(words)}" if words else head


def model_reason(term: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(the topic, the probability as written, the features) of a relevance model's term; None for any other term,
    and for one that names no topic."""
    if not term.startswith(MODEL_TERM):
        return None
    rest = term[len(MODEL_TERM) :]
    head, _, words = rest.partition(_MODEL_ON)
    topic, _, probability = head.rpartition(" ")
    if (
        not topic
        or " " in topic
        or not (len(probability) == 4 and probability[1] == "." and probability.replace(".", "", 1).isdigit())
    ):
        return None
    return topic, probability, tuple(w for w in words.split(", ") if w)
