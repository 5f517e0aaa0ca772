"""The page-1 header of a Council document, read from its extracted text in English, French or German.

``read_header`` finds the date line, the document type, the masthead before the type (own reference, procedures,
marking, distribution codes) and the labelled fields after it, then composes the title a subscriber sees. It reads
a bounded prefix of the page, and each step is a bounded scan, so the work grows with the text and stops at the cap.

A field that cannot be read is left empty and named in ``unread``: a wrong value is worse than none. The header's
own reference is never taken from a list of other documents (``No. prev. doc.`` ...); those go to ``other_refs``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

from watcher.sources.council import header_fields as f
from watcher.sources.council import header_words as w
from watcher.sources.council.refs import DocRef, RefSpan, ref_spans

log = logging.getLogger(__name__)

MAX_HEADER_CHARS = 12_000  # the first page's text is cut here before it is read
TYPE_REACH = 2500
MASTHEAD_WITHOUT_TYPE = 1000


@dataclass(frozen=True)
class DocHeader:
    """What page 1 says. ``originator``/``addressee`` are the From:/To: values, ``subject`` the Subject value as
    printed and ``title`` what a subscriber should see; ``doc_type`` is normalised (``VERMERK`` is ``NOTE``) and
    ``type_original`` as printed. ``ref`` is the header's own reference, ``other_refs`` those of other documents."""

    date: date | None = None
    language: str | None = None
    ref: DocRef | None = None
    marking: str | None = None
    codes: tuple[str, ...] = ()
    doc_type: str | None = None
    originator: str | None = None
    addressee: str | None = None
    subject: str | None = None
    interinstitutional_files: tuple[str, ...] = ()
    type_original: str | None = None
    title: str | None = None
    commission_doc: str | None = None
    other_refs: tuple[DocRef, ...] = ()
    unread: tuple[str, ...] = ()

    @property
    def interinstitutional_file(self) -> str | None:
        """The first procedure number, e.g. ``2018/0330(COD)``."""
        return self.interinstitutional_files[0] if self.interinstitutional_files else None


@dataclass(frozen=True)
class _Type:
    normalised: str
    printed: str
    start: int
    end: int


def read_header(text: str) -> DocHeader:
    """Read the header block of page 1; empty fields where the text does not say."""
    text = text[:MAX_HEADER_CHARS].replace("\u00a0", " ").replace("\r\n", "\n").replace("\r", "\n")
    date_line = w.DATE_LINE.search(text)
    kind = _find_type(text, date_line.end() if date_line else 0)
    labels = f.find_labels(text, kind.end if kind else 0)
    head_end = kind.start if kind else (labels[0].start if labels else min(len(text), MASTHEAD_WITHOUT_TYPE))
    masthead = text[:head_end]
    spans = ref_spans(text)
    codes, codes_start, codes_end = _read_codes(masthead)
    own = _own_ref(spans, min(codes_start, head_end), _list_zones(text, labels))
    blob = masthead[_values_start(masthead, spans, own, codes_end, date_line) :]
    fields = f.read_fields(text, labels, blob)
    sender, recipient = _parties(text, fields, labels, kind)
    title, cion = _title(kind, fields, text)
    day = _date(text, date_line)
    found = {
        "date": day,
        "ref": own,
        "type": kind,
        "title": title,
        "sender": sender or not _has(labels, w.FROM),
        "recipient": recipient or not _has(labels, w.TO),
    }
    return DocHeader(
        date=day,
        language=_language(masthead),
        ref=own,
        marking=_marking(text),
        codes=tuple(codes),
        doc_type=kind.normalised if kind else None,
        type_original=kind.printed if kind else None,
        originator=sender or None,
        addressee=recipient or None,
        subject=fields.get(w.SUBJECT) or None,
        interinstitutional_files=_procedures(masthead),
        title=title or None,
        commission_doc=cion or None,
        other_refs=_others(spans, own),
        unread=tuple(name for name, value in found.items() if not value),
    )


def _find_type(text: str, start: int) -> _Type | None:
    """The first printed type that ends its line or comes before a label; else the first printed type."""
    first: _Type | None = None
    for m in w.TYPE.finditer(text, start, min(len(text), start + TYPE_REACH)):
        index = int((m.lastgroup or "t0")[1:])
        kind = _Type(w.TYPES[index][1], " ".join(m.group(0).split()), m.start(), m.end())
        rest = text[m.end() : m.end() + 80]
        line_rest = rest.split("\n", 1)[0]
        if not line_rest.strip() or w.LABEL.match(rest.lstrip()) or rest.lstrip().startswith("des "):
            return kind
        first = first or kind
    return first


def _date(text: str, line: re.Match[str] | None) -> date | None:
    """The date on the ``Brussels, ...`` line; None when that line is missing or incomplete."""
    m = w.FULL_DATE.match(text, line.end()) if line else None
    if not m:
        return None
    try:
        return date(int(m.group(3)), w.MONTHS[m.group(2).lower()], int(m.group(1)))
    except (KeyError, ValueError) as exc:
        log.debug("ignoring impossible header date %r: %s", m.group(0), exc)
        return None


def _read_codes(masthead: str) -> tuple[list[str], int, int]:
    """The distribution codes block (codes with or without running numbers) and where it starts and ends."""
    tokens = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"\S+", masthead)]
    codes: list[str] = []
    start, end, i = len(masthead), 0, 0
    while i < len(tokens):
        word, nxt = tokens[i][0], tokens[i + 1][0] if i + 1 < len(tokens) else ""
        used = _code_at(word, nxt)
        if not used:
            if codes and not w.MARKING.fullmatch(word) and word not in ("UE/EU", "RESTRICTED", "RESTREINT"):
                break
            i += 1
            continue
        name = f"{word} {nxt}" if used == 2 else word
        j = i + used
        if j < len(tokens) and w.NUMBER.fullmatch(tokens[j][0]):
            j += 1
        if name not in codes:
            codes.append(name)
        start, end, i = min(start, tokens[i][1]), tokens[j - 1][2], j
    return codes, start, end


def _code_at(word: str, nxt: str) -> int:
    """How many words a code printed here takes (0 when none): ``CRS CRP`` is one code of two words."""
    if f"{word} {nxt}" in w.MULTIWORD_CODES:
        return 2
    if w.CODE_WORD.fullmatch(word) and word not in w.NOT_CODES and (w.NUMBER.fullmatch(nxt) or word in w.KNOWN_CODES):
        return 1
    return 0


def _list_zones(text: str, labels: list[f.Label]) -> list[tuple[int, int]]:
    """Where lists of other documents are printed: from their label to the next label."""
    ends = [lab.start for lab in labels[1:]] + [len(text)]
    return [(lab.end, end) for lab, end in zip(labels, ends) if lab.key in w.LIST_KEYS]


def _own_ref(spans: list[RefSpan], limit: int, zones: list[tuple[int, int]]) -> DocRef | None:
    """The first reference printed before the codes and the type, outside other documents' lists."""
    for start, _, ref in spans:
        if start >= limit:
            return None
        if not any(a <= start < b for a, b in zones):
            return ref
    return None


def _values_start(
    masthead: str, spans: list[RefSpan], own: DocRef | None, codes_end: int, date_line: re.Match[str] | None
) -> int:
    """Where the masthead's own facts end: what follows, before the type, can only be printed values."""
    day = w.FULL_DATE.match(masthead, date_line.end()) if date_line else None
    ends = [codes_end, day.end() if day else date_line.end() if date_line else 0]
    ends += [e for s, e, ref in spans if ref == own and e <= len(masthead)]
    for pattern in (w.PROCEDURE, w.MARKING, w.LANGUAGE, w.FILES_LABEL):
        ends += [m.end() for m in pattern.finditer(masthead)][-1:]
    return max(ends)


def _parties(text: str, fields: dict[str, str], labels: list[f.Label], kind: _Type | None) -> tuple[str, str]:
    sender, recipient = fields.get(w.FROM, ""), fields.get(w.TO, "")
    if sender and not _has(labels, w.TO):
        printed = next(lab.printed for lab in labels if lab.key == w.FROM)
        sender, recipient = f.old_recipient(sender, printed)
    if not _has(labels, w.FROM) and kind:
        sender, recipient = f.old_german_parties(text, kind.end)
    return sender, recipient


def _has(labels: list[f.Label], key: str) -> bool:
    return any(lab.key == key for lab in labels)


def _title(kind: _Type | None, fields: dict[str, str], text: str) -> tuple[str, str]:
    """The title a subscriber sees, and the covered Commission document's number."""
    subject = fields.get(w.SUBJECT, "")
    m = w.COMMISSION_DOC.search(fields.get(w.CION, ""))
    cion = " ".join(m.group(0).split()) if m else ""
    if kind and kind.normalised in w.COMPOSED_TYPES:
        return _composed(kind, subject, fields.get(w.MEETING_DATE, ""), text), cion
    if kind and kind.normalised == "COVER NOTE" and cion and subject and not subject.startswith(cion):
        return f"{cion} {subject}", cion
    return subject, cion


def _composed(kind: _Type, subject: str, dates: str, text: str) -> str:
    """``<type>, <meeting body>, <meeting dates>`` for summary records, agendas and notices."""
    shown = w.TYPE_DISPLAY.get(kind.printed, kind.printed.capitalize())
    if subject and not dates:
        return subject
    body = subject
    if not body:
        body, dates = _meeting_after(text, kind.end)
    return ", ".join(part for part in (shown, body, dates) if part) if body else ""


_PARENS = re.compile(r"\s*(\([^()\n]{1,80}\))")


def _meeting_after(text: str, start: int) -> tuple[str, str]:
    """The meeting body printed in capitals after the type (with its parenthesised part) and the meeting dates."""
    window = text[start : start + 600]
    words, pos = [], 0
    for m in re.finditer(r"\S+", window):
        word = m.group(0)
        if window[pos : m.start()].count("\n") > 1 or not _is_upper_word(word):
            break
        words.append(m.group(0))
        pos = m.end()
    if not words:
        return "", ""
    body = _recase(" ".join(words))
    while p := _PARENS.match(window, pos):
        body, pos = f"{body} {p.group(1)}", p.end()
    near = "\n".join(window[pos:].split("\n")[:4])
    dates = w.MEETING_DATES.search(near)
    return body, " ".join(dates.group(0).split()) if dates else ""


def _is_upper_word(word: str) -> bool:
    """A word printed in capitals (``L'UNION``, ``STÄNDIGEN``), without digits or brackets."""
    return word.isupper() and all(ch.isalpha() or ch in "'’-/" for ch in word)


def _recase(upper: str) -> str:
    """``COMITÉ DES REPRÉSENTANTS PERMANENTS`` as ``Comité des Représentants Permanents``."""
    out = []
    for i, word in enumerate(upper.lower().split()):
        head, quote, tail = word.partition("'") if "'" in word else word.partition("’")
        if quote and len(head) <= 2:
            out.append(f"{head}{quote}{tail.capitalize()}")
        elif i and word in w.SMALL_WORDS:
            out.append(word)
        else:
            out.append(word.capitalize())
    return " ".join(out)


def _language(masthead: str) -> str | None:
    m = w.LANGUAGE.search(masthead)
    return m.group(1).lower() if m else None


def _marking(text: str) -> str | None:
    m = w.MARKING.search(text)
    return " ".join(m.group(0).split()) if m else None


def _procedures(masthead: str) -> tuple[str, ...]:
    found = [f"{m.group(1)}/{m.group(2)}({m.group(3)})" for m in w.PROCEDURE.finditer(masthead)]
    return tuple(dict.fromkeys(found))


def _others(spans: list[RefSpan], own: DocRef | None) -> tuple[DocRef, ...]:
    return tuple(dict.fromkeys(ref for _, _, ref in spans if ref != own))
