"""`watcher match` for scripts and maintainers: exit 0 when a topic matched, 1 when none did, 2 on a bad input;
and it says which hits an exclusion or a missing context removed."""

from __future__ import annotations

import json

from tests.conftest import make_config, source_toml
from watcher.cli import main

TOPICS = """
[[topic]]
id = "migration"
label = "Migration"
terms = ["asylum"]
exclude = ["asylum seekers' library"]

[[topic.context]]
terms = ["return*"]
near = ["migrant*", "Frontex"]
unless = ["species"]
within = 5
"""


def run(tmp_path, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "http://127.0.0.1:9/feed.xml"), TOPICS)
    monkeypatch.setenv("WATCHER_DATA_DIR", str(tmp_path / "data"))
    code = main(["--config", str(cfg), "match", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_exit_codes(tmp_path, monkeypatch, capsys):
    """0 when a topic matched, 1 when none did, 2 when the file cannot be read."""
    assert run(tmp_path, monkeypatch, capsys, "Frontex", "return", "flights")[0] == 0
    assert run(tmp_path, monkeypatch, capsys, "fisheries", "quotas")[0] == 1
    assert run(tmp_path, monkeypatch, capsys, "--file", str(tmp_path / "nope.txt"))[0] == 2


def test_a_broken_topics_file_is_not_no_match(tmp_path, monkeypatch, capsys):
    """topics.toml that does not load exits 2, with its problems, so a script never reads it as "no topic matched";
    sources.toml is not read at all."""
    cfg = make_config(tmp_path / "cfg", "this is not [[toml", '[topic]\nid = "x"\n')
    monkeypatch.setenv("WATCHER_DATA_DIR", str(tmp_path / "data"))
    code = main(["--config", str(cfg), "match", "asylum"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"error: {cfg / 'topics.toml'}: 'topic' must be written [[topic]]" in err and "sources.toml" not in err


def test_removed_hits_are_listed(tmp_path, monkeypatch, capsys):
    """An exclusion and a missing or cancelling context each get a 'removed:' line naming the term and why."""
    code, out, _ = run(tmp_path, monkeypatch, capsys, "Annual returns rose; the asylum seekers' library opened")
    assert code == 1
    assert "removed: migration: 'asylum' removed by the exclusion \"asylum seekers' library\"" in out
    assert (
        "removed: migration: 'return*' found but not counted: it needs one of migrant*, Frontex within 5 "
        "words and none of species within 5 words" in out
    )
    code, out, _ = run(tmp_path, monkeypatch, capsys, "--json", "Frontex counted the species' return")
    assert code == 1 and json.loads(out)["removed"][0].startswith("migration: 'return*' found but not counted")


def test_context_evidence_in_the_match(tmp_path, monkeypatch, capsys):
    """The evidence of a context term names the near term that made it count."""
    code, out, _ = run(tmp_path, monkeypatch, capsys, "--json", "Frontex supported return operations")
    assert code == 0 and json.loads(out)["terms"] == ["return* (near Frontex)"]


def test_a_cancelled_hit_names_the_markers_the_text_has(tmp_path, monkeypatch, capsys):
    """A sense marker that cancels a hit is named as found in the text, and a long list of markers is cut short,
    so the line says why without printing every marker of the rule."""
    markers = [f"marker{i}" for i in range(12)] + ["species"]
    topics = (
        '[[topic]]\nid = "migration"\nlabel = "Migration"\nterms = ["asylum"]\n\n'
        f'[[topic.context]]\nterms = ["migrat*"]\nunless = {json.dumps(markers)}\nwithin = 5\n'
    )
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "http://127.0.0.1:9/feed.xml"), topics)
    monkeypatch.setenv("WATCHER_DATA_DIR", str(tmp_path / "data"))
    code = main(["--config", str(cfg), "match", "the migration of species"])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "removed: migration: 'migrat*' found but not counted: it needs none of marker0, marker1, marker2, marker3, "
        "marker4, marker5, marker6, marker7 (and 5 more) within 5 words (the text has 'species')" in out
    )
    assert "marker11" not in out
