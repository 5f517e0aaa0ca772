"""`watcher once` with the Council kinds, as a user runs it: the CLI, a local server, a real database."""

from __future__ import annotations

import json

from tests.conftest import make_config, run_cli, source_toml
from tests.fakes.council import HTML_HEADERS, PDF_HEADERS, page
from tests.test_council_documents_source import note, pdf_path
from tests.test_parse_command import TOPICS


def test_blocked_register_is_reported_as_blocked(tmp_path, feed_server):
    """A challenge page makes `once` exit 1 and report the source as blocked by bot protection."""
    feed_server.set("/search/", page("challenge.html"), headers=HTML_HEADERS)
    config = make_config(
        tmp_path / "cfg", source_toml("register", feed_server.url("/search/"), kind="council-register"), TOPICS
    )
    done = run_cli(["--config", str(config), "once", "--json"], tmp_path)
    assert done.returncode == 1
    [failure] = [json.loads(line) for line in done.stdout.splitlines()]
    assert failure["source"] == "register" and failure["failure"] == "blocked"
    assert failure["detail"].startswith("blocked by bot protection")


def test_gap_turning_public_is_delivered_as_now_public(tmp_path, feed_server):
    """Across three `once` runs, a document that appears at a watched gap is delivered with "Now public"."""
    year = 2026
    for number, subject in ((1, "Budget"), (3, "Fisheries")):
        feed_server.set(pdf_path(number, year), note(subject, number), headers=PDF_HEADERS)
    entry = source_toml(
        "docs",
        feed_server.url("/doc/document"),
        kind="council-documents",
        year=year,
        window=3,
        lookahead=6,
        backlog_age="100000d",
    )
    config = make_config(tmp_path / "cfg", entry, TOPICS)
    first = run_cli(["--config", str(config), "once"], tmp_path)
    assert first.returncode == 0 and "first poll" in first.stdout
    feed_server.set(
        pdf_path(2, year), note("Migrant smuggling along the Central Mediterranean route", 2), headers=PDF_HEADERS
    )
    second = run_cli(["--config", str(config), "once", "--json"], tmp_path)
    assert second.returncode == 0, second.stderr
    [flagged] = [json.loads(line) for line in second.stdout.splitlines()]
    assert (flagged["id"], flagged["event"], flagged["topics"]) == ("ST 2 2026 INIT", "public", ["smuggling"])
    assert "Now public: Migrant smuggling along the Central Mediterranean route" in second.stderr
    third = run_cli(["--config", str(config), "once"], tmp_path)
    assert "0 new, 0 flagged" in third.stdout and "Now public" not in third.stderr
