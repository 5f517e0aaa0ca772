"""Words too common to be a term on their own: any term of fewer than 3 letters, and a short list of function words
in the languages of the shipped topics. As a whole term (or as one part of an ``a + b`` term) they would flag, or
exclude, almost every item; inside a phrase they are fine (``"area of freedom"``).
"""

from __future__ import annotations

from watcher.matcher.terms import Pattern, Word

MIN_LETTERS = 3


def _words(text: str) -> frozenset[str]:
    """The words of a space-separated list."""
    return frozenset(text.split())


# Folded (lower case, no accents); words under 3 letters are refused anyway, so they are not listed.
STOPWORDS: dict[str, frozenset[str]] = {
    "English": _words(
        "the and for with from that this these those are was were not but has have had its into "
        "than then also which who what"
    ),
    "French": _words("les des une pour avec dans sur par que qui est sont aux ces cette son ses leur"),
    "German": _words(
        "der die das und mit von fur den dem des ein eine einer eines ist sind auf aus bei nicht sich zum zur"
    ),
    "Spanish": _words("los las del con por para una que como sus esta este"),
    "Italian": _words("della delle dello degli per con che una gli nel nella sono"),
    "Dutch": _words("het een van voor met zijn niet ook"),
    "Portuguese": _words("dos das com uma para pelo pela"),
    "Polish": _words("oraz dla nie sie jest przez"),
}
# Each stopword with the first language in STOPWORDS that lists it ("que": French), found in one lookup. Built from
# the last language to the first, so that an earlier language overwrites a later one.
_LANGUAGE_OF = {word: language for language, words in reversed(STOPWORDS.items()) for word in words}


def too_common(pattern: Pattern) -> str:
    """Why ``pattern`` is too common to be a term (what is wrong and the fix), or "" when it is not."""
    for words in pattern.parts or (pattern.words,):
        problem = _words_problem(words)
        if problem:
            return problem
    return ""


def common_language(text: str) -> str:
    """ "short" for a folded word under MIN_LETTERS, the language whose stopword it is, or ""."""
    if len(text) < MIN_LETTERS:
        return "short"
    return _LANGUAGE_OF.get(text, "")


def _words_problem(words: tuple[Word, ...]) -> str:
    found = []
    for word in words:
        if word.prefix:
            return ""
        language = common_language(word.text)
        if not language:
            return ""  # a word that is neither short nor a stopword: the part says what it is about
        found.append(language)
    if len(words) > 1:
        return (
            "is made only of stopwords and short words, which occur in almost every text; add a word that "
            "says what the item is about"
        )
    text = words[0].text
    if found[0] == "short":
        return (
            f"has fewer than {MIN_LETTERS} letters ({text!r}): on its own it matches far too much; write a "
            "longer word or a phrase that contains it"
        )
    return (
        f"is a stopword ({text!r}, {found[0]}): it occurs in almost every text; remove it, or write a phrase "
        "that contains it"
    )
