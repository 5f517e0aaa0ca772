"""Maintainer tools on the command line: `watcher match` in its forms and `watcher replay` after a topic edit."""

from __future__ import annotations

import json

from tests.conftest import make_config, run_cli, source_toml
from watcher.models import Item, Match
from watcher.store.sqlite import Store

TOPICS = """
[[topic]]
id = "smuggling"
label = "Migrant smuggling"
terms = ["migrant smuggling"]
exclude = []

[[topic]]
id = "borders"
label = "Borders"
terms = ["frontex"]
exclude = []
"""
SOURCES = source_toml("feed", "http://127.0.0.1:9/feed.xml")


def test_match_text_json_file_and_each_line(tmp_path):
    """`watcher match` reads arguments, --file and standard input; --each-line gives one JSON result per line."""
    cfg = make_config(tmp_path / "cfg", SOURCES, TOPICS)
    plain = run_cli(["--config", str(cfg), "match", "Fighting", "migrant", "smuggling"], tmp_path)
    assert plain.returncode == 0 and "smuggling: migrant smuggling" in plain.stdout
    (tmp_path / "t.txt").write_text("Frontex annual risk analysis")
    as_json = run_cli(["--config", str(cfg), "match", "--json", "--file", str(tmp_path / "t.txt")], tmp_path)
    assert json.loads(as_json.stdout)["topics"] == ["borders"]
    lines = run_cli(
        ["--config", str(cfg), "match", "--each-line"],
        tmp_path,
        input="Frontex deploys\nnothing here\n\nmigrant smuggling at Frontex\n",
    )
    results = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [r["topics"] for r in results] == [["borders"], [], ["smuggling", "borders"]]
    assert results[2]["terms"] == ["migrant smuggling", "frontex"]
    none = run_cli(["--config", str(cfg), "match", "fisheries quotas"], tmp_path)
    assert "no topic matched" in none.stdout
    missing = run_cli(["--config", str(cfg), "match", "--file", str(tmp_path / "nope.txt")], tmp_path)
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_replay_shows_the_difference_after_a_topic_edit(tmp_path):
    """After adding a term and removing another, replay lists the items gained (+) and lost (-), and writes
    nothing."""
    store = Store(tmp_path / "data" / "watcher.db")
    items = [
        Item("feed", "1", "Frontex and the external borders", "https://e.org/1"),
        Item("feed", "2", "Council acts on migrant smuggling", "https://e.org/2"),
        Item("feed", "3", "Schengen evaluation of Greece", "https://e.org/3"),
    ]
    store.record_poll(
        "feed",
        items,
        {("feed", "1"): [Match("borders", ("frontex",))], ("feed", "2"): [Match("smuggling", ("migrant smuggling",))]},
    )
    store.close()
    cfg = make_config(tmp_path / "cfg", SOURCES, TOPICS)
    same = run_cli(["--config", str(cfg), "replay"], tmp_path)
    assert same.returncode == 0 and "3 stored items replayed: 0 would now be flagged" in same.stdout
    edited = TOPICS.replace('terms = ["frontex"]', 'terms = ["schengen"]')
    cfg2 = make_config(tmp_path / "cfg2", SOURCES, edited)
    text = run_cli(["--config", str(cfg2), "replay"], tmp_path).stdout
    assert "+ [borders] feed: Schengen evaluation of Greece" in text
    assert "- [borders] feed: Frontex and the external borders" in text
    out = run_cli(["--config", str(cfg2), "replay", "--json"], tmp_path).stdout
    rows = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert rows["3"]["gained"] == ["borders"] and rows["3"]["terms"] == ["schengen"]
    assert rows["1"]["lost"] == ["borders"] and rows["1"]["topics"] == []
    assert "2" not in rows
    again = run_cli(["--config", str(cfg2), "replay"], tmp_path).stdout
    assert "+ [borders] feed: Schengen" in again  # nothing was written by the earlier replay
    future = run_cli(["--config", str(cfg2), "replay", "--since", "2999-01-01"], tmp_path).stdout
    assert "0 stored items replayed" in future
    bad = run_cli(["--config", str(cfg2), "replay", "--since", "yesterday"], tmp_path)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
