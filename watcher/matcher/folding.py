"""Text folding and tokenising shared by topic rules and the matcher.

Folding makes comparison case-, accent- and ligature-insensitive:
``fold("Schleuser-Netzwerk STRAßE œuvre ﬁn")`` is ``"schleuser-netzwerk strasse oeuvre fin"``.

Folding works character by character: ASCII characters keep their place (only
lower-cased, ``_`` becomes a space) and each run of other characters is folded
on its own. That keeps it fast on mostly-ASCII European text, and it means the words
of ``fold(text)`` are the folded words of the pieces of ``text`` between ASCII
separators, which the matcher relies on (see ``scan``).
"""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode decomposition leaves alone but readers treat as plain ones.
_SPECIAL = {
    "ß": "ss",
    "ẞ": "SS",
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "TH",
    "ı": "i",
    "ħ": "h",
    "Ħ": "H",
    "ŧ": "t",
    "Ŧ": "T",
    "ς": "σ",
    "ʼ": "'",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "«": '"',
    "»": '"',
    "″": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
}

#: One word of folded text: letters and digits.
WORD_RE = re.compile(r"\w+")
_RUN_RE = re.compile(r"[^\x00-\x7f]+")
_CACHE_LIMIT = 50_000
_char_cache: dict[str, str] = {}
_run_cache: dict[str, str] = {}
_run_cache_lower: dict[str, str] = {}


def _fold_char(char: str) -> str:
    """Fold one non-ASCII character, keeping its case."""
    done = _char_cache.get(char)
    if done is not None:
        return done
    if char in _SPECIAL:
        done = _SPECIAL[char]
    elif unicodedata.category(char) == "Mn":
        done = ""
    else:
        parts = unicodedata.normalize("NFKD", char)
        done = "".join(p for p in parts if unicodedata.category(p) != "Mn")
        if not char.isalnum() and any(p.isalnum() for p in done):
            # Symbols such as "™" decompose into letters ("TM"); they stay separators.
            done = " "
        done = "".join(_SPECIAL.get(p, p) for p in done)
    _char_cache[char] = done
    return done


def _fold_run(run: str) -> str:
    done = _run_cache.get(run)
    if done is None:
        if len(_run_cache) > _CACHE_LIMIT:
            _run_cache.clear()
        done = _run_cache[run] = "".join(map(_fold_char, run))
    return done


def _fold_run_lower(run: str) -> str:
    done = _run_cache_lower.get(run)
    if done is None:
        if len(_run_cache_lower) > _CACHE_LIMIT:
            _run_cache_lower.clear()
        # Lower-case each character alone: str.lower() would pick final sigma by context.
        done = "".join(c.lower() for c in _fold_run(run)).replace("ς", "σ")
        _run_cache_lower[run] = done
    return done


def _no_underscore(text: str) -> str:
    return text.replace("_", " ") if "_" in text else text


def fold_keep_case(text: str) -> str:
    """Fold accents, ligatures, quotes and dashes but keep letter case."""
    if not text.isascii():
        text = _RUN_RE.sub(lambda m: _fold_run(m.group()), text)
    return _no_underscore(text)


def fold(text: str) -> str:
    """Fold ``text`` for comparison: lower case, no accents, ligatures spelt out.

    ß→ss, œ→oe, æ→ae, ł→l, ﬁ→fi; curly quotes become ' or ", dashes become -,
    and ``_`` becomes a space.
    """
    if not text.isascii():
        text = _RUN_RE.sub(lambda m: _fold_run_lower(m.group()), text)
    return _no_underscore(text.lower())


def tokens(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    return WORD_RE.findall(fold(text))
