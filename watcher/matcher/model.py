"""The relevance model: an optional second signal beside the keyword packs (README, "The relevance model").

One logistic regression per topic over sparse binary features of an item's title and summary: its folded words,
its word pairs, and the first five letters of each word of six or more letters (a crude stem that joins inflected
forms). Only the first ``MAX_WORDS`` words are read, never the body, so a long text cannot pile up evidence.

- :func:`features` turns a text into its features;
- :func:`train` fits the weights by plain stochastic gradient descent with L2 regularisation, in a seeded order,
  so the same cases always give the same weights;
- :class:`RelevanceModel` scores a text: per topic the probability and the features that raised it most (never a
  stopword, a function word such as "through" or "depuis", a short word or a number), and reads and writes the
  JSON weights file (``config/relevance-model.json``, written by ``watcher train-model``);
- :class:`Relevance` is the model as the Matcher holds it: read already, or from its file the first time a text is
  scored.

The probability a topic needs is not the model's: each topic of topics.toml gives its own (``relevance = 0.6``), and
a topic without one is never raised by the model.

The weights file keeps, per topic, a bias, the features sorted and joined by ``|`` into one string (a character no
feature has and JSON need not escape) and the weights in the same order as one string of hexadecimal digits, four
per weight (a signed 16-bit whole number of hundredths), so reading it is ``json.loads`` of a few long strings and
one ``bytes.fromhex``, all in C, and it is checked in bulk (as many weights as features, only hexadecimal digits,
features in order). A model read without the order check (for its first text, by ``watcher match`` and ``watcher
once``) scores that text without splitting the features into a list: each feature is found in the joined string
through a small index of it (``PackedWeights``); one read with it (check-config, the service's start-up) bisects the
split list. A second text builds the dictionary a long-running process then looks features up in. Splitting 80 000
features into strings was half of reading the file, which ``watcher match`` pays on every run, so a model read for
its first text skips the one check that needs the split (the full order; only the index's stretches are checked to
be in order, ``load_model``). (A JSON list of numbers took more than twice as long to read again.)

Pure Python and pure in the matcher's sense: ``load_model`` reads the one file it is given, nothing else does I/O.
"""

from __future__ import annotations

import json
import math
import sys
import threading
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from watcher.errors import ConfigError
from watcher.matcher.folding import tokens
from watcher.matcher.stopwords import says_nothing

FORMAT = 2  # the weights file's format version; a file of another version must be retrained
MAX_WORDS = 64  # words of title and summary the model reads; the labelled cases have at most 49
MIN_WEIGHT = 0.1  # weights smaller than this (in absolute value) are left out of the file
DIGITS = 2  # decimals kept of each weight and bias
EPOCHS = 12
SEED = 1
RATE = 0.2
# Topics trained at a learning rate of their own. At 0.3, smuggling's recall on held-out sets rose by 1.4, 3.7 and 3.8
# points (blind35-38, blind39-42, blind47-50) for at most 1.1 of precision; the other topics gained on some groups and
# lost on others (README, "The relevance model").
RATES = {"smuggling": 0.3}
L2 = 1e-4
TOP = 3  # features named in an explanation
PER = 10**DIGITS  # the file writes each weight as a whole number of 1/PER
HEX = 4  # hexadecimal digits per weight in the file: a signed 16-bit number, big-endian
LARGEST = 2**15 - 1  # the largest weight the file can hold, in 1/PER
SEPARATOR = "|"  # joins a topic's features in the file; no feature has it (words are \w+, pairs add a space, stems ~)
STEM = 5  # letters of a stem feature
STEM_FROM = 6  # words at least this long also give their stem
MAX_WORDS_CAP = 1000  # the most words a weights file may ask the model to read
CHARS_PER_WORD = 40  # characters read per word wanted before the text is tokenised (more only when too few words)
RETRAIN = (
    "put back the shipped file (`watcher init NEWDIR` writes it there, with the other starter files), or retrain it"
    " with `watcher train-model --cases <labelled case files> --out {path}` where the labelled cases are (the"
    " source tree's tests/data; a deployment has none); until then, WATCHER_RELEVANCE_MODEL=0 matches with the terms"
    " alone, and removing a topic's `relevance` key stops the model for that topic only"
    ' (README, "The relevance model")'
)
MODEL_FIELDS = ("title", "summary")  # the only fields of an item the model reads


def words_of(text: str, limit: int = MAX_WORDS) -> list[str]:
    """The folded words of ``text`` that have a letter, the first ``limit`` of them.

    Only a prefix of the text is folded and tokenised: ``CHARS_PER_WORD`` characters per word wanted, four times more
    each time that prefix holds too few words, so a huge summary costs no more than its first words. Once the prefix
    has more than ``limit`` words, its first ``limit`` are whole (only its last word can be cut) and the same as the
    whole text's."""
    size = CHARS_PER_WORD * (limit + 1)
    while True:
        piece = text[:size]
        words = [word for word in tokens(piece) if any(char.isalpha() for char in word)]
        if len(words) > limit or len(piece) == len(text):
            return words[:limit]
        size *= 4


def features(text: str, limit: int = MAX_WORDS) -> list[str]:
    """The features of one text, each once, sorted: its words, its word pairs (``"border crossing"``) and the stems
    of its long words (``"smugg~"``), from its first ``limit`` words."""
    return _features(words_of(text, limit))


def _features(words: Sequence[str]) -> list[str]:
    found = set(words)
    found.update(f"{first} {second}" for first, second in zip(words, words[1:]))
    found.update(f"{word[:STEM]}~" for word in words if len(word) >= STEM_FROM)
    return sorted(found)


@dataclass
class TopicWeights:
    """One topic's logistic regression: a bias and a weight per feature (absent features weigh 0)."""

    bias: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)

    def score(self, feats: Iterable[str]) -> float:
        return self.bias + sum(self.weights.get(feat, 0.0) for feat in feats)

    def found(self, feats: Iterable[str]) -> list[tuple[str, float]]:
        """The features of ``feats`` that have a weight, with it, in the order given."""
        weights = self.weights
        return [(feat, weights[feat]) for feat in feats if feat in weights]

    def probability(self, feats: Iterable[str]) -> float:
        return _sigmoid(self.score(feats))

    def fit(
        self,
        rows: Sequence[tuple[Sequence[str], bool]],
        epochs: int,
        seed: int,
        rate: float,
        l2: float,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Stochastic gradient descent over ``rows`` (features, wanted), in an order shuffled by ``seed``;
        ``progress(epoch)`` is called before each epoch (from 1)."""
        import random  # loaded late: only training shuffles, and matching should not pay for the module

        order = list(range(len(rows)))
        shuffle = random.Random(seed).shuffle
        for epoch in range(epochs):
            if progress is not None:
                progress(epoch + 1)
            shuffle(order)
            step = rate / (1 + epoch)
            for index in order:
                feats, wanted = rows[index]
                gradient = self.probability(feats) - (1.0 if wanted else 0.0)
                self.bias -= step * gradient
                for feat in feats:
                    weight = self.weights.get(feat, 0.0)
                    self.weights[feat] = weight - step * (gradient + l2 * weight)

    def pruned(self, min_weight: float = MIN_WEIGHT, digits: int = DIGITS) -> TopicWeights:
        """The same model with small weights left out and the rest rounded, as the weights file keeps it."""
        kept = {feat: round(w, digits) for feat, w in sorted(self.weights.items()) if abs(w) >= min_weight}
        return TopicWeights(round(self.bias, digits), kept)


class PackedWeights:
    """A topic's weights as the file keeps them: a bias, the sorted features joined by SEPARATOR in one string, and
    their weights in whole 1/PER as signed 16-bit big-endian numbers in one bytes object.

    Read without building anything per feature. The first text scored looks its features up in the joined string
    itself: an index of every ``CHUNK`` characters (the first feature after each cut, found with ``str.find``) is
    bisected to the one stretch a feature can be in, that stretch is searched for ``|feature|``, and the separators
    before the hit give the feature's place among the weights. From the second text on, the features are split and
    a dictionary is built once and used (a long-running process scores many texts). The loader gives either
    ``names``, the split list, when it has split it to check the order (the first text then bisects it), or
    ``cuts``, the index, which counted the features for it."""

    def __init__(
        self,
        bias: float,
        text: str,
        count: int,
        packed: bytes,
        names: list[str] | None = None,
        cuts: Cuts | None = None,
    ):
        self.bias = bias
        self.count = count  # how many features (and weights)
        self.packed = packed
        self._text = text  # the features joined, with a separator before the first and after the last
        self._names = names
        self._cuts = cuts
        self._table: dict[str, int] | None = None
        self._scored = 0

    @property
    def names(self) -> list[str]:
        """The features, in the file's order."""
        if self._names is None:
            self._names = self._text[1:-1].split(SEPARATOR) if self.count else []
        return self._names

    def values(self) -> list[int]:
        """The weights in whole 1/PER, in the order of the features."""
        numbers = array("h", self.packed)
        if sys.byteorder == "little":
            numbers.byteswap()
        return numbers.tolist()

    @property
    def weights(self) -> dict[str, float]:
        """Every weight by feature, as a float (for writing the file again and for tests)."""
        return {name: value / PER for name, value in zip(self.names, self.values())}

    def found(self, feats: Iterable[str]) -> list[tuple[str, float]]:
        """The features of ``feats`` that have a weight, with it, in the order given."""
        table = self._table
        if table is None:
            self._scored += 1
            if self._scored > 1:
                # reversed, so that a feature written twice keeps its first weight, as the first text finds it
                table = self._table = dict(zip(reversed(self.names), reversed(self.values())))
        if table is not None:
            return [(feat, table[feat] / PER) for feat in feats if feat in table]
        packed, out = self.packed, []
        names = self._names
        for feat in feats:
            if names is not None:  # split already: bisect them
                at = bisect_left(names, feat)
                at = at if at < len(names) and names[at] == feat else -1
            else:
                at = self._place(feat)
            if at >= 0:
                out.append((feat, int.from_bytes(packed[2 * at : 2 * at + 2], "big", signed=True) / PER))
        return out

    def _place(self, feat: str) -> int:
        """Where ``feat`` is among the features (its first place if written twice), or -1."""
        if not self.count:
            return -1
        if self._cuts is None:
            self._cuts = Cuts.of(self._text)
        firsts, starts, ends, before = self._cuts.firsts, self._cuts.starts, self._cuts.ends, self._cuts.before
        text, wanted = self._text, f"{SEPARATOR}{feat}{SEPARATOR}"
        cut = bisect_left(firsts, feat)
        # the stretch before the first cut whose first feature is not smaller; then that cut's own stretch, when
        # its first feature is this one (a feature written twice can end one stretch and start the next)
        for piece in (cut - 1, cut) if cut < len(firsts) and firsts[cut] == feat else (cut - 1,):
            if piece < 0:
                continue
            at = text.find(wanted, starts[piece], ends[piece] + 1)
            if at >= 0:
                return before[piece] + text.count(SEPARATOR, starts[piece], at)
        return -1


CHUNK = 2048  # characters of the joined features per stretch of the first text's index (PackedWeights._place)


@dataclass(frozen=True)
class Cuts:
    """The index of a topic's joined features ``|a|b|...|z|``: a cut at the first separator at least CHUNK
    characters after the last cut. Per stretch between two cuts: its first feature, where it starts and ends (at
    separators) and how many features come before it; and how many features there are in all."""

    firsts: list[str]
    starts: list[int]
    ends: list[int]
    before: list[int]
    count: int

    @classmethod
    def of(cls, text: str) -> Cuts:
        firsts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        before: list[int] = []
        last, start, seen = len(text) - 1, 0, 0
        while start < last:
            end = text.find(SEPARATOR, start + CHUNK) if start + CHUNK < last else -1
            if end < 0:
                end = last
            firsts.append(text[start + 1 : text.index(SEPARATOR, start + 1)])
            starts.append(start)
            ends.append(end)
            before.append(seen)
            seen += text.count(SEPARATOR, start, end)
            start = end
        return cls(firsts, starts, ends, before, seen)


def _sigmoid(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


@dataclass(frozen=True)
class Score:
    """What the model says of one topic for one text: the probability, and the features that raised it most
    (as the text's folded words: a stem is shown as the first word of the text that has it)."""

    probability: float
    top: tuple[str, ...] = ()


@dataclass
class RelevanceModel:
    """Per-topic weights and where they came from. The probability a topic needs is topics.toml's (``relevance``)."""

    topics: dict[str, TopicWeights | PackedWeights]
    max_words: int = MAX_WORDS
    training: tuple[dict, ...] = ()  # one {"file": name, "sha256": hex, "cases": n} per case file
    settings: dict = field(default_factory=dict)  # epochs, seed, rate, rates, l2, min_weight, digits

    def score(self, text: str, only: Iterable[str] | None = None) -> dict[str, Score]:
        """Per topic (all, or those in ``only``), the probability for ``text`` and its ``TOP`` strongest features."""
        words = words_of(text, self.max_words)
        feats = _features(words)
        wanted = self.topics if only is None else [t for t in only if t in self.topics]
        return {topic: self._score(self.topics[topic], feats, words) for topic in wanted}

    def _score(self, weights: TopicWeights | PackedWeights, feats: list[str], words: list[str]) -> Score:
        found = weights.found(feats)
        probability = _sigmoid(weights.bias + sum(weight for _, weight in found))
        raised = sorted(((w, f) for f, w in found if w > 0), key=lambda p: (-p[0], p[1]))
        shown: list[str] = []
        for _, feat in raised:
            word = _shown(feat, words)
            if word and readable(word) and not any(_overlaps(word, other) for other in shown):
                shown.append(word)
            if len(shown) == TOP:
                break
        return Score(probability, tuple(shown))

    def to_json(self) -> str:
        """The weights file's text: sorted keys, one line per topic (its bias, its sorted features joined by ``|``
        and its weights in whole 1/PER in the same order), the same bytes for the same model."""
        head = {
            "format": FORMAT,
            "kind": "watcher relevance model: logistic regression per topic",
            "max_words": self.max_words,
            "features": f"folded words, word pairs, {STEM}-letter stems of words of {STEM_FROM}+ letters",
            "weights": f"{HEX} hexadecimal digits per weight: a signed 16-bit big-endian whole number of 1/{PER}, "
            f"in the order of the topic's features (joined by {SEPARATOR})",
            "training": list(self.training),
            "settings": self.settings,
            "topic_ids": list(self.topics),
        }
        lines = ["{"]
        lines += [f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True)}," for key, value in head.items()]
        lines.append('  "topics": {')
        for number, (topic, weights) in enumerate(self.topics.items()):
            comma = "," if number < len(self.topics) - 1 else ""
            ordered = sorted(weights.weights.items())
            if any(SEPARATOR in feat for feat, _ in ordered):
                raise ValueError(f"a feature of {topic!r} holds {SEPARATOR!r}, which joins them in the file")
            numbers = [round(weight * PER) for _, weight in ordered]
            if any(abs(number) > LARGEST for number in numbers):
                raise ValueError(f"a weight of {topic!r} is beyond ±{LARGEST / PER}, which the file cannot hold")
            body = json.dumps(
                {
                    "bias": weights.bias,
                    "features": SEPARATOR.join(feat for feat, _ in ordered),
                    "weights": b"".join(n.to_bytes(2, "big", signed=True) for n in numbers).hex(),
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
            lines.append(f"    {json.dumps(topic)}: {body}{comma}")
        lines += ["  }", "}", ""]
        return "\n".join(lines)


def readable(shown: str) -> bool:
    """Whether a feature says something to a reader: a word of three letters or more, with no digit, in none of the
    matcher's stopword lists and none of the function words kept for explanations (``watcher.matcher.stopwords``:
    ``says_nothing``); a pair with at least one such word. Only what is shown depends on it, never a probability."""
    return not all(says_nothing(word) or not word.isalpha() for word in shown.split())


def _shown(feat: str, words: list[str]) -> str:
    """A feature as the reader sees it: a stem becomes the first word of the text that starts with it."""
    if feat.endswith("~"):
        stem = feat[:-1]
        return next((w for w in words if len(w) >= STEM_FROM and w.startswith(stem)), "")
    return feat


def _overlaps(word: str, other: str) -> bool:
    """True when one shown feature repeats the other: the same word, or a word of the other's pair."""
    mine, theirs = word.split(), other.split()
    return set(mine) <= set(theirs) or set(theirs) <= set(mine)


def train(
    cases: Sequence[tuple[str, Iterable[str]]],
    topics: Sequence[str],
    *,
    epochs: int = EPOCHS,
    seed: int = SEED,
    rate: float = RATE,
    rates: Mapping[str, float] | None = None,
    l2: float = L2,
    max_words: int = MAX_WORDS,
    progress=None,
) -> dict[str, TopicWeights]:
    """Fit one model per topic on ``cases`` ((text, its topics)), each topic at its learning rate in ``rates``
    (default RATES), else at ``rate``; ``progress(topic, epoch)`` is called before each epoch of each topic."""
    own = RATES if rates is None else rates
    rows = [(features(text, max_words), set(labels)) for text, labels in cases]
    fitted = {}
    for topic in topics:
        weights = TopicWeights()
        told = None if progress is None else (lambda epoch, topic=topic: progress(topic, epoch))
        weights.fit([(feats, topic in labels) for feats, labels in rows], epochs, seed, own.get(topic, rate), l2, told)
        fitted[topic] = weights
    return fitted


def model_from_json(
    text: str, name: str, *, needed: Iterable[str] = (), check_order: bool = True
) -> tuple[RelevanceModel | None, list]:
    """The model in a weights file's text, or None and the problems, each naming the file and the fix. Each topic of
    ``needed`` (those topics.toml gives a ``relevance``) must be in the file; a topic of the file that topics.toml
    lacks is no problem (only the topics asked for are scored; see ``unknown_topics``)."""
    fix = RETRAIN.format(path=name)
    try:
        data = json.loads(text)
    except ValueError as exc:
        return None, [f"{name}: not a relevance model file (not valid JSON: {exc}); {fix}"]
    if not isinstance(data, dict):
        return None, [f"{name}: not a relevance model file (no JSON object); {fix}"]
    if data.get("format") != FORMAT:
        return None, [f"{name}: format version {data.get('format')!r}, this watcher reads version {FORMAT}; {fix}"]
    problems: list[str] = []
    max_words = data.get("max_words")
    if not isinstance(max_words, int) or isinstance(max_words, bool) or not 1 <= max_words <= MAX_WORDS_CAP:
        shown = repr(max_words) if not isinstance(max_words, int) or abs(max_words) < 10**12 else "(a huge number)"
        problems.append(f"{name}: max_words {shown} is not a whole number from 1 to {MAX_WORDS_CAP}; {fix}")
        max_words = MAX_WORDS
    raw = data.get("topics")
    if not isinstance(raw, dict) or not raw:
        return None, problems + [f"{name}: no topics in the file; {fix}"]
    topics: dict[str, TopicWeights | PackedWeights] = {}
    for topic, body in raw.items():
        weights = _weights(body, check_order)
        if weights is None:
            problems.append(
                f"{name}: topic {topic!r} needs a bias, its features in order as one text and as many weights "
                f"({HEX} hexadecimal digits each); {fix}"
            )
            continue
        topics[topic] = weights
    missing = [topic for topic in needed if topic not in raw]
    if missing:
        problems.append(
            f"{name}: topics.toml gives topic {', '.join(map(repr, missing))} a relevance threshold, but the file has "
            f"no weights for it; {fix}"
        )
    if problems:
        return None, problems
    training = tuple(t for t in data.get("training") or () if isinstance(t, dict))
    settings = data.get("settings")
    return RelevanceModel(topics, max_words, training, settings if isinstance(settings, dict) else {}), []


def _weights(body: object, check_order: bool = True) -> PackedWeights | None:
    """One topic of the file: its bias, its features (sorted, joined by SEPARATOR) and their weights (HEX hexadecimal
    digits each, in the same order), checked in bulk; None when it is not that. ``check_order=False`` leaves out the
    one check that needs the features split, that they are in order (see ``load_model``)."""
    if not isinstance(body, dict):
        return None
    bias, joined, weights = body.get("bias"), body.get("features"), body.get("weights")
    if not isinstance(bias, (int, float)) or type(bias) is bool:
        return None
    try:
        if not math.isfinite(bias):
            return None
    except OverflowError:  # a whole number too large for a float
        return None
    if type(joined) is not str or type(weights) is not str:
        return None
    text = f"{SEPARATOR}{joined}{SEPARATOR}" if joined else ""
    names, cuts = None, None
    if check_order:
        names = joined.split(SEPARATOR) if joined else []
        if names != sorted(names):
            return None  # out of order: the first text's lookups would miss features
        count = len(names)
    else:
        cuts = Cuts.of(text)  # counts the features on the way
        if cuts.firsts != sorted(cuts.firsts):
            return None  # out of order between stretches: at least this much of the order is checked
        count = cuts.count
    if len(weights) != HEX * count:
        return None
    try:
        packed = bytes.fromhex(weights)
    except ValueError:  # a character that is no hexadecimal digit
        return None
    if len(packed) * 2 != len(weights):  # fromhex skips spaces
        return None
    return PackedWeights(float(bias), text, count, packed, names, cuts)


def unknown_topics(model: RelevanceModel, topic_ids: Iterable[str], name: str | Path) -> list[str]:
    """A warning for the topics of the weights file that topics.toml lacks (a topic removed or renamed): they are
    never scored, so they stop nothing."""
    unknown = sorted(set(model.topics) - set(topic_ids))
    if not unknown:
        return []
    return [
        f"{name}: the relevance model has weights for {', '.join(map(repr, unknown))}, which topics.toml does not "
        "define; they are never used (retrain the file on topics.toml's ids to drop them)"
    ]


def load_model(path: str | Path, *, needed: Iterable[str] = (), check_order: bool = True) -> RelevanceModel:
    """Read and check a weights file; raise ConfigError naming the file and the fix.

    ``check_order=False`` (a model read when its first text is scored: ``watcher match``, ``watcher once``) leaves
    out the check that each topic's features are in order, the only one that needs them split, which is most of the
    reading time; every other check is made. check-config and the service's start-up read with the check, so a file
    out of order (never written by ``watcher train-model``; edited by hand) is refused there."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError([missing_file(path)]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"{path}: cannot read the relevance model file ({exc}); {RETRAIN.format(path=path)}"
        raise ConfigError([problem]) from exc
    model, problems = model_from_json(text, str(path), needed=needed, check_order=check_order)
    if model is None:
        raise ConfigError(problems)
    return model


def missing_file(path: Path) -> str:
    """The error for a weights file that is not there while topics.toml asks for the model."""
    return (
        f"{path}: relevance model file not found, and topics.toml gives topics a relevance threshold; "
        f"{RETRAIN.format(path=path)}"
    )


def unreadable_topics(topics: Iterable) -> list[str]:
    """An error for each topic that gives a ``relevance`` or ``irrelevant_below`` threshold while its ``fields``
    hold neither title nor summary: the model reads only those, so it could never raise or drop a hit of the
    topic."""
    problems = []
    for topic in topics:
        if set(topic.fields) & set(MODEL_FIELDS):
            continue
        for key in ("relevance", "irrelevant_below"):
            value = getattr(topic, key)
            if value is not None:
                problems.append(
                    f"topics.toml: topic {topic.id!r}: {key} {value} is set, but its fields "
                    f"({', '.join(topic.fields)}) hold neither title nor summary, the only fields the relevance model "
                    f'reads; add "title" or "summary" to its fields, or remove its {key} key (or set '
                    "WATCHER_RELEVANCE_MODEL=0 to match every topic with the terms alone)"
                )
    return problems


class Relevance:
    """The relevance model as the Matcher uses it: the model itself (``of``), or its weights file, read and checked
    (every check but the full order of the features, see ``load_model``) the first time a text is scored (``lazy``),
    once however many threads ask. ``watcher once`` on feeds that bring
    nothing new never reads it."""

    def __init__(
        self,
        model: RelevanceModel | None = None,
        path: Path | None = None,
        needed: Sequence[str] = (),
    ):
        if model is None and path is None:
            raise ValueError("give the model or the path of its weights file")
        self._model = model
        self._path = path
        self._needed = tuple(needed)
        self._lock = threading.Lock()

    @classmethod
    def of(cls, model: RelevanceModel) -> Relevance:
        """A model already read."""
        return cls(model)

    @classmethod
    def lazy(cls, path: Path, needed: Sequence[str] = ()) -> Relevance:
        """The model of the weights file ``path``, read when first needed (``load_model``'s checks then, without the
        full order check)."""
        return cls(path=Path(path), needed=needed)

    @property
    def loaded(self) -> bool:
        """Whether the weights have been read yet."""
        return self._model is not None

    @property
    def model(self) -> RelevanceModel:
        """The model, read from its file on the first call; raises ConfigError when the file cannot be used."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    assert self._path is not None
                    self._model = load_model(self._path, needed=self._needed, check_order=False)
        return self._model

    @staticmethod
    def text_of(title: str, summary: str) -> str:
        """What the model reads of an item: its title, then its summary (never its body); give "" for a field the
        topic's ``fields`` leave out."""
        return f"{title}\n{summary}" if title and summary else title or summary
