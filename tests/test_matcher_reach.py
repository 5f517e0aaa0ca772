"""`watcher match` builds what one text needs: the quick check of topics.toml finds every error the full one finds,
and a matcher compiled for one text (``Matcher(topics, for_text=text)``) gives that text the whole matcher's hits,
evidence and removed-hit lines."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path

import pytest

from watcher.matcher import Matcher, topics_from_toml
from watcher.matcher.rules import parse_term, plain_terms
from watcher.matcher.stopwords import too_common

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = tomllib.loads((ROOT / "config" / "topics.toml").read_text(encoding="utf-8"))
# Every labelled case file except blind5, which is kept unread.
CASE_FILES = ["dev", "extra", "holdout", "blind2", "blind3", "blind4"]


def cases(name: str) -> list[str]:
    data = tomllib.loads((ROOT / "tests" / "data" / f"topic-cases.{name}.toml").read_text(encoding="utf-8"))
    return [case["text"] for case in data["case"]]


@pytest.fixture(scope="module")
def topics():
    found, errors, _ = topics_from_toml(SHIPPED, warnings=False)
    assert not errors
    return found


@pytest.fixture(scope="module")
def whole(topics):
    return Matcher(topics)


def explain_fresh(matcher: Matcher, text: str):
    """explain_text as on a matcher's first text: the order of hits that tie (same first word) follows the order in
    which the field's tokens are visited, which depends on the tokens the matcher remembers as carrying no rule."""
    matcher._index._misses.clear()
    matcher._markers._misses.clear()
    return matcher.explain_text(text)


@pytest.mark.parametrize("name", CASE_FILES)
def test_a_matcher_for_one_text_finds_what_the_whole_matcher_finds(name, topics, whole):
    texts = cases(name)
    assert texts
    matched = 0
    for text in texts:
        expected = explain_fresh(whole, text)
        assert Matcher(topics, for_text=text).explain_text(text) == expected, text
        matched += bool(expected[0])
    assert matched  # the comparison is not between empty results


def test_it_compiles_far_fewer_rules(topics, whole):
    one = Matcher(topics, for_text="Frontex supported the return of migrants")
    assert 0 < len(one._index) < len(whole._index) // 20
    assert [m.topic for m in one.match_text("Frontex supported the return of migrants")] == [
        m.topic for m in whole.match_text("Frontex supported the return of migrants")
    ]


def test_it_refuses_a_text_with_other_words(topics):
    one = Matcher(topics, for_text="migrant smuggling")
    assert one.match_text("smuggling migrant")  # the same words: fine
    with pytest.raises(ValueError, match="another text"):
        one.match_text("Schengen borders")


def test_a_long_text_gets_the_whole_index(topics, whole):
    letters = "abcdefghij"
    text = " ".join(a + b + c + "x" for a in letters for b in letters for c in letters)  # 1,000 word starts
    assert len(Matcher(topics, for_text=text)._index) == len(whole._index)


def test_the_quick_check_builds_the_same_topics():
    full = topics_from_toml(SHIPPED)
    quick = topics_from_toml(SHIPPED, warnings=False)
    assert quick[0] == full[0]
    assert quick[1] == full[1] == []


BROKEN = [
    ("terms", ["frontex", "smuggl(ing|ers)"]),
    ("terms", ["frontex", "the"]),
    ("terms", ["frontex", "sm*"]),
    ("terms", ["frontex", "a + b + c + d + e"]),
    ("terms", ["frontex", "visa + "]),
    ("terms", ["frontex", "de la"]),
    ("terms", ["frontex", "smug*gler"]),
    ("terms", ["frontex", ""]),
    ("terms", ["frontex", "asile＋fraude"]),
    ("terms", ["frontex", 3]),
    ("exclude", ["carbon border", "border + tax"]),
    ("exclude", ["carbon border", "les"]),
]


@pytest.mark.parametrize("key,value", BROKEN)
def test_the_quick_check_finds_every_error_with_the_same_words(key, value):
    table = {"id": "borders", "label": "Borders", "terms": ["border*"], key: value}
    data = {"topic": [table]}
    full = topics_from_toml(data)
    quick = topics_from_toml(data, warnings=False)
    assert full[1], value
    assert quick[1] == full[1]
    assert quick[0] == full[0] == []


def test_the_quick_check_finds_errors_in_context_tables():
    context = {"terms": ["return*"], "near": ["migrant*", "ab*", "x + y"], "unless": ["species"]}
    data = {"topic": [{"id": "migration", "label": "Migration", "terms": ["asylum"], "context": [context]}]}
    full = topics_from_toml(data)
    assert len(full[1]) == 2
    assert topics_from_toml(data, warnings=False)[1] == full[1]


# Words, stopwords, short words, stars, plus signs, separators, regex characters and characters folding changes.
_WORDS = "a ab abc frontex SIS JITs the les della border smug smu * ** + - ' / . .* , _ ( ) ? | \\ $ ^ { ["
PIECES = _WORDS.split(" ")
PIECES += ["é", "ß", "ﬁ", "＊", "＋", "™", "σ", "Ж", "2024", "0", ":", ";", "&", '"', "\u0301"]
PIECES += [" + ", " ", "  ", "\u00a0", "\n", "\t"]


def valid(raw: str, kind: str) -> bool:
    """What the term-by-term check says of one term of that kind."""
    pattern, problem = parse_term(raw)
    if pattern is None:
        return False
    if kind == "context":
        return not pattern.parts
    if kind == "exclusion" and pattern.parts:
        return False
    return not too_common(pattern)


def test_the_one_pass_check_never_passes_a_term_the_full_check_refuses():
    rng = random.Random(13)
    passed = {"term": 0, "exclusion": 0, "context": 0}
    for _ in range(30_000):
        raw = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
        for kind in passed:
            if plain_terms([raw], kind):
                assert valid(raw, kind), (raw, kind)
                passed[kind] += 1
    assert min(passed.values()) > 500  # it does pass many valid terms


def test_the_one_pass_check_passes_the_shipped_lists():
    lists = [(t["terms"], "term") for t in SHIPPED["topic"]] + [(t["exclude"], "exclusion") for t in SHIPPED["topic"]]
    assert all(plain_terms(values, kind) for values, kind in lists)
