"""The Council header reader gets every header in tests/data/council/headers exactly right (the fields and
conventions of expected.toml), through the reader and through `watcher parse --kind council-pdf --json` on PDFs
laid out from the same text; identity follows the probed or listed reference; unreadable fields stay empty."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

import pytest

from tests.fakes import council_pdfs
from watcher import cli
from watcher.errors import ParseError
from watcher.sources.council.document import identity, item_from_pdf, read_pdf
from watcher.sources.council.header import MAX_HEADER_CHARS, DocHeader, read_header
from watcher.sources.council.refs import DocRef, parse_ref
from watcher.sources.council_pdf import pdf_items

HEADERS = Path(__file__).resolve().parent / "data" / "council" / "headers"
ENTRIES = tomllib.loads((HEADERS / "expected.toml").read_text(encoding="utf-8"))["header"]
BY_FILE = {e["file"]: e for e in ENTRIES}
FIELDS = (
    "id",
    "date",
    "type",
    "type_original",
    "title",
    "sender",
    "recipient",
    "codes",
    "procedures",
    "marking",
    "other_refs",
)
# Two headers per language, laid into PDFs and read through the command line; they cover the flattened and
# multi-line layouts, labels before values, a cover note, an old layout with a probed reference and a stamp.
PDF_SUBSET = (
    "real/02-ST-14860-2018-REV-1.txt",
    "real/06-ST-12202-2012-INIT-old-layout.txt",
    "constructed/en-03-cover-note-swd-add1.txt",
    "constructed/en-05-ia-item-note-curly-quotes-prev-doc-codes.txt",
    "constructed/fr-02-note-de-transmission-com754.txt",
    "constructed/fr-06-old-layout-number-lost-probed.txt",
    "constructed/fr-03-resultats-flattened-labels-first.txt",
    "real/09-ST-5907-2021-INIT-de.txt",
    "constructed/de-05-stamp-ia-punkt-vermerk.txt",
    "constructed/de-06-einladung-cm-codes-without-numbers.txt",
)


def header_text(entry: dict) -> str:
    """The file's page-1 text without its leading '# ' provenance lines."""
    lines = (HEADERS / entry["file"]).read_text(encoding="utf-8").splitlines()
    while lines and lines[0].startswith("# "):
        lines.pop(0)
    return "\n".join(lines)


def fold(title: str) -> str:
    return " ".join(title.split()).casefold()


def expected(entry: dict) -> dict:
    return {name: fold(entry[name]) if name == "title" else entry[name] for name in FIELDS}


def probed(entry: dict) -> DocRef | None:
    return parse_ref(entry["probed"]) if "probed" in entry else None


def observed(header: DocHeader, given: DocRef | None) -> dict:
    """The header's fields in expected.toml's terms, with the identity rule applied."""
    ref = identity(given, header)
    return {
        "id": ref.canonical if ref else "",
        "date": header.date.isoformat() if header.date else "",
        "type": header.doc_type or "",
        "type_original": header.type_original or "",
        "title": fold(header.title or ""),
        "sender": header.originator or "",
        "recipient": header.addressee or "",
        "codes": list(header.codes),
        "procedures": list(header.interinstitutional_files),
        "marking": header.marking or "",
        "other_refs": [r.canonical for r in header.other_refs if r != ref],
    }


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_every_header_is_read_exactly(entry):
    """Each header file gives exactly the expected id, date, types, title, parties, codes, procedures, marking
    and other documents' references."""
    assert observed(read_header(header_text(entry)), probed(entry)) == expected(entry)


@pytest.fixture
def parse_json(tmp_path):
    """Runs `watcher parse --kind council-pdf FILE --json` in-process and returns its one JSON record."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def run(path: Path, capsys) -> dict:
        code = cli.main(
            ["--config", str(tmp_path / "no-config"), "parse", "--kind", "council-pdf", "--json", str(path)]
        )
        out = capsys.readouterr().out
        assert code == 0, out
        [line] = [line for line in out.splitlines() if line.strip()]
        return json.loads(line)

    yield run
    root.handlers[:], root.level = handlers, level


def record_fields(record: dict) -> dict:
    """A `parse --json` record in expected.toml's terms."""
    return {
        "id": record["id"],
        "date": (record["published"] or "")[:10],
        "type": record["doc_type"],
        "type_original": record.get("type_original", ""),
        "title": fold(record["title"]),
        "sender": record.get("originator", ""),
        "recipient": record.get("addressee", ""),
        "codes": record["subjects"],
        "procedures": record.get("procedures", []),
        "marking": record.get("marking", ""),
        "other_refs": record.get("other_refs", []),
    }


@pytest.mark.parametrize("name", PDF_SUBSET)
def test_header_laid_into_a_pdf_reads_the_same_through_the_command(name, tmp_path, parse_json, capsys):
    """A PDF with the header's text gives the same fields through `watcher parse --json`; a probed reference is
    given as the file's name, as a saved download would be named."""
    entry = BY_FILE[name]
    path = tmp_path / (f"{entry['probed'].replace(' ', '-')}.pdf" if "probed" in entry else "download.pdf")
    path.write_bytes(council_pdfs.make_pdf([header_text(entry)]))
    assert record_fields(parse_json(path, capsys)) == expected(entry)


def test_the_pdf_subset_has_two_headers_per_language():
    """The command-line subset keeps at least two headers in each of English, French and German."""
    langs = [BY_FILE[name]["lang"] for name in PDF_SUBSET]
    assert all(langs.count(lang) >= 2 for lang in ("en", "fr", "de"))


def test_a_header_naming_another_reference_is_logged_and_not_adopted(caplog):
    """The probed reference stays the id when the header prints another one, and the mismatch is logged."""
    header = read_header(header_text(BY_FILE["constructed/en-05-ia-item-note-curly-quotes-prev-doc-codes.txt"]))
    probe = DocRef("ST", 15200, 2016)
    with caplog.at_level(logging.WARNING):
        item = item_from_pdf(
            "docs",
            probe,
            probe.pdf_url(),
            read_pdf(
                council_pdfs.make_pdf(
                    [header_text(BY_FILE["constructed/en-05-ia-item-note-curly-quotes-prev-doc-codes.txt"])]
                )
            ),
        )
    assert header.ref == DocRef("ST", 15119, 2016) and item.id == "ST 15200 2016 INIT"
    assert item.extra["header_ref"] == "ST 15119 2016 INIT"
    assert "names ST 15119 2016 INIT in its header; keeping ST 15200 2016 INIT" in caplog.text


def test_a_reference_from_a_list_of_other_documents_never_becomes_the_id():
    """An old layout that lost its own number gives no id, though it prints other documents' references."""
    text = header_text(BY_FILE["constructed/en-07-old-layout-own-number-lost.txt"])
    header = read_header(text)
    assert header.ref is None and "ref" in header.unread
    assert [r.canonical for r in header.other_refs] == ["ST 14018 2011 INIT", "ST 12412 2011 INIT"]
    with pytest.raises(ParseError, match="name the file after it"):
        pdf_items(council_pdfs.make_pdf([text]), "parse")


def test_the_listed_url_is_the_identity_over_the_header():
    """A PDF parsed with the URL it was listed at takes that URL's reference, not the header's."""
    text = header_text(BY_FILE["constructed/de-03-beratungsergebnisse-values-before-labels.txt"])
    url = "https://data.consilium.europa.eu/doc/document/ST-11020-2022-REV-1/de/pdf"
    [item] = pdf_items(council_pdfs.make_pdf([text]), "parse", url=url)
    assert item.id == "ST 11020 2022 REV 1" and item.extra["header_ref"] == "ST 11020 2022 INIT"
    assert item.extra["other_refs"] == ["ST 10215 2022 INIT", "ST 10215 2022 COR 1", "CM 3702 2022 INIT"]


@pytest.mark.parametrize(
    "name,unread",
    [
        ("constructed/en-11-subject-unreadable.txt", ("title",)),
        ("constructed/fr-09-rapport-cor1-date-unreadable.txt", ("date",)),
        ("constructed/de-09-flattened-date-missing.txt", ("date",)),
        ("real/06-ST-12202-2012-INIT-old-layout.txt", ("date", "ref")),
        ("constructed/en-02-cover-note-flattened-labels-first.txt", ()),
    ],
)
def test_fields_that_cannot_be_read_are_named(name, unread):
    """A field the text does not give in full is empty and listed in ``unread``; the others are not listed."""
    assert read_header(header_text(BY_FILE[name])).unread == unread


def test_an_item_without_a_readable_subject_is_titled_by_type_and_reference():
    """An unreadable subject leaves the header's title empty; the item says what it is instead of body text."""
    doc = read_pdf(council_pdfs.make_pdf([header_text(BY_FILE["constructed/en-11-subject-unreadable.txt"])]))
    item = item_from_pdf("docs", DocRef("ST", 8304, 2023), "https://example.org/x", doc)
    assert doc.header.title is None and item.title == "NOTE 8304/23" and item.extra["unread"] == ["title"]


def test_only_the_capped_prefix_of_a_page_is_read():
    """Text past the cap is not read, so a long page costs no more than the cap."""
    header = header_text(BY_FILE["constructed/en-10-report-cor1.txt"])
    assert read_header(header).doc_type == "REPORT"
    late = read_header("x" * MAX_HEADER_CHARS + "\n" + header)
    assert late.doc_type is None and late.ref is None and late.date is None


def test_a_hostile_page_is_read_in_bounded_work():
    """Pages built of labels, references and list parts are read to the end of the cap without error."""
    for page in (
        "From: To: Subject: " * 5000,
        "12345/23 + ADD 1 " * 5000,
        "NOTE " + "MIGR 12 " * 5000,
        "Brussels, " * 5000,
        "NOTE From: To: No. prev. doc.: Subject: " + "1234/23 ASILE 26 " * 5000,
    ):
        assert isinstance(read_header(page), DocHeader)


def test_a_header_naming_another_version_of_the_same_document_is_noted_quietly(caplog):
    """A header printing another version of the probed document is logged at info level, not as a warning."""
    header = read_header(header_text(BY_FILE["constructed/en-10-report-cor1.txt"]))
    with caplog.at_level(logging.INFO):
        ref = identity(DocRef("ST", 9511, 2023, (("COR", 1), ("EXT", 1))), header)
    assert ref.canonical == "ST 9511 2023 COR 1 EXT 1"
    [record] = [r for r in caplog.records if "names ST 9511 2023 COR 1" in r.getMessage()]
    assert record.levelno == logging.INFO
