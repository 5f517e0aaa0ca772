"""The labelled fields of a Council header (From, date of receipt, To, the other documents' lists, Subject) in every
order they are printed in: each label with its value, all labels before all values, or all values before the
document type and the labels. Also where a value stops and the body begins.

Values are returned as printed, whitespace collapsed; a value that cannot be told apart is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from watcher.sources.council import header_words as w
from watcher.sources.council.refs import ref_spans

LABEL_REACH = 4000  # characters after the document type in which labels are looked for
MAX_VALUE_LINES = 10


@dataclass(frozen=True)
class Label:
    """One printed label: its field, as printed, and where it is."""

    key: str
    printed: str
    start: int
    end: int


def find_labels(text: str, start: int) -> list[Label]:
    """The field labels after ``start``, up to the first that repeats (a later one belongs to the body)."""
    found: list[Label] = []
    seen: set[str] = set()
    for m in w.LABEL.finditer(text, start, min(len(text), start + LABEL_REACH)):
        key = (m.lastgroup or "").rsplit("_", 1)[0]
        if key in seen and key != w.OTHER:
            break
        seen.add(key)
        found.append(Label(key, m.group(0).rstrip(": \t"), m.start(), m.end()))
    return found


def read_fields(text: str, labels: list[Label], blob: str) -> dict[str, str]:
    """Each labelled field's value. ``blob`` is what stands between the codes and the document type: the values,
    when a layout prints them before the labels."""
    values: dict[str, str] = {}
    i = 0
    while i < len(labels):
        j = i
        while j + 1 < len(labels) and not text[labels[j].end : labels[j + 1].start].strip():
            j += 1
        after = text[labels[j].end : labels[j + 1].start if j + 1 < len(labels) else len(text)]
        if j > i:
            source = blob if blob.strip() and starts_body(after) else after
            values.update(split_values([lab.key for lab in labels[i : j + 1]], source))
        else:
            values[labels[i].key] = after
        i = j + 1
    return {key: tidy(key, value, labels) for key, value in values.items()}


def tidy(key: str, value: str, labels: list[Label]) -> str:
    """A raw value cut where the body begins, its printed quirks removed, whitespace collapsed."""
    value = cut_body(value)
    if key == w.TO:
        value = re.sub(rf"\s+on:?\s+{w.FULL_DATE.pattern}.*$", "", value)
    if key in (w.RECEIPT, w.ON, w.MEETING_DATE):
        m = w.MEETING_DATES.match(value)
        value = m.group(0) if m else ""
    return " ".join(value.split())


def old_recipient(sender: str, printed: str) -> tuple[str, str]:
    """Old layouts print ``from: Presidency to Permanent Representatives Committee``: the sender and recipient."""
    if printed != "from":
        return sender, ""
    head, sep, tail = sender.partition(" to ")
    return (head, " ".join(re.sub(rf"\s+on:?\s+{w.FULL_DATE.pattern}.*$", "", tail).split())) if sep else (sender, "")


def old_german_parties(text: str, start: int) -> tuple[str, str]:
    """Old German layouts print ``des Vorsitzes`` / ``für den ...`` under the type instead of labels."""
    sender = recipient = ""
    for line in text[start : start + 600].split("\n")[:4]:
        line = line.strip()
        if m := w.OLD_DE_SENDER.match(line):
            sender = m.group(1)
        elif m := w.OLD_DE_RECIPIENT.match(line):
            recipient = m.group(1)
    return " ".join(sender.split()), " ".join(recipient.split())


def starts_body(text: str) -> bool:
    """True when ``text`` opens with body text, or holds nothing."""
    head = text.strip()
    return not head or bool(w.BODY_LINE.match(head))


def cut_body(value: str) -> str:
    """The lines of ``value`` before the body: a blank line, a body opening, a footer, or a line limit end it."""
    kept: list[str] = []
    for line in value.split("\n"):
        line = line.strip()
        if not line:
            if kept:
                break
            continue
        if w.BODY_LINE.match(line) or w.FOOTER.match(line):
            break
        cut = min((m.start() for m in (w.BODY_INLINE.search(line), w.FOOTER.search(line)) if m), default=None)
        if cut is not None:
            kept.append(line[:cut])
            break
        kept.append(line)
        if len(kept) >= MAX_VALUE_LINES:
            break
    return " ".join(" ".join(kept).split())


def split_values(keys: list[str], source: str) -> dict[str, str]:
    """Values printed together, in the labels' order: one a line when they are on lines, else told apart by what
    each looks like (a date, a reference list, a known sender or recipient, a subject's first words)."""
    body = source.strip("\n")
    if "\n" in body.strip():
        return _split_lines(keys, body)
    return _split_line(keys, body.strip())


def _split_lines(keys: list[str], body: str) -> dict[str, str]:
    lines = [line for line in body.split("\n") if line.strip()]
    values: dict[str, str] = {}
    for key in keys[:-1]:
        if not lines:
            break
        line = lines[0]
        if key in w.LIST_KEYS and not ref_list_end(line, 0):
            continue
        if key in (w.RECEIPT, w.ON) and not w.FULL_DATE.match(line.strip()):
            continue
        values[key] = lines.pop(0)
    values[keys[-1]] = "\n".join(lines)
    return values


def _split_line(keys: list[str], line: str) -> dict[str, str]:
    values: dict[str, str] = {}
    pos = 0
    for key, following in zip(keys, keys[1:]):
        end = _value_end(key, following, line, pos)
        if end is None:
            return values
        values[key] = line[pos:end]
        pos = end
        while pos < len(line) and line[pos] in " \t":
            pos += 1
    values[keys[-1]] = line[pos:]
    return values


def _value_end(key: str, following: str, line: str, pos: int) -> int | None:
    """Where the value of ``key`` that starts at ``pos`` ends, judged by it or by the value after it."""
    if key in (w.RECEIPT, w.ON):
        m = w.FULL_DATE.match(line, pos)
        return m.end() if m else None
    if key in w.LIST_KEYS:
        return ref_list_end(line, pos) or None
    if following in (w.RECEIPT, w.ON):
        m = w.FULL_DATE.search(line, pos)
        return m.start() if m and m.start() > pos else None
    if following in w.LIST_KEYS:
        starts = [s for s, _, _ in ref_spans(line[pos:])]
        com = w.COMMISSION_DOC.search(line, pos)
        starts += [com.start() - pos] if com else []
        return pos + min(starts) if starts and min(starts) > 0 else None
    if key == w.FROM:
        return _known_prefix(line, pos, w.SENDERS)
    if following == w.SUBJECT:
        m = w.SUBJECT_OPENERS.search(line, pos)
        return m.start() if m and m.start() > pos else _known_prefix(line, pos, w.RECIPIENTS, w.RECIPIENT_TAIL)
    return None


def _known_prefix(line: str, pos: int, names: tuple[str, ...], tail: re.Pattern[str] | None = None) -> int | None:
    for name in sorted(names, key=len, reverse=True):
        end = pos + len(name)
        if line.startswith(name, pos) and (end == len(line) or not line[end].isalnum()):
            more = tail.match(line, end) if tail else None
            return more.end() if more else end
    return None


_LIST_PIECE = re.compile(
    r"[ \t]*(?:[-–,;]|\+[ \t]*(?:ADD|COR|REV|EXT)[ \t]*\d{1,3}|[A-Z]{2,12}[ \t]+\d{1,5}(?!\d|/)|"
    + w.COMMISSION_DOC.pattern
    + r")"
)


def ref_list_end(line: str, pos: int) -> int:
    """The end of a list of other documents' references that starts at ``pos`` (with their codes, ``+ ADD 1``
    parts and COM numbers), or 0 when none starts there."""
    line = line[: pos + 1000]
    pos += len(line[pos:]) - len(line[pos:].lstrip(" \t"))
    spans = {pos + s: pos + e for s, e, _ in ref_spans(line[pos : pos + 1000])}
    if pos not in spans and not w.COMMISSION_DOC.match(line, pos):
        return 0
    end = pos
    while True:
        skip = end + len(line[end:]) - len(line[end:].lstrip(" \t"))
        if skip in spans:
            end = spans[skip]
            continue
        m = _LIST_PIECE.match(line, end)
        if not m or m.end() == end:
            return end
        end = m.end()
