"""Parsing terms quickly changes no answer: the short path ``parse_term`` takes for simple terms gives the pattern the
full term-by-term parse gives, ``Pattern.key`` tells two terms apart exactly as their words do, and so do the keys
``term_keys`` writes for a whole list at once."""

from __future__ import annotations

import itertools
import random
import tomllib
from pathlib import Path

from watcher.matcher.folding import fold, fold_keep_case
from watcher.matcher.rules import (
    _KEY_CHARS,
    _WORD_STAR,
    _new_ascii_word,
    _parse_words,
    _simple_term,
    acronym_length,
    parse_term,
    term_keys,
)
from watcher.matcher.terms import Word, key_text

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
        assert (a.key == b.key) == (key_text(a) == key_text(b)), (a.source, b.source)
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


def test_the_keys_of_a_list_are_the_keys_of_its_terms():
    """``term_keys`` writes the keys of a whole list of valid terms at once (acronyms, stars, separators, '+' parts,
    folded characters), or term by term when the list folds to other characters: the same keys either way."""
    rng = random.Random(37)
    pieces = PIECES + ["G7", "2EU", "A1s", "ABCDEs", "ABCDEFs", "ABCDEF", "Ss", "SS", "ASOPs", "ABCD*", "frontex*"]
    pieces += [" + ", "+", "Frontex", "sIS", "2024/90", "\u2013", "\u00e9t\u00e9", "\uff0b"]
    valid = [raw for raw in ("".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))) for _ in range(60_000))]
    valid = [raw for raw in valid if parse_term(raw)[0] is not None]
    assert len(valid) > 5_000
    lists = [valid[i : i + size] for size in (1, 3, 40) for i in range(0, len(valid), size)]
    data = tomllib.loads((ROOT / "config" / "topics.toml").read_text(encoding="utf-8"))
    for topic in data["topic"]:
        lists += [topic["terms"], topic.get("exclude", [])] + [rule["terms"] for rule in topic.get("context", [])]
    at_once = 0
    for raws in lists:
        assert term_keys(raws) == [key_text(parse_term(raw)[0]) for raw in raws], raws
        at_once += _KEY_CHARS.fullmatch(fold_keep_case("\n".join(raws))) is not None
    assert at_once > len(lists) // 2  # the whole-list way is taken, and so checked
