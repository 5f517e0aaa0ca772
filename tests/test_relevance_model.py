"""The relevance model: trained deterministically by `watcher train-model`, off unless WATCHER_RELEVANCE_MODEL is on,
then raising a topic the terms did not (never past an exclusion of that topic), with a reason every alert shows;
check-config names a missing, damaged or mismatched weights file and the command that rebuilds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import make_config, run_cli, source_toml
from tests.fakes.feeds import rss
from tests.test_startup_imports import loaded
from watcher.matcher import Matcher, topics_from_toml
from watcher.matcher.model import (
    FORMAT,
    MAX_WORDS,
    Relevance,
    RelevanceModel,
    TopicWeights,
    features,
    load_model,
)
from watcher.models import Alert, Item, model_reason, model_term
from watcher.notifiers.format import alert_html, alert_text

TOPICS = """
[[topic]]
id = "smuggling"
label = "Smuggling"
terms = ["smuggl*"]
exclude = ["cigarette*"]

[[topic]]
id = "borders"
label = "Borders"
terms = ["frontex"]
"""

# Invented cases: passengers hidden in lorries are smuggling (no word of the topic's terms says so); the rest is not.
PLACES = ["Calais", "Trieste", "Dover", "Vienna", "Graz", "Passau", "Bari", "Patras", "Szeged", "Zagreb"]
CASES = "".join(
    f'[[case]]\ntext = "Police find passengers hidden in a lorry near {place}"\ntopics = ["smuggling"]\n\n'
    f'[[case]]\ntext = "Driver held after hidden passengers found in lorry at {place}"\ntopics = ["smuggling"]\n\n'
    f'[[case]]\ntext = "Council adopts fisheries quotas for {place} fleets"\ntopics = []\n\n'
    f'[[case]]\ntext = "New tram line opens in {place} city centre"\ntopics = []\n\n'
    for place in PLACES
)
TEXT = "Customs officers discover hidden passengers in a lorry"


def trained(tmp_path: Path) -> Path:
    """A configuration directory with the topics above and a model trained on the cases by the CLI."""
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "http://127.0.0.1:9/feed.xml"), TOPICS)
    cases = tmp_path / "cases.toml"
    cases.write_text(CASES, encoding="utf-8")
    done = run_cli(["--config", str(cfg), "train-model", "--cases", str(cases)], tmp_path)
    assert done.returncode == 0, done.stderr
    return cfg


def test_training_is_deterministic_and_records_its_cases(tmp_path):
    cfg = trained(tmp_path)
    first = (cfg / "relevance-model.json").read_bytes()
    again = run_cli(
        ["--config", str(cfg), "train-model", "--cases", str(tmp_path / "cases.toml"), "--out", str(tmp_path / "b")],
        tmp_path,
    )
    assert again.returncode == 0
    assert "read 40 cases from cases.toml" in again.stdout and "smuggling (1 of 1)" in again.stdout
    assert (tmp_path / "b").read_bytes() == first  # byte for byte
    data = json.loads(first)
    assert data["format"] == FORMAT and data["threshold"] == 0.5 and data["topic_ids"] == ["smuggling"]
    [record] = data["training"]
    assert record["file"] == "cases.toml" and record["cases"] == 40 and len(record["sha256"]) == 64
    weights = data["topics"]["smuggling"]["weights"]
    assert weights and all(abs(w) >= 0.1 and round(w, 2) == w for w in weights.values())  # pruned and rounded
    help_text = run_cli(["train-model", "--help"], tmp_path).stdout
    assert "--cases" in help_text and "--out" in help_text


def test_a_case_labelled_with_an_unknown_topic_is_refused(tmp_path):
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "http://127.0.0.1:9/feed.xml"), TOPICS)
    (tmp_path / "c.toml").write_text('[[case]]\ntext = "x"\ntopics = ["piracy"]\n', encoding="utf-8")
    done = run_cli(["--config", str(cfg), "train-model", "--cases", str(tmp_path / "c.toml")], tmp_path)
    assert done.returncode == 1
    assert "c.toml: case #1 is labelled 'piracy'" in done.stderr
    assert not (cfg / "relevance-model.json").exists()


def test_inference_names_the_features_that_raised_the_topic(tmp_path):
    model = load_model(trained(tmp_path) / "relevance-model.json", ["smuggling", "borders"])
    score = model.score(TEXT)["smuggling"]
    assert score.probability >= 0.5
    assert 1 <= len(score.top) <= 3
    assert set(score.top) & {"hidden passengers", "hidden", "passengers", "lorry"}
    assert all(not word.endswith("~") for word in score.top)  # a stem is shown as the text's word
    assert model.score("Council adopts fisheries quotas")["smuggling"].probability < 0.5


def test_the_model_reads_only_the_first_words_of_title_and_summary():
    model = RelevanceModel({"t": TopicWeights(-1.0, {"lorry": 3.0})})
    item_text = Relevance.text_of("Report", " ".join(["word"] * MAX_WORDS) + " lorry")
    assert model.score(item_text)["t"].probability < 0.5  # "lorry" is past the cap
    assert "lorry" not in features(" ".join(["word"] * MAX_WORDS) + " lorry")
    topics, errors, _ = topics_from_toml({"topic": [{"id": "t", "label": "T", "terms": ["frontex"]}]})
    matcher = Matcher(topics, relevance=Relevance(model, 0.5))
    # The body is never read, however long: the same item without it gets the same answer.
    long_body = Item("s", "1", "Report", "u", body="lorry " * 5000)
    assert matcher.match(long_body) == []
    assert matcher.match(Item("s", "2", "Lorry report", "u"))[0].terms[0].startswith("relevance model 0.88 on: lorry")


def test_off_by_default_on_with_the_setting(tmp_path):
    cfg = trained(tmp_path)
    off = run_cli(["--config", str(cfg), "match", TEXT], tmp_path)
    assert off.returncode == 1 and "no topic matched" in off.stdout
    on = run_cli(["--config", str(cfg), "match", TEXT], tmp_path, WATCHER_RELEVANCE_MODEL="1")
    assert on.returncode == 0, on.stderr
    line = on.stdout.splitlines()[0]
    assert line.startswith("smuggling: relevance model 0.") and " on: " in line
    as_json = run_cli(["--config", str(cfg), "match", "--json", TEXT], tmp_path, WATCHER_RELEVANCE_MODEL="1")
    [match] = json.loads(as_json.stdout)["matches"]
    assert match["topic"] == "smuggling" and match["field"] == "model"
    assert model_reason(match["terms"][0]) is not None
    # A threshold above what the model gives turns the hit off again.
    high = run_cli(
        ["--config", str(cfg), "match", TEXT],
        tmp_path,
        WATCHER_RELEVANCE_MODEL="1",
        WATCHER_RELEVANCE_THRESHOLD="0.999",
    )
    assert high.returncode == 1


def test_a_topic_raised_by_its_terms_keeps_its_terms(tmp_path):
    cfg = trained(tmp_path)
    done = run_cli(["--config", str(cfg), "match", TEXT + " smuggling"], tmp_path, WATCHER_RELEVANCE_MODEL="1")
    assert done.stdout.splitlines()[0] == "smuggling: smuggl*"


def test_an_exclusion_of_the_topic_blocks_a_model_hit(tmp_path):
    cfg = trained(tmp_path)
    text = TEXT + " with cigarettes"
    assert run_cli(["--config", str(cfg), "match", text], tmp_path, WATCHER_RELEVANCE_MODEL="1").returncode == 1
    explained = run_cli(["--config", str(cfg), "match", text], tmp_path, WATCHER_RELEVANCE_MODEL="1").stdout
    assert "removed: smuggling: relevance model 0." in explained and "'cigarette*'" in explained


def test_a_model_hit_goes_through_the_store_to_the_alert(tmp_path, feed_server):
    """`watcher once` with the model on: the first poll records, the second alerts on the console with the reason;
    the same poll with the model off flags nothing."""
    cfg = trained(tmp_path)
    feed = feed_server.url("/feed.xml")
    (cfg / "sources.toml").write_text('[http]\nper_host_interval = "0s"\n\n' + source_toml("feed", feed), "utf-8")
    first = {"title": "Council adopts fisheries quotas", "link": "https://e.org/1", "guid": "1"}
    feed_server.set("/feed.xml", rss([first]))
    assert run_cli(["--config", str(cfg), "once"], tmp_path, WATCHER_RELEVANCE_MODEL="1").returncode == 0
    feed_server.set("/feed.xml", rss([first, {"title": TEXT, "link": "https://e.org/2", "guid": "2"}]))
    off = run_cli(["--config", str(cfg), "once", "--dry-run", "--json"], tmp_path)
    assert off.stdout == ""
    on = run_cli(["--config", str(cfg), "once"], tmp_path, WATCHER_RELEVANCE_MODEL="1")
    assert "1 new, 1 flagged" in on.stdout, on.stdout + on.stderr
    assert "=== ALERT ===" in on.stderr and "Matched: relevance model 0." in on.stderr


def test_the_alert_shows_the_models_reason_escaped():
    term = model_term(0.834, ("<b>hidden</b> & passengers", "lorry"))
    assert term == "relevance model 0.83 on: <b>hidden</b> & passengers, lorry"
    alert = Alert(
        1, 1, "telegram", "1", "s", "x", "Lorry found", "https://e.org", None, ("smuggling", "borders"),
        ("frontex", term), words=("Frontex",),
    )  # fmt: skip
    html_text = alert_html(alert, {"smuggling": "Smuggling"})
    assert "Matched: “Frontex” · relevance model 0.83 on: &lt;b&gt;hidden&lt;/b&gt; &amp; passengers, lorry" in (
        html_text
    )
    assert "<b>hidden</b>" not in html_text
    assert "relevance model 0.83 on: <b>hidden</b> & passengers, lorry" in alert_text(alert, {})
    french = alert_html(Alert(**{**alert.__dict__, "language": "fr", "words": ()}), {})
    assert "modèle de pertinence 0.83 sur : &lt;b&gt;" in french and "“frontex”" in french


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (None, "relevance model file not found"),
        (lambda text: text[:100], "not a relevance model file (not valid JSON"),
        (lambda text: text.replace('"format": 1', '"format": 99'), "format version 99, this watcher reads version 1"),
        (lambda text: text.replace('"smuggling":', '"piracy":'), "topic 'piracy' is not in topics.toml"),
    ],
)
def test_check_config_names_a_bad_model_file_and_the_fix(tmp_path, damage, says):
    cfg = trained(tmp_path)
    path = cfg / "relevance-model.json"
    if damage is None:
        path.unlink()
    else:
        path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    assert run_cli(["--config", str(cfg), "check-config"], tmp_path).returncode == 0  # off: the file is not read
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path, WATCHER_RELEVANCE_MODEL="1")
    assert done.returncode == 1
    assert f"error: {path}: {says}" in done.stderr
    assert f"watcher train-model --cases tests/data/topic-cases.*.toml --out {path}" in done.stderr
    match = run_cli(["--config", str(cfg), "match", TEXT], tmp_path, WATCHER_RELEVANCE_MODEL="1")
    assert match.returncode == 2 and says in match.stderr


def test_a_bad_setting_is_an_error_naming_the_variable(tmp_path):
    cfg = trained(tmp_path)
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path, WATCHER_RELEVANCE_THRESHOLD="1.5")
    assert done.returncode == 1 and "WATCHER_RELEVANCE_THRESHOLD: '1.5' is not a probability" in done.stderr
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path, WATCHER_RELEVANCE_MODEL="maybe")
    assert done.returncode == 1 and "WATCHER_RELEVANCE_MODEL: 'maybe' is not understood" in done.stderr


def test_the_shipped_model_fits_the_shipped_topics():
    root = Path(__file__).resolve().parent.parent
    model = load_model(root / "config" / "relevance-model.json", ["smuggling", "borders", "migration", "policing"])
    assert list(model.topics) == ["smuggling", "borders", "migration", "policing"]
    names = {record["file"] for record in model.training}
    assert names == {path.name for path in (root / "tests" / "data").glob("topic-cases.*.toml")}


def test_match_loads_no_model_code_when_it_is_off(tmp_path):
    code, modules = loaded(tmp_path, "match", "migrant smuggling networks")
    assert code == 0 and "watcher.matcher.model" not in modules
