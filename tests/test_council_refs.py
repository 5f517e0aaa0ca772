"""Council document references: parsing, printing and ordering."""

import pytest

from watcher.sources.council.refs import DocRef, RefError, find_refs, leading_ref, parse_ref

# (text, canonical, short, pdf_id)
FORMS = [
    ("ST 13589 2023 INIT", "ST 13589 2023 INIT", "13589/23", "ST-13589-2023-INIT"),
    ("13589/23", "ST 13589 2023 INIT", "13589/23", "ST-13589-2023-INIT"),
    ("14860/1/18 REV 1", "ST 14860 2018 REV 1", "14860/1/18 REV 1", "ST-14860-2018-REV-1"),
    ("ST-13589-2023-REV-1", "ST 13589 2023 REV 1", "13589/1/23 REV 1", "ST-13589-2023-REV-1"),
    ("ST_15454_2016_INIT", "ST 15454 2016 INIT", "15454/16", "ST-15454-2016-INIT"),
    ("consil:ST_15454_2016_INIT", "ST 15454 2016 INIT", "15454/16", "ST-15454-2016-INIT"),
    ("ST 14964 2018 ADD 1", "ST 14964 2018 ADD 1", "14964/18 ADD 1", "ST-14964-2018-ADD-1"),
    ("ST 14964 2018 ADD 1 REV 2", "ST 14964 2018 ADD 1 REV 2", "14964/2/18 ADD 1 REV 2", "ST-14964-2018-ADD-1-REV-2"),
    ("14964/2/18 ADD 1 REV 2", "ST 14964 2018 ADD 1 REV 2", "14964/2/18 ADD 1 REV 2", "ST-14964-2018-ADD-1-REV-2"),
    ("ST 9620 2019 COR 1", "ST 9620 2019 COR 1", "9620/19 COR 1", "ST-9620-2019-COR-1"),
    ("ST 6738 2016 EXT 1", "ST 6738 2016 EXT 1", "6738/16 EXT 1", "ST-6738-2016-EXT-1"),
    ("WK 9054 2026 INIT", "WK 9054 2026 INIT", "WK 9054/26", "WK-9054-2026-INIT"),
    ("WK 9054/26", "WK 9054 2026 INIT", "WK 9054/26", "WK-9054-2026-INIT"),
    ("CM 5432 2023 INIT", "CM 5432 2023 INIT", "CM 5432/23", "CM-5432-2023-INIT"),
    ("PE-100-2023-REV-1", "PE 100 2023 REV 1", "PE-CONS 100/1/23 REV 1", "PE-100-2023-REV-1"),
    ("PE-CONS 23/19", "PE 23 2019 INIT", "PE-CONS 23/19", "PE-23-2019-INIT"),
    ("SN 4567 2023 INIT", "SN 4567 2023 INIT", "SN 4567/23", "SN-4567-2023-INIT"),
    ("  st 13589 2023 rev 1 ", "ST 13589 2023 REV 1", "13589/1/23 REV 1", "ST-13589-2023-REV-1"),
    ("ST 13589 2023", "ST 13589 2023 INIT", "13589/23", "ST-13589-2023-INIT"),
    (
        "https://data.consilium.europa.eu/doc/document/ST-13589-2023-INIT/en/pdf",
        "ST 13589 2023 INIT",
        "13589/23",
        "ST-13589-2023-INIT",
    ),
]


@pytest.mark.parametrize("text,canonical,short,pdf_id", FORMS)
def test_every_form_parses_to_its_canonical_reference(text, canonical, short, pdf_id):
    """Each accepted form gives the expected canonical, short and PDF-id spellings."""
    ref = parse_ref(text)
    assert (ref.canonical, ref.short, ref.pdf_id) == (canonical, short, pdf_id)


@pytest.mark.parametrize("text", [f[0] for f in FORMS])
def test_printed_forms_round_trip(text):
    """canonical, short, pdf_id and the EUR-Lex spelling all parse back to the same reference."""
    ref = parse_ref(text)
    eurlex = "consil:" + ref.pdf_id.replace("-", "_")
    for printed in (ref.canonical, ref.short, ref.pdf_id, eurlex, ref.pdf_url("fr"), str(ref)):
        assert parse_ref(printed) == ref, printed


def test_family_and_version_fields():
    """The family drops the version; the version is kept as (kind, n) pairs in printed order."""
    ref = parse_ref("ST 14964 2018 ADD 1 REV 2")
    assert ref.family == "ST 14964 2018"
    assert ref.version == (("ADD", 1), ("REV", 2))
    assert ref.version_str == "ADD 1 REV 2"
    assert parse_ref("13589/23").version == () and parse_ref("13589/23").version_str == "INIT"


def test_pdf_url_uses_lower_case_language():
    """The PDF URL follows the document server pattern with a lower-case language."""
    ref = parse_ref("ST 13589 2023 INIT")
    assert ref.pdf_url() == "https://data.consilium.europa.eu/doc/document/ST-13589-2023-INIT/en/pdf"
    assert ref.pdf_url("FR").endswith("/ST-13589-2023-INIT/fr/pdf")
    with pytest.raises(ValueError):
        ref.pdf_url("english")


@pytest.mark.parametrize("yy,year", [("99", 1999), ("00", 2000), ("18", 2018), ("98", 2098)])
def test_two_digit_years(yy, year):
    """Two-digit years: 99 is 1999, 00 to 98 are in the 2000s."""
    assert parse_ref(f"5001/{yy}").year == year


def test_middle_number_must_repeat_the_revision():
    """A short form whose middle number contradicts its REV is refused; a missing REV is implied."""
    with pytest.raises(RefError, match="does not repeat REV 2"):
        parse_ref("14860/1/18 REV 2")
    assert parse_ref("14860/1/18").canonical == "ST 14860 2018 REV 1"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "ST 13589",
        "XX 13589 2023 INIT",
        "ST 13589 2023 FOO 1",
        "ST 13589 1850 INIT",
        "13589",
        "13589/123",
        "ST 13589 2023 INIT extra",
        "Regulation (EU) 2019/1896",
        "ST 0 2023 INIT",
    ],
)
def test_non_references_raise_a_clear_error(text):
    """Text that is not a reference raises RefError, a ValueError naming the text and the forms."""
    with pytest.raises(ValueError) as info:
        parse_ref(text)
    assert isinstance(info.value, RefError)
    message = str(info.value)
    assert repr(text) in message
    assert "ST 13589 2023 INIT" in message and "14860/1/18 REV 1" in message


def test_non_string_is_refused():
    """parse_ref refuses values that are not strings with RefError."""
    with pytest.raises(RefError):
        parse_ref(None)  # type: ignore[arg-type]


def test_docref_validates_its_fields():
    """Building a DocRef directly rejects unknown series and version kinds."""
    with pytest.raises(RefError):
        DocRef("XX", 1, 2023)
    with pytest.raises(RefError):
        DocRef("ST", 1, 2023, (("FOO", 1),))


def test_revisions_and_addenda_share_the_family():
    """Revisions and addenda of a document are one family; the revision number is the trailing REV."""
    init, rev2 = parse_ref("ST 15454 2016 INIT"), parse_ref("ST 15454 2016 REV 2")
    add1rev2 = parse_ref("ST 15454 2016 ADD 1 REV 2")
    assert init.family == rev2.family == add1rev2.family
    assert (init.revision, rev2.revision, add1rev2.revision) == (0, 2, 2)


def test_find_refs_in_running_text():
    """References are found in headers and titles in order, without dates, act numbers or repeats."""
    text = (
        "Interinstitutional File: 2018/0330(COD)   14860/1/18 REV 1   LIMITE\n"
        "No. prev. doc.: 14860/18. See also ST 13589 2023 INIT and "
        "https://data.consilium.europa.eu/doc/document/ST-13589-2023-INIT/en/pdf, "
        "consil:ST_15454_2016_INIT, WK 9054/26, Regulation (EU) No 1052/2013, Directive 2008/115/EC, "
        "Regulation (EU) 2019/1896, meeting on 22/06/2026, No 513/23, a 1/2 share."
    )
    assert [r.canonical for r in find_refs(text)] == [
        "ST 14860 2018 REV 1",
        "ST 14860 2018 INIT",
        "ST 13589 2023 INIT",
        "ST 15454 2016 INIT",
        "WK 9054 2026 INIT",
    ]
    assert find_refs("nothing here 2023/24") == []


def test_leading_ref_splits_reference_and_rest():
    """leading_ref returns the reference that opens a text and what follows it."""
    ref, rest = leading_ref("ST 14964 2018 ADD 1 - 'I/A' ITEM NOTE")
    assert ref.canonical == "ST 14964 2018 ADD 1" and rest == " - 'I/A' ITEM NOTE"
    assert leading_ref("Note ST 14964 2018 ADD 1") is None
