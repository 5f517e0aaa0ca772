"""Text folding and tokenising shared by topic rules and the matcher.

Folding makes comparison case-, accent- and ligature-insensitive:
``fold("Schleuser-Netzwerk STRAßE œuvre ﬁn")`` is ``"schleuser-netzwerk strasse oeuvre fin"``.

Folding works character by character, so the tokens of ``fold(text)`` are the
folded tokens of ``text`` in the same order. The matcher relies on that to find
a hit's place in the original text without folding the whole text twice.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

# Letters that Unicode decomposition leaves alone but readers treat as plain ones.
_SPECIAL = {
    "ß": "ss", "ẞ": "SS", "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE",
    "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D",
    "þ": "th", "Þ": "TH", "ı": "i", "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ς": "σ",
    "ʼ": "'", "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
}


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) == "Mn"


def _build_tables() -> tuple[dict[str, str], str]:
    """Return the replacement table and the character class of removed marks."""
    table = dict(_SPECIAL)
    marks: list[str] = []
    for code in range(0x80, 0x30000):
        char = chr(code)
        if _is_mark(char):
            marks.append(char)
        elif char not in table and not char.isalnum():
            # Symbols such as the trade mark sign decompose into letters ("TM");
            # they must stay separators, or "Frontex™" would stop being "frontex".
            decomposed = unicodedata.normalize("NFKD", char)
            if any(part.isalnum() for part in decomposed):
                table[char] = " "
    return table, _char_class(marks)


def _char_class(chars: list[str]) -> str:
    """Compress sorted characters into a regex character class body of ranges."""
    ranges: list[str] = []
    start = prev = None
    for char in chars:
        code = ord(char)
        if prev is not None and code == prev + 1:
            prev = code
            continue
        if start is not None:
            ranges.append(_range(start, prev))
        start = prev = code
    if start is not None:
        ranges.append(_range(start, prev))
    return "".join(ranges)


def _range(start: int, end: int) -> str:
    return f"\\U{start:08x}" if start == end else f"\\U{start:08x}-\\U{end:08x}"


_TABLE, _MARK_CLASS = _build_tables()
_SPECIAL_RE = re.compile("[" + _char_class(sorted(_TABLE)) + "]")
_MARK_RE = re.compile("[" + _MARK_CLASS + "]+")

#: One word of folded text: letters and digits (no underscore).
WORD_RE = re.compile(r"[^\W_]+")
#: One word of original text: letters, digits and the combining marks folding removes.
ORIG_WORD_RE = re.compile(r"(?:[^\W_]|[" + _MARK_CLASS + "])+")


def _replace(match: re.Match[str]) -> str:
    return _TABLE[match.group()]


def fold_keep_case(text: str) -> str:
    """Fold accents, ligatures, quotes and dashes but keep letter case."""
    if text.isascii():
        return text
    text = _SPECIAL_RE.sub(_replace, text)
    text = unicodedata.normalize("NFKD", text)
    return _MARK_RE.sub("", text)


def fold(text: str) -> str:
    """Fold ``text`` for comparison: lower case, no accents, ligatures spelt out.

    ß→ss, œ→oe, æ→ae, ł→l, ﬁ→fi; curly quotes become ' or ", dashes become -.
    """
    if text.isascii():
        return text.lower()
    # str.lower() picks final sigma by context; fold it back so folding stays per character.
    return fold_keep_case(text).lower().replace("ς", "σ")


def tokens(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    return WORD_RE.findall(fold(text))


@lru_cache(maxsize=65536)
def _pieces(word: str) -> int:
    """How many folded words one original word becomes (nearly always 1)."""
    return len(WORD_RE.findall(fold(word)))


def word_spans(text: str, first: int, last: int) -> tuple[int, int]:
    """Character span in ``text`` covering folded tokens ``first``..``last`` (inclusive).

    ``text`` must be NFC-normalised (see :func:`nfc`). Token indices count the
    words of ``fold(text)``.
    """
    index = 0
    start = end = -1
    for found in ORIG_WORD_RE.finditer(text):
        word = found.group()
        count = 1 if word.isascii() else _pieces(word)
        if count == 0:
            continue
        if start < 0 and index + count > first:
            start = found.start()
        index += count
        if index > last:
            end = found.end()
            break
    if start < 0 or end < 0:
        return (0, len(text))
    return (start, end)


def nfc(text: str) -> str:
    """Return ``text`` in composed form (cheap when it already is)."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


# A guard: the tables above cover the whole Unicode range Python knows.
assert sys.maxunicode >= 0x2FFFF
