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
# More function words (pronouns, prepositions, conjunctions, auxiliaries, common adverbs), folded, of three letters
# or more and none of STOPWORDS. They say nothing of what a text is about, so the relevance model's explanations leave
# them out (watcher.matcher.model.readable). The matcher and the topics' checks never read these lists: a term made of
# these words is as valid as before, and what matches does not change.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "English": _words(
        "about above across after again against all along although among any around because been before behind being "
        "below beneath beside besides between beyond both can cannot could did does doing down during each either "
        "else ever every few further her here hers herself him himself his how however itself just least less many "
        "might more most much must neither never nor now off once one only onto other others our ours ourselves out "
        "over own same several shall she should since some still such their theirs them themselves there thereby "
        "therefore they though through throughout thus till too toward towards under unless unlike until upon very "
        "via whatever when whenever where whereas wherever whether while whom whose why will within without would yet "
        "you your yours"
    ),
    "French": _words(
        "ainsi alors apres aucun aucune aupres aussi autre autres avaient avait avant avoir bien car ceci cela celle "
        "celles celui cet ceux chaque chez comme comment contre deja depuis doit donc dont elle elles encore entre "
        "envers etaient etait ete etre eux hors ici ils jusqu lors lorsque lui mais meme moins non nos notre nous ont "
        "outre parmi pas peu peut plus plusieurs pourquoi pres puis quand quel quelle quelles quels quoi sans selon "
        "sera seront sinon soit sous tandis tant tel telle toujours tous tout toute toutes tres trop vers via vos "
        "votre vous"
    ),
    "German": _words(
        "aber alle allem allen aller alles als andere anderen anderer auch bereits bis bisher dabei dadurch dafur "
        "dagegen daher damit dann daran darauf darin darum dass davon dazu denn deren dessen dies diese diesem diesen "
        "dieser dieses doch dort durch einem einen einige einigen etwa gegen gegenuber haben hat hatte hatten hier "
        "ihm ihn ihnen ihr ihre ihrem ihren ihrer immer jedoch jetzt kann kein keine konnen konnte laut man mehr muss "
        "mussen nach nachdem neben noch nun nur oder ohne rund schon sehr sein seine seinem seinen seiner seit "
        "seitdem soll sollen sollte sowie trotz uber unter viel viele vom vor wahrend war waren warum wegen weil "
        "weiter weitere wenn wer werden wie wieder will wir wird wurde wurden zudem zwar zwischen"
    ),
    "Spanish": _words(
        "algo alguna algunas alguno algunos ante antes aquel bajo cada casi contra cual cuales cuando desde despues "
        "donde durante ella ellas ello ellos entre era eran esa esas ese eso esos estaba estan estas estos fue fueron "
        "hacia han hasta hay mas mediante mismo muy nos nosotros otra otras otro otros pero poco porque puede pueden "
        "sea segun ser sido sin sino sobre solo tambien tanto tiene tienen toda todas todo todos tras unas uno unos"
    ),
    "Italian": _words(
        "agli all alla alle allo anche ancora avere aveva circa come contro cosi cui dagli dai dal dall dalla dalle "
        "dei dell dopo dove dunque essere fra gia hanno loro mentre molto negli nei nell nelle non ogni oltre perche "
        "piu poi presso proprio quale quali quando quanto quella quelle quelli quello questa queste questi questo "
        "sempre senza sia sotto stata stato sua sue sui sul sull sulla sulle suo suoi tra tutta tutte tutti tutto uno "
        "vengono verso viene"
    ),
    "Dutch": _words(
        "aan achter alle als bij binnen boven buiten dan dat deze dit door dus echter eens geen haar hebben heeft hem "
        "hen hier hij hoe hun ieder iets kan kunnen langs maar meer men mij moet moeten naar naast nog omdat onder "
        "ons onze opnieuw over reeds samen sinds tegen toch tot tussen uit vanaf vanuit veel waar wanneer want waren "
        "wat weer wel welke werd wie wij worden wordt zal zich zij zoals zonder zou zullen"
    ),
    "Portuguese": _words(
        "ainda aos apenas apos ate atraves cada contra depois desde durante ela elas ele eles entre era eram essa "
        "esse estao foi foram isso isto mais mas muito nao nas nem nos num numa onde pelas pelos porque quando sao "
        "seja sem ser seu seus sobre sua suas tambem tem ter toda todas todo todos"
    ),
    "Polish": _words(
        "aby albo ale ani bez byc byl byla byli byly czy gdy gdzie ich jak jako jednak jego jej juz kiedy ktora ktore "
        "ktorego ktorej ktory ktorzy lub miedzy moze nad nich niz ona one oni ono pod podczas przed przy tak takze "
        "tam tego tej ten tez tylko tym wiec wraz wszystkie zas zostal zostala zostalo zostaly"
    ),
}
_FUNCTION = frozenset().union(*FUNCTION_WORDS.values())
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


def says_nothing(word: str) -> bool:
    """Whether a folded word says nothing of what a text is about: under MIN_LETTERS, a stopword or a function word
    (FUNCTION_WORDS). For explanations only: whether a term is too common is ``too_common``'s, which ignores
    FUNCTION_WORDS."""
    return bool(common_language(word)) or word in _FUNCTION


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
