"""Word access on UTF-8 bytes, so most of a text is never folded character by character.

A field is encoded once and *flattened*: ASCII letters and digits are
lower-cased, every other ASCII byte becomes a space, and non-ASCII bytes stay
as they are. The flat text splits on spaces into *raw tokens*; a raw token made
of ASCII is already one folded word, and any other raw token is folded (and
cached) into its words by :func:`words_of`. Folding is per character, so the
words of all raw tokens, in order, are exactly the words of ``fold(text)``.

A word's place is a :data:`Key`: the byte offset of its raw token and its index
inside that token. Keys compare in text order.
"""

from __future__ import annotations

import re

from watcher.matcher.folding import WORD_RE, fold, fold_keep_case

Key = tuple[int, int]
_SPACE = 0x20
_FLAT = bytes(
    (b | 0x20 if 0x41 <= b <= 0x5A else b)
    if (0x30 <= b <= 0x39 or 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A or b >= 0x80)
    else _SPACE
    for b in range(256)
)
_NEXT = re.compile(rb" *([^ ]+)")
_CACHE_LIMIT = 50_000
_words: dict[bytes, tuple[str, ...]] = {}


def flatten(text: str) -> tuple[bytes, bytes]:
    """The field's UTF-8 bytes and its flat form (same length)."""
    raw = text.encode("utf-8", "surrogatepass")
    return raw, raw.translate(_FLAT)


def words_of(token: bytes) -> tuple[str, ...]:
    """The folded words of one raw token."""
    if token.isascii():
        return (token.decode("ascii"),)
    found = _words.get(token)
    if found is None:
        if len(_words) > _CACHE_LIMIT:
            _words.clear()
        found = tuple(WORD_RE.findall(fold(token.decode("utf-8", "surrogatepass"))))
        _words[token] = found
    return found


def token_at(flat: bytes, start: int) -> bytes:
    """The raw token starting at byte ``start``."""
    end = flat.find(b" ", start)
    return flat[start:] if end < 0 else flat[start:end]


def occurrences(padded: bytes, token: bytes):
    """Start offsets (in the flat text) of ``token``; ``padded`` is b" " + flat + b" "."""
    needle = b" " + token + b" "
    pos = padded.find(needle)
    while pos >= 0:
        yield pos
        pos = padded.find(needle, pos + len(token) + 1)


def following(flat: bytes, start: int, index: int, count: int) -> list[tuple[str, Key]]:
    """Up to ``count`` (word, key) after word ``index`` of the token at ``start``, nearest first."""
    token = token_at(flat, start)
    found = [(w, (start, i)) for i, w in enumerate(words_of(token)) if i > index][:count]
    pos = start + len(token)
    while len(found) < count:
        step = _NEXT.match(flat, pos)
        if step is None:
            break
        begin, pos = step.start(1), step.end(1)
        for i, word in enumerate(words_of(step.group(1))):
            found.append((word, (begin, i)))
    return found[:count]


def preceding(flat: bytes, start: int, index: int, count: int) -> list[tuple[str, Key]]:
    """Up to ``count`` (word, key) before word ``index`` of the token at ``start``, nearest first."""
    words = words_of(token_at(flat, start))
    found = [(words[i], (start, i)) for i in range(index - 1, -1, -1)][:count]
    pos = start
    while len(found) < count:
        while pos > 0 and flat[pos - 1] == _SPACE:
            pos -= 1
        if pos == 0:
            break
        begin = flat.rfind(b" ", 0, pos) + 1
        words = words_of(flat[begin:pos])
        found.extend((words[i], (begin, i)) for i in range(len(words) - 1, -1, -1))
        pos = begin
    return found[:count]


def capitals(raw: bytes, flat: bytes, key: Key, letters: int) -> bool:
    """True when the first ``letters`` letters of the word at ``key`` are capitals in the text."""
    start, index = key
    original = raw[start : start + len(token_at(flat, start))]
    if original.isascii() and index == 0:
        return original[:letters].isupper()
    words = WORD_RE.findall(fold_keep_case(original.decode("utf-8", "surrogatepass")))
    return index < len(words) and words[index][:letters].isupper()


def char_span(text: str, raw: bytes, flat: bytes, first: Key, last: Key) -> tuple[int, int]:
    """Character offsets in ``text`` from the start of word ``first`` to the end of word ``last``."""
    return _word_edge(text, raw, flat, first, 0), _word_edge(text, raw, flat, last, 1)


def _word_edge(text: str, raw: bytes, flat: bytes, key: Key, side: int) -> int:
    start, index = key
    size = len(token_at(flat, start))
    before = start if text.isascii() else len(raw[:start].decode("utf-8", "surrogatepass"))
    original = raw[start : start + size].decode("utf-8", "surrogatepass")
    if original.isascii():
        return before + (len(original) if side else 0)
    return before + _word_bounds(original, index)[side]


def _word_bounds(token: str, index: int) -> tuple[int, int]:
    """Character span, inside one raw token, of its folded word ``index``."""
    folded: list[str] = []
    owners: list[int] = []
    for position, char in enumerate(token):
        piece = fold(char)
        folded.append(piece)
        owners.extend([position] * len(piece))
    for number, found in enumerate(WORD_RE.finditer("".join(folded))):
        if number == index:
            return owners[found.start()], owners[found.end() - 1] + 1
    return 0, len(token)
