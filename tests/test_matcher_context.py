"""Context rules in topics.toml: a term that counts only near its context terms, is cancelled by sense markers
near it, and is checked by check-config like any term."""

from __future__ import annotations

import pytest

from watcher.matcher.engine import Matcher
from watcher.matcher.rules import topics_from_toml

RETURNS = {
    "terms": ["return*", "removal*", "EMSC"],
    "near": ["migrant*", "third-country", "Frontex", "readmission"],
    "unless": ["species", "fish*", "cultural goods"],
    "within": 8,
}


def matcher(*contexts: dict, terms=("asylum",)) -> Matcher:
    topics, errors, _ = topics_from_toml(
        {"topic": [{"id": "migration", "label": "Migration", "terms": list(terms), "context": list(contexts)}]}
    )
    assert not errors
    return Matcher(topics)


def terms_of(m: Matcher, text: str) -> list[str]:
    return [t for match in m.match_text(text) for t in match.terms]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Frontex supported 40 return operations in 2025", ["return* (near Frontex)"]),
        ("Returns of third-country nationals to be sped up", ["return* (near third-country)"]),
        ("Pre-removal detention of migrants in Greece", ["removal* (near migrant*)"]),
        ("Europol's EMSC supported a migrant smuggling investigation", ["EMSC (near migrant*)"]),
        ("Annual returns on investment rose by 3%", []),
        ("Return of cultural goods to Nigeria, says Frontex", []),
        ("Return of the fish species to the Danube, and of migrants to the Balkans", []),
        ("EMSC reports an earthquake off Crete", []),
        ("Emsc said nothing about migrants", []),  # an acronym term still needs capitals
    ],
)
def test_context_decides_whether_a_term_counts(text, expected):
    """Each context term counts only with a near term within 8 words and no sense marker that close, and the
    evidence names the near term that made it count."""
    assert terms_of(matcher(RETURNS), text) == expected


def test_within_counts_words_and_zero_means_the_same_field():
    """Beyond 'within' words the context does not count; with within = 0 (or left out) the whole field does."""
    far = "The return rate was low. " + "and more " * 10 + "Migrants were also mentioned."
    assert terms_of(matcher(RETURNS), far) == []
    field_wide = dict(RETURNS, within=0)
    assert terms_of(matcher(field_wide), far) == ["return* (near migrant*)"]
    del field_wide["within"]
    assert terms_of(matcher(field_wide), far) == ["return* (near migrant*)"]


def test_a_later_place_with_context_counts():
    """When the first place of a term lacks context but a later one has it, the term counts at the later one."""
    text = "Returns on bonds fell. " + "words " * 12 + "Readmission and return of migrants to Turkey."
    found = matcher(RETURNS).match_text(text)
    assert [m.terms for m in found] == [("return* (near readmission)",)]
    assert "return" in found[0].snippet.lower() and "Readmission" in found[0].snippet


def test_unless_only_rule_cancels_the_sense_it_names():
    """A rule with only 'unless' lets the term count except next to the marker."""
    m = matcher({"terms": ["migration*"], "unless": ["data", "species", "cloud"], "within": 3})
    assert terms_of(m, "Migration of data to the cloud") == []
    assert terms_of(m, "Irregular migration rose in 2025") == ["migration*"]


def test_exclusions_still_veto_context_terms():
    """An exclusion covering the term removes it even when the context is there."""
    topics, errors, _ = topics_from_toml(
        {"topic": [{"id": "m", "label": "M", "terms": ["asylum"], "exclude": ["return ticket*"], "context": [RETURNS]}]}
    )
    assert not errors
    assert terms_of(Matcher(topics), "Migrants bought return tickets") == []


@pytest.mark.parametrize(
    "context, message",
    [
        ({"terms": ["return*"]}, "needs near"),
        ({"near": ["migrant*"]}, "needs terms"),
        ({"terms": ["return*"], "near": ["migrant*"], "within": -1}, "'within' must be a whole number"),
        ({"terms": ["return*"], "near": ["migrant*"], "wihtin": 5}, "did you mean 'within'?"),
        ({"terms": ["re*"], "near": ["migrant*"]}, "terms 're*' is a prefix"),
        ({"terms": ["return*"], "near": ["a + b"]}, "joins parts with '+'"),
        ({"terms": ["return*"], "near": "migrant*"}, "must be a list of terms"),
        ({"terms": [["return*"]], "near": ["migrant*"]}, "must be a list of terms"),  # a list in the list
    ],
)
def test_check_config_names_what_is_wrong(context, message):
    """A bad context table is an error that names the topic, the table and the fix."""
    _, errors, _ = topics_from_toml({"topic": [{"id": "m", "label": "M", "terms": ["asylum"], "context": [context]}]})
    assert any(message in e and "topic 'm': context #1" in e for e in errors), errors


def test_context_written_as_a_single_table_is_an_error():
    """[topic.context] (single brackets) instead of [[topic.context]] is explained."""
    _, errors, _ = topics_from_toml(
        {"topic": [{"id": "m", "label": "M", "terms": ["asylum"], "context": {"terms": ["x"]}}]}
    )
    assert any("[[topic.context]]" in e for e in errors)


def test_a_context_term_also_listed_as_a_plain_term_is_warned():
    """The plain term would count without context, so check-config warns."""
    _, errors, warnings = topics_from_toml(
        {"topic": [{"id": "m", "label": "M", "terms": ["asylum", "return*"], "context": [RETURNS]}]}
    )
    assert not errors and any("context term 'return*' is also listed in terms" in w for w in warnings)


def test_an_exclusion_of_context_words_is_not_called_dead():
    """An exclusion that contains only a context term vetoes it, so check-config does not warn that it never
    removes a hit; an exclusion that contains no term of either kind is still warned about."""
    topics, errors, warnings = topics_from_toml(
        {
            "topic": [
                {
                    "id": "m",
                    "label": "M",
                    "terms": ["asylum"],
                    "exclude": ["return ticket*", "tobacco"],
                    "context": [RETURNS],
                }
            ]
        }
    )
    assert not errors
    assert terms_of(Matcher(topics), "Migrants bought return tickets") == []  # the exclusion does remove a hit
    dead = [w for w in warnings if "never removes a hit" in w]
    assert len(dead) == 1 and "'tobacco'" in dead[0], warnings


def two_topics(context: dict) -> Matcher:
    topics, errors, _ = topics_from_toml(
        {
            "topic": [
                {"id": "borders", "label": "B", "terms": ["frontex"], "context": [context]},
                {"id": "policing", "label": "P", "terms": ["europol"]},
            ]
        }
    )
    assert not errors, errors
    return Matcher(topics)


def test_context_terms_can_give_way_to_another_topic():
    """A context table with yield_to: its terms keep their context rule, and their hits are dropped when the named
    topic is raised by its own terms; a plain term of the same topic still counts."""
    m = two_topics({"terms": ["border*"], "unless": ["customs"], "within": 5, "yield_to": ["policing"]})
    topics = lambda text: sorted(x.topic for x in m.match_text(text))  # noqa: E731
    assert topics("Migrants crossed the border at night") == ["borders"]
    assert topics("Europol helped arrest smugglers near the border") == ["policing"]
    assert topics("Europol and Frontex at the border") == ["borders", "policing"]
    assert topics("Customs officers at the border") == []


@pytest.mark.parametrize(
    "yield_to, message",
    [
        (["nowhere"], "context #1: yield_to names unknown topic 'nowhere'"),
        (["borders"], "context #1: yield_to names the topic itself"),
        ("policing", "'yield_to' must be a list of topic ids"),
    ],
)
def test_a_context_tables_yield_to_is_checked(yield_to, message):
    """An unknown topic, the topic itself or a bare string in a context table's yield_to is an error."""
    _, errors, _ = topics_from_toml(
        {
            "topic": [
                {
                    "id": "borders",
                    "label": "B",
                    "terms": ["frontex"],
                    "context": [{"terms": ["border*"], "unless": ["customs"], "yield_to": yield_to}],
                },
                {"id": "policing", "label": "P", "terms": ["europol"]},
            ]
        }
    )
    assert any(message in e for e in errors), errors
