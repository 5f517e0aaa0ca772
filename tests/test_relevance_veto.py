"""``irrelevant_below``: the relevance model drops a hit of a topic's terms that it finds in the title and summary
alone when it gives the topic less than that probability; hits in the body and from subject codes stay; `watcher
match` says what it removed; check-config refuses a value that is no probability or not below ``relevance``."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.conftest import run_cli
from tests.test_relevance_model import TEXT, lorry_model, trained
from watcher.matcher import Matcher, topics_from_toml
from watcher.matcher.model import Relevance, RelevanceModel, TopicWeights
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
