"""Small PDFs shaped like Council documents, generated at test time.

``make_pdf`` writes a minimal PDF 1.4 file by hand: one content stream per page,
text in the standard Helvetica font with WinAnsi encoding, one line of the page
string per text line. No binary fixtures are committed and no PDF-writing
library is needed; pypdf reads these files back like any other text PDF.

The three named builders follow the three header layouts of real Council
documents (constructed text, not copies of real documents).
"""

from __future__ import annotations

_PAGE_W, _PAGE_H = 595, 842  # A4 in points
_TOP, _LEADING, _FONT_SIZE = 800, 14, 10
_MAX_LINES = (_TOP - 40) // _LEADING


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(text: str) -> bytes:
    lines = text.split("\n")
    if len(lines) > _MAX_LINES:
        raise ValueError(f"a page holds at most {_MAX_LINES} lines, got {len(lines)}")
    ops = [b"BT", f"/F1 {_FONT_SIZE} Tf {_LEADING} TL 50 {_TOP} Td".encode()]
    for line in lines:
        ops.append(b"(" + _escape(line) + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def make_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one page per string; newlines in a string start new lines."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    count = len(pages)
    page_ids = [4 + 2 * i for i in range(count)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(f"{p} 0 R".encode() for p in page_ids) + f"] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, text in zip(page_ids, pages):
        stream = _content(text)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PAGE_W} {_PAGE_H}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    return _assemble(objects)


def _assemble(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def _body(paragraphs: list[str], footer: str) -> str:
    return "\n".join(paragraphs + ["", footer])


SUMMARY_RECORD_PAGES = [
    "\n".join(
        [
            "Council of the",
            "European Union",
            "                                   Brussels, 11 October 2023",
            "                                   (OR. en)",
            "                                   13217/23",
            "                                   CRS CRP 31",
            "SUMMARY RECORD",
            "PERMANENT REPRESENTATIVES COMMITTEE",
            "(Part 2)",
            "held in Brussels on 4 October 2023",
            "",
            "1. Adoption of the agenda",
            "The Committee adopted the agenda as set out in document 13000/23.",
            "",
            "13217/23                                  GIP.B                EN",
        ]
    ),
    _body(
        [
            "2. Preparation for the Council meeting (Justice and Home Affairs)",
            "The Committee took note of the state of play on the files before the Council.",
            "3. Any other business",
            "The Presidency informed delegations about forthcoming meetings.",
        ],
        "13217/23                                  GIP.B                EN",
    ),
    _body(
        [
            "4. Operational cooperation with third countries",
            "The Committee discussed a Presidency paper on fighting migrant smuggling along",
            "the main routes and agreed to return to the matter at a later meeting.",
        ],
        "13217/23                                  GIP.B                EN",
    ),
]

RESTRICTED_NOTE_PAGES = [
    "\n".join(
        [
            "Council of the European Union   Brussels, 3 March 2016 (OR. en)   6738/16",
            "RESTREINT UE/EU RESTRICTED   MIGR 43  COASI 19   NOTE",
            "From: Presidency",
            "To: Delegations",
            "Subject: Follow-up to the Valletta Summit - state of play of the Action Plan",
            "",
            "Delegations will find attached a note on the state of play of the Action Plan.",
            "",
            "6738/16                         RR/ns          1",
            "DGD 1                RESTREINT UE/EU RESTRICTED                EN",
        ]
    ),
    _body(
        ["The annex lists actions by priority domain and partner country."],
        "6738/16                         RR/ns          2",
    ),
]

LIMITE_NOTE_PAGES = [
    "\n".join(
        [
            "Council of the",
            "European Union",
            "                                   Brussels, 30 November 2018",
            "                                   (OR. en)",
            "Interinstitutional File: 2018/0330(COD)   14860/1/18 REV 1   LIMITE",
            "FRONT 416  SIRIS 166  CODEC 2136  COMIX 656   NOTE",
            "From: Presidency",
            "To: Permanent Representatives Committee/Council",
            "No. prev. doc.: 14860/18",
            "Subject: Proposal for a Regulation of the European Parliament and of the Council",
            "on the European Border and Coast Guard and repealing Regulation (EU) 2016/1624",
            "",
            "Delegations will find attached a revised version of the Presidency compromise text.",
            "",
            "14860/1/18 REV 1                  JV/mk          1",
            "JAI.1                   LIMITE                EN",
        ]
    ),
    _body(["Article 1", "Subject matter"], "14860/1/18 REV 1                  JV/mk          2"),
]


def summary_record_pdf() -> bytes:
    """A three-page COREPER summary record (header layout 1); "migrant smuggling"
    appears only on page 3."""
    return make_pdf(SUMMARY_RECORD_PAGES)


def restricted_note_pdf() -> bytes:
    """A RESTREINT UE note with MIGR and COASI codes, all header fields on few
    lines (header layout 2)."""
    return make_pdf(RESTRICTED_NOTE_PAGES)


def limite_note_pdf() -> bytes:
    """A LIMITE REV 1 note on a COD file with FRONT, SIRIS, CODEC and COMIX codes
    (header layout 3)."""
    return make_pdf(LIMITE_NOTE_PAGES)
