"""`watcher parse`: the items a saved feed, register page or PDF yields, as a user runs it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DATA, make_config, run_cli
from tests.fakes import council_pdfs
from tests.fakes.council import TOPICS_TOML
from tests.test_council_register import EXPECTED

TOPICS = "\n".join(
    f'[[topic]]\nid = "{t["id"]}"\nlabel = "{t["label"]}"\nterms = {json.dumps(t["terms"])}\nexclude = []\n'
    for t in TOPICS_TOML["topic"]
)


def parse(tmp_path, *args: str):
    config = make_config(
        tmp_path / "config", '[[source]]\nname = "x"\nkind = "rss"\nurl = "https://e.org/"\nevery = "1h"\n', TOPICS
    )
    return run_cli(["--config", str(config), "parse", *args], tmp_path)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_register_page_as_json(tmp_path):
    """The results page gives 13 items keyed by canonical reference, with type, subjects, public flag and topics."""
    done = parse(tmp_path, "--kind", "council-register", "--json", str(DATA / "council" / "register-results.html"))
    assert done.returncode == 0, done.stderr
    items = records(done.stdout)
    assert [i["id"] for i in items] == list(EXPECTED)
    first = items[0]
    assert {k: first[k] for k in ("doc_type", "subjects", "public", "published")} == {
        "doc_type": "NOTE",
        "subjects": ["FRONT", "SIRIS", "CODEC", "COMIX"],
        "public": True,
        "published": "2023-11-30T00:00:00+00:00",
    }
    assert first["url"].endswith("/ST-14860-2023-REV-1/en/pdf") and first["topics"] == ["borders"]
    assert "13 items" in done.stderr


def test_latest_listing_in_text(tmp_path):
    """The listing page prints one block per document with its facts."""
    done = parse(tmp_path, "--kind", "council-register", str(DATA / "council" / "latest.html"))
    assert done.returncode == 0
    assert "WK 16100 2023 INIT  (2023-12-04; INFORMATION; not public)" in done.stdout
    assert "topics: smuggling" in done.stdout


def test_challenge_page_exits_non_zero_and_says_blocked(tmp_path):
    """A saved challenge page is refused with "blocked by bot protection", whatever kind it is parsed as."""
    for kind in ("council-register", "rss"):
        done = parse(tmp_path, "--kind", kind, str(DATA / "council" / "challenge.html"))
        assert done.returncode == 1 and "blocked by bot protection" in done.stderr and done.stdout == ""


@pytest.mark.parametrize("kind", ["council-pdf", "council-documents"])
def test_pdf_with_page_of_the_body_match(tmp_path, kind):
    """A saved PDF gives one item with its header facts, and a body match names its page."""
    path = tmp_path / "record.pdf"
    path.write_bytes(council_pdfs.summary_record_pdf())
    done = parse(tmp_path, "--kind", kind, "--json", str(path))
    assert done.returncode == 0, done.stderr
    [item] = records(done.stdout)
    assert (item["id"], item["doc_type"], item["subjects"], item["public"]) == (
        "ST 13217 2023 INIT",
        "SUMMARY RECORD",
        ["CRS CRP"],
        True,
    )
    assert item["topics"] == ["smuggling"] and item["snippets"][0].startswith("p. 3: ")


def test_pdf_reference_from_the_file_name(tmp_path):
    """Without a reference in the header, the file name gives it; without either, the command says what to do."""
    page = "Some text about external borders without any header."
    named = tmp_path / "ST-4321-2026-REV-1.pdf"
    named.write_bytes(council_pdfs.make_pdf([page]))
    done = parse(tmp_path, "--kind", "council-pdf", "--json", str(named))
    assert done.returncode == 0 and records(done.stdout)[0]["id"] == "ST 4321 2026 REV 1"
    anonymous = tmp_path / "download.pdf"
    anonymous.write_bytes(council_pdfs.make_pdf([page]))
    refused = parse(tmp_path, "--kind", "council-pdf", str(anonymous))
    assert refused.returncode == 1 and "name the file after it" in refused.stderr


def test_feed_and_broken_files(tmp_path):
    """A real feed parses; a register page with unknown markup and a non-PDF given as PDF exit 1 with the reason."""
    feed = parse(tmp_path, "--kind", "rss", "--json", str(DATA / "ep-thinktank-rss-2026-09-15.xml"))
    assert feed.returncode == 0 and len(records(feed.stdout)) == 25
    assert {"id", "title", "url", "published"} <= set(records(feed.stdout)[0])
    odd = tmp_path / "odd.html"
    odd.write_text("<html><body><h1>Maintenance</h1></body></html>")
    page = parse(tmp_path, "--kind", "council-register", str(odd))
    assert page.returncode == 1 and "not a register page" in page.stderr
    pdf = parse(tmp_path, "--kind", "council-pdf", str(odd))
    assert pdf.returncode == 1 and "not a PDF" in pdf.stderr
    missing = parse(tmp_path, "--kind", "rss", str(tmp_path / "nope.xml"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_the_kinds_offered_are_the_kinds_parsed():
    """`--kind`'s choices are written out in the CLI (so --help loads no source kind); they are the parser's kinds."""
    from watcher import cli  # loaded late: as in run_cli
    from watcher.commands.parse import KINDS  # loaded late: as in run_cli

    assert cli.PARSE_KINDS == KINDS
