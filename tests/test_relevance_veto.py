"""``irrelevant_below``: the relevance model drops a hit of a topic's terms that it finds in the title and summary
alone when it gives the topic less than that probability; hits in the body and from subject codes stay; `watcher
match` says what it removed; check-config refuses a value that is no probability or not below ``relevance``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_relevance_model import TEXT, lorry_model, trained
from watcher.matcher import Matcher, load_topics, topics_from_toml
from watcher.matcher.engine import KEPT
from watcher.matcher.model import Relevance, RelevanceModel, TopicWeights, load_model
from watcher.models import Item


def quiet_model() -> RelevanceModel:
    """A model that gives topic ``t`` about 0.007 for any text with "cigarettes", 0.5 for any other."""
    return RelevanceModel({"t": TopicWeights(0.0, {"cigarettes": -5.0})})


def veto_matcher(below: float | None, **entry) -> Matcher:
    topic = {"id": "t", "label": "T", "terms": ["border*"], **entry}
    topics, errors, _ = topics_from_toml({"topic": [topic]})
    assert errors == []
    return Matcher([replace(t, irrelevant_below=below) for t in topics], relevance=Relevance.of(quiet_model()))


def test_a_hit_in_the_title_is_dropped_below_the_threshold_and_kept_above():
    item = Item("s", "1", "Cigarettes seized at the border", "u")
    assert veto_matcher(0.01).match(item) == []
    assert [m.topic for m in veto_matcher(0.005).match(item)] == ["t"]  # 0.007 is not below 0.005
    assert [m.topic for m in veto_matcher(None).match(item)] == ["t"]  # without the key the model drops nothing
    # the model gives 0.5 to a text without "cigarettes": the hit stays
    assert [m.topic for m in veto_matcher(0.2).match(Item("s", "2", "People stopped at the border", "u"))] == ["t"]
    assert veto_matcher(0.01).match_text("Cigarettes seized at the border") == []


def test_a_hit_in_the_body_or_from_a_subject_code_is_never_dropped():
    in_body = Item("s", "1", "Cigarettes seized", "u", body="The lorry was stopped at the border.")
    [match] = veto_matcher(0.01).match(in_body)
    assert match.topic == "t" and match.field == "body"
    # title and body both hit: the body's hit is one the model never read, so the topic stays
    both = Item("s", "2", "Cigarettes seized at the border", "u", body="At the border, a lorry.")
    assert [m.topic for m in veto_matcher(0.01).match(both)] == ["t"]
    coded = Item("s", "3", "Cigarettes seized at the border", "u", extra={"subjects": ["FRONT"]})
    assert [m.topic for m in veto_matcher(0.01, subjects=["FRONT"]).match(coded)] == ["t"]


def test_the_model_reads_only_the_fields_the_topic_allows_before_dropping():
    # the topic reads only the summary: the title's "cigarettes" is not the model's to read, so nothing is dropped
    item = Item("s", "1", "Cigarettes", "u", summary="Stopped at the border")
    assert [m.topic for m in veto_matcher(0.01, fields=["summary"]).match(item)] == ["t"]
    assert veto_matcher(0.01, fields=["title", "summary"]).match(item) == []


def test_without_a_model_nothing_is_dropped():
    topics, _, _ = topics_from_toml({"topic": [{"id": "t", "label": "T", "terms": ["border*"]}]})
    matcher = Matcher([replace(t, irrelevant_below=0.5) for t in topics])
    assert [m.topic for m in matcher.match_text("Cigarettes seized at the border")] == ["t"]


def test_explain_lists_the_dropped_hit():
    found, notes = veto_matcher(0.01).explain_text("Cigarettes seized at the border")
    assert found == []
    assert notes == ["t: 'border*' removed by the relevance model: 0.007 is below irrelevant_below = 0.01"]


def test_a_topic_with_only_irrelevant_below_is_not_raised_by_the_model():
    topics, errors, _ = topics_from_toml(
        {"topic": [{"id": "a", "label": "A", "terms": ["frontex"], "irrelevant_below": 0.1}]}
    )
    assert errors == [] and topics[0].relevance is None and topics[0].irrelevant_below == 0.1
    matcher = Matcher(topics, relevance=Relevance.of(lorry_model(a=-1.0)))
    assert matcher.match_text("Lorry stopped") == []
    assert [m.topic for m in matcher.match_text("Frontex lorry stopped")] == ["a"]


@pytest.mark.parametrize(
    "value, says",
    [
        ("0", "irrelevant_below 0 is not a probability between 0 and 1"),
        ("1.5", "irrelevant_below 1.5 is not a probability between 0 and 1"),
        ('"low"', "irrelevant_below 'low' is not a probability between 0 and 1"),
        ("0.5", "irrelevant_below 0.5 is not below relevance 0.5"),
        ("0.7", "irrelevant_below 0.7 is not below relevance 0.5"),
    ],
)
def test_check_config_refuses_a_bad_value(tmp_path, value, says):
    cfg = trained(tmp_path)
    topics = cfg / "topics.toml"
    text = topics.read_text(encoding="utf-8").replace("relevance = 0.5", f"relevance = 0.5\nirrelevant_below = {value}")
    topics.write_text(text, encoding="utf-8")
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert done.returncode == 1
    assert f"topics.toml: topic 'smuggling': {says}" in done.stderr


def test_match_shows_a_hit_the_model_dropped(tmp_path):
    cfg = trained(tmp_path)
    topics = cfg / "topics.toml"
    topics.write_text(
        topics.read_text(encoding="utf-8").replace("relevance = 0.5", "relevance = 0.5\nirrelevant_below = 0.4"),
        encoding="utf-8",
    )
    assert run_cli(["--config", str(cfg), "check-config"], tmp_path).returncode == 0
    # the cases taught the model that fisheries quotas are not smuggling
    done = run_cli(["--config", str(cfg), "match", "Council adopts fisheries quotas against smugglers"], tmp_path)
    assert done.returncode == 1, done.stdout
    assert "removed: smuggling: 'smuggl*' removed by the relevance model: " in done.stdout
    assert "below irrelevant_below = 0.4" in done.stdout
    done = run_cli(["--config", str(cfg), "match", TEXT + " with smugglers"], tmp_path)
    assert done.returncode == 0 and "smuggling: smuggl*" in done.stdout


def test_check_config_refuses_irrelevant_below_on_a_topic_the_model_cannot_read(tmp_path):
    cfg = trained(tmp_path)
    topics = cfg / "topics.toml"
    text = topics.read_text(encoding="utf-8").replace("relevance = 0.5", 'irrelevant_below = 0.1\nfields = ["body"]')
    topics.write_text(text, encoding="utf-8")
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert done.returncode == 1
    assert "topic 'smuggling': irrelevant_below 0.1 is set, but its fields (body) hold neither" in done.stderr


def test_a_never_dropped_term_keeps_its_hit_where_the_model_would_drop_it():
    """A hit of a term the topic lists in ``never_dropped`` stays whatever the model gives; a hit of another term of
    the same topic is still dropped, and so is the listed term's hit when the list is taken away."""
    kept = veto_matcher(0.01, terms=["border*", "eurosur"], never_dropped=["eurosur"])
    assert [m.topic for m in kept.match_text("Cigarettes spotted by Eurosur")] == ["t"]
    assert kept.match_text("Cigarettes seized at the border") == []
    plain = veto_matcher(0.01, terms=["border*", "eurosur"])
    assert plain.match_text("Cigarettes spotted by Eurosur") == []


def test_a_never_dropped_context_term_keeps_its_hit():
    """A context term's hit is shown with its context ("schengen* (near border*)"); listed as written, it stays."""
    context = [{"terms": ["schengen*"], "near": ["border*"]}]
    kept = veto_matcher(0.01, terms=["frontex"], context=context, never_dropped=["schengen*"])
    [match] = kept.match_text("Cigarettes at the Schengen border")
    assert match.terms == ("schengen* (near border*)",)
    assert veto_matcher(0.01, terms=["frontex"], context=context).match_text("Cigarettes at the Schengen border") == []


def test_the_shipped_border_names_are_never_dropped():
    """The screening regulation's Italian name and a short-stay visa's German one, which the shipped model drops,
    stay borders hits."""
    root = Path(__file__).resolve().parent.parent
    topics = load_topics(root / "config" / "topics.toml")
    relevance = Relevance.of(load_model(root / "config" / "relevance-model.json"))
    shipped = Matcher(topics, relevance=relevance)
    bare = Matcher([replace(t, never_dropped=()) for t in topics], relevance=relevance)
    dropped = 0
    for text in (
        "Regolamento sugli accertamenti: le prime verifiche a Lampedusa",
        "Ihr Besuchervisum wurde vom Konsulat in Lagos abgelehnt",
    ):
        assert "borders" in {m.topic for m in shipped.match_text(text)}, text
        dropped += "borders" not in {m.topic for m in bare.match_text(text)}
    assert dropped  # the model would drop at least one of them (retrained, it may learn some)


@pytest.mark.parametrize(
    "entry, says",
    [
        (
            'never_dropped = ["eurosurr"]',
            "never_dropped 'eurosurr' is none of the topic's terms (terms, yield_to or context terms); write it "
            "exactly as the term is written there, or remove it",
        ),
        ('never_dropped = "eurosur"', "'never_dropped' must be a list of non-empty strings"),
        (
            'never_dropped = ["Smuggl*"]',
            "never_dropped 'Smuggl*' is none of the topic's terms (terms, yield_to or context terms); the term is "
            "written 'smuggl*'; write it the same way",
        ),
        (
            'never_dropped = ["smuggl* (near boat*)"]',
            "never_dropped 'smuggl* (near boat*)' is none of the topic's terms (terms, yield_to or context terms); "
            "list the context term alone, without its '(near …)' part as watcher match shows it",
        ),
    ],
)
def test_check_config_refuses_a_never_dropped_term_the_topic_does_not_have(tmp_path, entry, says):
    cfg = trained(tmp_path)
    topics = cfg / "topics.toml"
    text = topics.read_text(encoding="utf-8").replace(
        "relevance = 0.5", f"relevance = 0.5\nirrelevant_below = 0.1\n{entry}"
    )
    topics.write_text(text, encoding="utf-8")
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert done.returncode == 1
    assert f"topics.toml: topic 'smuggling': {says}" in done.stderr


def test_check_config_warns_of_never_dropped_without_irrelevant_below(tmp_path):
    cfg = trained(tmp_path)
    topics = cfg / "topics.toml"
    text = topics.read_text(encoding="utf-8").replace("relevance = 0.5", 'relevance = 0.5\nnever_dropped = ["smuggl*"]')
    topics.write_text(text, encoding="utf-8")
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "topic 'smuggling': never_dropped does nothing without irrelevant_below" in done.stdout + done.stderr


def test_a_never_dropped_term_written_with_spaces_still_keeps_its_hit():
    """A term written with spaces around it (" eurosur ") is the same term for never_dropped."""
    kept = veto_matcher(0.01, terms=["border*", " eurosur "], never_dropped=["eurosur"])
    assert [m.topic for m in kept.match_text("Cigarettes spotted by Eurosur")] == ["t"]


def test_explain_lists_a_hit_kept_by_never_dropped():
    """explain_text says which hit a never_dropped term kept from the drop, as a line of its own (KEPT first)."""
    kept = veto_matcher(0.01, terms=["border*", "eurosur"], never_dropped=["eurosur"])
    found, notes = kept.explain_text("Cigarettes spotted by Eurosur")
    assert [m.topic for m in found] == ["t"]
    assert notes == [
        f"{KEPT}t: 'eurosur' kept although the relevance model gives 0.007, below irrelevant_below = 0.01: a term of "
        "never_dropped"
    ]


def test_match_prints_a_hit_kept_by_never_dropped(tmp_path):
    """`watcher match` prints the kept hit as "kept:" (never as "removed:"), and --json gives it under "kept"."""
    root = Path(__file__).resolve().parent.parent
    text = "Ihr Besuchervisum wurde vom Konsulat in Lagos abgelehnt"
    done = run_cli(["--config", str(root / "config"), "match", text], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kept: borders: 'besuchervisum' kept although the relevance model gives" in done.stdout
    assert "removed: borders" not in done.stdout
    done = run_cli(["--config", str(root / "config"), "match", "--json", text], tmp_path)
    body = json.loads(done.stdout)
    assert body["removed"] == [] and body["kept"][0].startswith("borders: 'besuchervisum' kept although")
