"""The Council header fixtures are well-formed: tests/data/council/headers/expected.toml describes every header file
there, with fields of the right types and values that agree with the file's text.

This checks the test data only, not a reader. Nothing here reads outside tests/data.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

HEADERS = Path(__file__).resolve().parent / "data" / "council" / "headers"
EXPECTED = HEADERS / "expected.toml"
KINDS = ("real", "constructed")
LANGS = ("en", "fr", "de")

# The shared originals, so that a changed copy shows (real/ must stay byte for byte what was recorded).
REAL_SHA256 = {
    "real/02-ST-14860-2018-REV-1.txt": "582046092c0248761a47922138c193c739fbeb294fac7ef27d12291adf3e4ab2",
    "real/06-ST-12202-2012-INIT-old-layout.txt": "b69026a6dba529a6226a189a8974e01ac5244182719e0f452f8e4b6f0e5e6894",
    "real/09-ST-5907-2021-INIT-de.txt": "13d48e2630fd7d0a2478c9807e1f4f4625ba8f91fee41d6225d7483d356f993d",
}

STRING_FIELDS = (
    "file",
    "lang",
    "id",
    "date",
    "type",
    "type_original",
    "title",
    "sender",
    "recipient",
    "marking",
    "why",
)
LIST_FIELDS = ("codes", "procedures", "other_refs")
REQUIRED = set(STRING_FIELDS) | set(LIST_FIELDS)
OPTIONAL = {"probed"}

TYPES = {
    "NOTE",
    "COVER NOTE",
    '"I/A" ITEM NOTE',
    '"I" ITEM NOTE',
    '"A" ITEM NOTE',
    "INFORMATION NOTE",
    "OUTCOME OF PROCEEDINGS",
    "SUMMARY RECORD",
    "PROVISIONAL AGENDA",
    "NOTICE OF MEETING AND PROVISIONAL AGENDA",
    "REPORT",
    "DRAFT MINUTES",
    "OPINION",
    "LETTER",
    "INFORMATION",
}
# Titles composed from type, body and meeting date rather than copied from a Subject line.
COMPOSED_TITLE_TYPES = {"SUMMARY RECORD", "PROVISIONAL AGENDA", "NOTICE OF MEETING AND PROVISIONAL AGENDA"}
MARKINGS = {"", "LIMITE", "RESTREINT UE/EU RESTRICTED"}

CANONICAL_REF = re.compile(
    r"(ST|WK|CM|PE|SN) [1-9]\d{0,5} (19|20)\d\d (INIT|(REV|ADD|COR|EXT) \d{1,3}"
    r"( (REV|ADD|COR|EXT) \d{1,3})*)"
)
PROCEDURE = re.compile(r"(19|20)\d\d/\d{4}\([A-Z]{3}\)")
CODE = re.compile(r"[A-Z]{2,}( [A-Z0-9]{2,})?")
COMMISSION_DOC = re.compile(r"((?:COM|SWD|JOIN|C)\(\d{4}\) \d+ final) (.+)")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _load() -> list[dict]:
    with EXPECTED.open("rb") as fh:
        data = tomllib.load(fh)
    assert set(data) == {"header"}, f"expected.toml holds only [[header]] tables, found {sorted(data)}"
    return data["header"]


ENTRIES = _load()


def _ids(entries):
    return [e.get("file", "?") for e in entries]


def _text(entry: dict) -> str:
    """The file's extraction text, without the leading '# ' provenance lines."""
    lines = (HEADERS / entry["file"]).read_text(encoding="utf-8").splitlines()
    while lines and lines[0].startswith("# "):
        lines.pop(0)
    return "\n".join(lines)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_file_has_one_entry_and_every_entry_a_file():
    listed = Counter(e["file"] for e in ENTRIES)
    assert not [f for f, n in listed.items() if n > 1], "a file is described twice"
    on_disk = {p.relative_to(HEADERS).as_posix() for kind in KINDS for p in (HEADERS / kind).glob("*.txt")}
    assert not set(listed) - on_disk, f"entries without a file: {sorted(set(listed) - on_disk)}"
    assert not on_disk - set(listed), f"files without an entry: {sorted(on_disk - set(listed))}"
    stray = [p.name for p in HEADERS.rglob("*.txt") if p.parent.name not in KINDS]
    assert not stray, f"header files outside real/ and constructed/: {stray}"


def test_enough_constructed_headers_in_each_language():
    constructed = [e for e in ENTRIES if e["file"].startswith("constructed/")]
    assert len(constructed) >= 24
    per_lang = Counter(e["lang"] for e in constructed)
    for lang in LANGS:
        assert per_lang[lang] >= 6, f"only {per_lang[lang]} constructed headers in {lang}"
    assert {e["file"] for e in ENTRIES if e["file"].startswith("real/")} == set(REAL_SHA256)


@pytest.mark.parametrize("path,digest", sorted(REAL_SHA256.items()))
def test_real_headers_are_unmodified_copies(path, digest):
    raw = (HEADERS / path).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == digest
    assert raw.startswith(b"# Source: ")


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_entry_fields_have_the_right_types(entry):
    keys = set(entry)
    assert keys >= REQUIRED, f"missing {sorted(REQUIRED - keys)}"
    assert keys <= REQUIRED | OPTIONAL, f"unknown {sorted(keys - REQUIRED - OPTIONAL)}"
    for name in STRING_FIELDS:
        assert isinstance(entry[name], str), name
        assert entry[name] == entry[name].strip() and "  " not in entry[name], f"{name}: stray whitespace"
    for name in LIST_FIELDS:
        assert isinstance(entry[name], list) and all(isinstance(v, str) and v for v in entry[name]), name
        assert len(set(entry[name])) == len(entry[name]), f"{name}: repeats"
    assert entry["lang"] in LANGS
    assert entry["why"], "say what variation the file covers"
    assert entry["file"].split("/")[0] in KINDS and entry["file"].endswith(".txt")


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_entry_values_are_well_formed(entry):
    for ref in ([entry["id"]] if entry["id"] else []) + entry["other_refs"]:
        assert CANONICAL_REF.fullmatch(ref), f"not a canonical reference: {ref!r}"
    if "probed" in entry:
        assert isinstance(entry["probed"], str) and CANONICAL_REF.fullmatch(entry["probed"])
        assert entry["id"] == entry["probed"], "the probed reference is the identity"
    assert entry["id"] not in entry["other_refs"]
    if entry["date"]:
        assert ISO_DAY.fullmatch(entry["date"])
        date.fromisoformat(entry["date"])
    assert entry["type"] in TYPES | {""}
    assert bool(entry["type"]) == bool(entry["type_original"])
    assert entry["marking"] in MARKINGS
    for code in entry["codes"]:
        assert CODE.fullmatch(code), f"not a code name: {code!r}"
    assert "COMMITTEE" not in entry["codes"]
    for proc in entry["procedures"]:
        assert PROCEDURE.fullmatch(proc), f"not a normalised procedure: {proc!r}"


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_constructed_files_say_so(entry):
    first = (HEADERS / entry["file"]).read_text(encoding="utf-8").splitlines()[0]
    kind = entry["file"].split("/")[0]
    assert first.startswith("# Constructed: " if kind == "constructed" else "# Source: ")


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_expected_values_are_in_the_text(entry):
    """Catches typos in the expectations: what is expected is printed in the file."""
    text = _text(entry)
    flat = _flat(text)
    for code in entry["codes"]:
        assert re.search(rf"(?<![A-Z]){re.escape(code)}(?![A-Z])", flat), code
    for proc in entry["procedures"]:
        assert proc.split("(")[0] in flat, proc
    for ref in entry["other_refs"] + ([entry["id"]] if entry["id"] and "probed" not in entry else []):
        number = ref.split()[1]
        assert re.search(rf"(?<!\d){number}/", flat), ref
    for name in ("sender", "recipient", "type_original", "marking"):
        if entry[name]:
            assert entry[name] in flat, f"{name} {entry[name]!r} is not printed"
    if entry["date"]:
        day = date.fromisoformat(entry["date"])
        assert str(day.year) in flat and re.search(rf"(?<!\d){day.day}(?!\d)", flat)
    title = entry["title"]
    if not title:
        return
    if entry["type"] in COMPOSED_TITLE_TYPES:
        folded = flat.casefold()
        for token in title.split():
            assert token.rstrip(",").casefold() in folded, f"title word {token!r} is not printed"
    elif entry["type"] == "COVER NOTE":
        m = COMMISSION_DOC.fullmatch(title)
        assert m, "a cover note's title starts with the covered Commission document's number"
        assert m.group(1) in flat and m.group(2) in flat
    else:
        assert title in flat, "a subject is copied as printed, whitespace collapsed"


def test_the_variations_the_reader_must_handle_are_present():
    """The cases the brief names are all represented somewhere."""
    by_type = Counter(e["type"] for e in ENTRIES)
    for kind in (
        "NOTE",
        "COVER NOTE",
        '"I/A" ITEM NOTE',
        "OUTCOME OF PROCEEDINGS",
        "SUMMARY RECORD",
        "PROVISIONAL AGENDA",
        "NOTICE OF MEETING AND PROVISIONAL AGENDA",
        "REPORT",
    ):
        assert by_type[kind], kind
    covers = {e["lang"] for e in ENTRIES if e["type"] == "COVER NOTE"}
    assert covers == set(LANGS)
    assert any(not e["id"] and "probed" not in e and e["other_refs"] for e in ENTRIES), (
        "an old layout whose only references are other documents'"
    )
    assert any("probed" in e and e["other_refs"] for e in ENTRIES)
    assert any(len(e["procedures"]) >= 2 for e in ENTRIES)
    assert any("CRS CRP" in e["codes"] for e in ENTRIES)
    versions = {v for e in ENTRIES if e["id"] for v in ("REV", "ADD", "COR") if f" {v} " in e["id"]}
    assert versions == {"REV", "ADD", "COR"}
    assert any(e["marking"] == "LIMITE" for e in ENTRIES)
    assert any(not e["date"] for e in ENTRIES) and any(not e["title"] for e in ENTRIES)
