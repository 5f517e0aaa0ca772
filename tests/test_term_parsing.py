"""Parsing terms quickly changes no answer: the short path ``parse_term`` takes for simple terms gives the pattern the
full term-by-term parse gives, and ``Pattern.key`` tells two terms apart exactly as their words do."""

from __future__ import annotations

import itertools
import random
import tomllib
from pathlib import Path

from watcher.matcher.folding import fold, fold_keep_case
from watcher.matcher.rules import _WORD_STAR, _new_ascii_word, _parse_words, _simple_term, acronym_length, parse_term
from watcher.matcher.terms import Word

ROOT = Path(__file__).resolve().parent.parent
# Words (short, long, capitals, stopwords), stars, separators, regex characters and characters folding changes.
_WORDS = "a ab abc smu smug smuggl frontex SIS JITs EU the les border * ** - ' / . .* , : ; & _ ( ) ? | \\ $ ^ {"
PIECES = _WORDS.split(" ")
PIECES += ["é", "ß", "ﬁ", "＊", "™", "σ", "Ж", "2024", "0", '"', "\u0301", " ", "  ", "\u00a0", "\n", "\t"]


def random_terms(count: int) -> list[str]:
    rng = random.Random(29)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6))) for _ in range(count)]


def shipped_strings() -> list[str]:
    data = tomllib.loads((ROOT / "config" / "topics.toml").read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(data)
    return found


def full_parse(raw: str):
    return _parse_words(raw, fold_keep_case(raw.strip()))


def test_the_short_path_gives_what_the_full_parse_gives():
    short = 0
    for raw in random_terms(30_000) + shipped_strings():
        if "+" in raw:
            continue  # a + b terms are parsed part by part, each part as here
        assert parse_term(raw) == full_parse(raw), raw
        short += _simple_term().fullmatch(fold_keep_case(raw.strip())) is not None
    assert short > 5_000  # the short path is taken, and so checked


def test_the_short_path_leaves_every_problem_to_the_full_parse():
    for raw in ["smu*", "smug*gling", "x*y", "*border", "border**", "a.*b", "(frontex)", " - ", "border-"]:
        assert _simple_term().fullmatch(fold_keep_case(raw.strip())) is None, raw
    assert parse_term("smu*") == (None, "is a prefix shorter than 4 letters; write at least 4 letters before *")


def test_keys_are_equal_exactly_when_the_words_are():
    rng = random.Random(31)
    patterns = [p for raw in random_terms(3_000) if (p := parse_term(raw)[0]) is not None]
    patterns += [parse_term(raw)[0] for raw in ["SIS", "sis", "Sis", "SIS + visa", "sis + visa", "smuggl*", "smuggl"]]
    pairs = [tuple(rng.sample(patterns, 2)) for _ in range(20_000)] + list(itertools.combinations(patterns[-7:], 2))
    same = 0
    for a, b in pairs:
        assert (a.key == b.key) == ((a.parts or a.words) == (b.parts or b.words)), (a.source, b.source)
        assert a.key is a.key  # made once
        same += a.key == b.key
    assert same > 20  # equal keys do occur among the pairs


def test_the_words_of_simple_terms_are_made_as_any_word_is():
    """The short path makes its words without ``fold`` and ``acronym_length`` (its words are ASCII letters and
    digits); each is the Word those give."""
    words = {
        "SIS",
        "JITs",
        "EUs",
        "Sis",
        "sIS",
        "ABCDEF",
        "ABCDEs",
        "ABCDEFs",
        "S",
        "s",
        "SS",
        "2024",
        "G7",
        "g7",
        "A1s",
    }
    for raw in random_terms(30_000) + shipped_strings():
        text = fold_keep_case(raw.strip())
        if _simple_term().fullmatch(text):
            words.update(written for written, _ in _WORD_STAR.findall(text))
    assert len(words) > 3_000
    for written in words:
        for star in ("", "*"):
            expected = Word(fold(written), star == "*", acronym_length(written))
            assert _new_ascii_word((written, star)) == expected, written
