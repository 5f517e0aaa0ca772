"""PDF text extraction and the page-1 header of Council documents."""

from datetime import date

import pytest

from tests.fakes import council_pdfs
from watcher.errors import ParseError
from watcher.sources.council.pdf import DocHeader, extract_text, parse_header


def test_pages_are_read_one_string_each():
    """Each PDF page becomes one string, in order."""
    result = extract_text(council_pdfs.make_pdf(["first page", "second (page)", "third \\ page"]))
    assert result.page_count == 3 and not result.truncated
    assert [p.strip() for p in result.pages] == ["first page", "second (page)", "third \\ page"]
    assert "second (page)" in result.text


def test_topic_phrase_is_found_on_page_three_only():
    """In the summary record, "migrant smuggling" is on page 3 and on no earlier page."""
    pages = extract_text(council_pdfs.summary_record_pdf()).pages
    hits = [i + 1 for i, text in enumerate(pages) if "migrant smuggling" in text]
    assert hits == [3]


def test_page_cap_stops_reading_and_says_so():
    """With max_pages, only the first pages are read and the result is marked truncated."""
    result = extract_text(council_pdfs.make_pdf([f"page {n}" for n in range(1, 6)]), max_pages=2)
    assert len(result.pages) == 2 and result.page_count == 5 and result.truncated
    assert result.pages[1].strip() == "page 2"


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body>Document not found</body></html>",
        b"",
        b"%PDF-1.4\n this is not really a pdf at all\n%%EOF",
        council_pdfs.make_pdf(["ok"])[:200],
    ],
)
def test_bad_bytes_raise_parse_error(data):
    """HTML, empty, garbled or truncated bodies raise ParseError, not a library error."""
    with pytest.raises(ParseError):
        extract_text(data)


def test_layout_1_summary_record_header():
    """Header layout 1: date, language, short reference and CRS CRP code in a right-hand column."""
    header = parse_header(extract_text(council_pdfs.summary_record_pdf()).pages[0])
    assert header == DocHeader(
        date=date(2023, 10, 11),
        language="en",
        ref=header.ref,
        marking=None,
        codes=("CRS CRP",),
        doc_type="SUMMARY RECORD",
        type_original="SUMMARY RECORD",
        other_refs=header.other_refs,
        title="Summary record, Permanent Representatives Committee (Part 2), 4 October 2023",
    )
    assert header.ref.canonical == "ST 13217 2023 INIT"
    assert [r.canonical for r in header.other_refs] == ["ST 13000 2023 INIT"]


def test_layout_2_restricted_note_header():
    """Header layout 2: RESTREINT UE marking, MIGR and COASI codes, NOTE, From/To/Subject on one block."""
    header = parse_header(extract_text(council_pdfs.restricted_note_pdf()).pages[0])
    assert header.date == date(2016, 3, 3) and header.language == "en"
    assert header.ref.canonical == "ST 6738 2016 INIT"
    assert header.marking == "RESTREINT UE/EU RESTRICTED"
    assert header.codes == ("MIGR", "COASI")
    assert header.doc_type == "NOTE"
    assert header.originator == "Presidency" and header.addressee == "Delegations"
    assert header.subject == "Follow-up to the Valletta Summit - state of play of the Action Plan"


def test_layout_3_limite_note_header():
    """Header layout 3: interinstitutional file, REV 1 reference, LIMITE, FRONT codes, a two-line subject."""
    header = parse_header(extract_text(council_pdfs.limite_note_pdf()).pages[0])
    assert header.interinstitutional_file == "2018/0330(COD)"
    assert header.ref.canonical == "ST 14860 2018 REV 1"
    assert header.marking == "LIMITE"
    assert header.codes == ("FRONT", "SIRIS", "CODEC", "COMIX")
    assert header.doc_type == "NOTE" and header.date == date(2018, 11, 30)
    assert header.addressee == "Permanent Representatives Committee/Council"
    assert header.subject == (
        "Proposal for a Regulation of the European Parliament and of the Council on the European "
        "Border and Coast Guard and repealing Regulation (EU) 2016/1624"
    )


def test_inline_layout_from_flat_text():
    """The whole header on one line, as flattened text shows it, still parses."""
    header = parse_header(
        "Council of the European Union   Brussels, 3 March 2016 (OR. en)   6738/16 "
        "RESTREINT UE/EU RESTRICTED   MIGR 43  COASI 19   NOTE   From: Presidency  To: Delegations  "
        "Subject: Valletta follow-up"
    )
    assert (header.ref.short, header.codes, header.doc_type) == ("6738/16", ("MIGR", "COASI"), "NOTE")
    assert (header.originator, header.addressee, header.subject) == ("Presidency", "Delegations", "Valletta follow-up")


def test_french_date_and_item_note_type():
    """French dates ("Bruxelles, le 1er mars 2016") and quoted item-note types are read."""
    header = parse_header(
        "Conseil de l'Union europ\u00e9enne\nBruxelles, le 1er mars 2016 (OR. fr)\n14964/18 ADD 1\n"
        "JAI 1234 MIGR 5 CT 12\n\u2018I/A\u2019 ITEM NOTE\nFrom: General Secretariat\nTo: Council\nSubject: Draft"
    )
    assert header.date == date(2016, 3, 1) and header.language == "fr"
    assert header.doc_type == '"I/A" ITEM NOTE'
    assert header.codes == ("JAI", "MIGR", "CT")
    assert header.ref.canonical == "ST 14964 2018 ADD 1"


def test_empty_header_gives_empty_fields():
    """Text without a header gives a DocHeader with nothing set."""
    assert parse_header("Just some body text about a note.") == DocHeader(unread=("date", "ref", "type", "title"))
