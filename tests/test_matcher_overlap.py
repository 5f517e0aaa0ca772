"""The indexed overlap check (used by check-config to warn about exclusions that veto nothing) gives exactly the
answers of the plain pairwise check, on the shipped topics and on random terms."""

from __future__ import annotations

import random
import tomllib

from tests.conftest import SHIPPED_CONFIG
from watcher.matcher.rules import compile_term
from watcher.matcher.terms import TermParts, could_hit_inside, key_text


def pairwise(terms, exclusion) -> bool:
    return any(could_hit_inside(t, exclusion) for t in terms)


def term_parts(terms) -> TermParts:
    """The terms' parts as loose key texts, as check-config gives them."""
    return TermParts(part for t in terms for part in key_text(t, caps=False).split("+"))


def indexed(parts: TermParts, exclusion) -> bool:
    return parts.any_inside(key_text(exclusion, caps=False))


def shipped_patterns():
    data = tomllib.loads((SHIPPED_CONFIG / "topics.toml").read_text(encoding="utf-8"))
    for topic in data["topic"]:
        terms = []
        for raw in topic.get("terms", []):
            try:
                terms.append(compile_term(raw))
            except ValueError:
                continue
        exclude = []
        for raw in topic.get("exclude", []):
            try:
                exclude.append(compile_term(raw))
            except ValueError:
                continue
        yield terms, exclude


def test_same_answers_on_the_shipped_topics():
    """Every exclusion of every shipped topic gets the same answer from the index as from the pairwise check."""
    checked = 0
    for terms, exclude in shipped_patterns():
        parts = term_parts(terms)
        for exclusion in exclude:
            assert indexed(parts, exclusion) == pairwise(terms, exclusion), exclusion.source
            checked += 1
    assert checked > 100


def test_same_answers_on_random_terms():
    """Random words, prefixes and multi-word terms over a small alphabet (so overlaps are common) agree."""
    rng = random.Random(13)
    words = [
        "migra",
        "migrant",
        "migrants",
        "smuggl",
        "smuggling",
        "border",
        "borders",
        "frontex",
        "return",
        "returns",
        "fish",
        "data",
    ]

    def term() -> str:
        picked = [rng.choice(words) + ("*" if rng.random() < 0.3 else "") for _ in range(rng.randint(1, 3))]
        picked = [w if not w.endswith("*") or len(w) > 5 else w[:-1] for w in picked]
        return " ".join(picked)

    for _ in range(200):
        terms = []
        for _ in range(rng.randint(1, 8)):
            try:
                terms.append(compile_term(term()))
            except ValueError:
                pass
        parts = term_parts(terms)
        for _ in range(5):
            try:
                exclusion = compile_term(term())
            except ValueError:
                continue
            assert indexed(parts, exclusion) == pairwise(terms, exclusion), (exclusion.source, terms)
