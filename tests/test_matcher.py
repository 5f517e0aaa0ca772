"""The topic matcher: term syntax, folding, exclusions, scope, snippets and topics.toml validation."""

from __future__ import annotations

import random
import re
import tomllib
from pathlib import Path

import pytest

from watcher.errors import ConfigError
from watcher.matcher import Matcher, Topic, fold, load_topics, topics_from_toml
from watcher.models import Item

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config" / "topics.toml"


def topic(terms, exclude=(), **kw) -> Topic:
    return Topic(id=kw.pop("id", "t"), label="T", terms=tuple(terms), exclude=tuple(exclude), **kw)


def fired(terms, text, exclude=()) -> tuple[str, ...]:
    """Terms of the single test topic that fire on ``text`` (empty when it does not match)."""
    found = Matcher([topic(terms, exclude)]).match_text(text)
    return found[0].terms if found else ()


def item(title="", summary="", body="", **extra) -> Item:
    return Item(source="s", id="1", title=title, url="", summary=summary, body=body, extra=extra)


def parse(text: str) -> tuple[list[Topic], list[str], list[str]]:
    return topics_from_toml(tomllib.loads(text), "topics.toml")


# ----------------------------------------------------------------- folding


@pytest.mark.parametrize(
    "raw, folded",
    [
        ("Lutte contre les passeurs : l’entrée irrégulière", "lutte contre les passeurs : l'entree irreguliere"),
        ("œuvre, Cœur, ÆGIS", "oeuvre, coeur, aegis"),
        ("Außengrenze STRAẞE Schleusungskriminalität", "aussengrenze strasse schleusungskriminalitat"),
        ("tráfico ilícito de migrantes, niño, ESPAÑA", "trafico ilicito de migrantes, nino, espana"),
        ("perché è città dell’UE", "perche e citta dell'ue"),
        ("Straż Graniczna, Białorusią, przemytników, źródło", "straz graniczna, bialorusia, przemytnikow, zrodlo"),
        ("proteção, migração, não, Conselho", "protecao, migracao, nao, conselho"),
        ("ﬁnal ﬂows", "final flows"),
        ("“quoted” – dash — long ‐ hyphen", '"quoted" - dash - long - hyphen'),
        ("ΣΟΦΟΣ σοφός", "σοφοσ σοφοσ"),
        ("snake_case", "snake case"),
    ],
)
def test_fold_handles_each_language(raw, folded):
    """fold() removes case, accents and ligatures and normalises quotes and dashes in every language."""
    assert fold(raw) == folded


def test_fold_of_decomposed_text_equals_fold_of_composed_text():
    """Text written with combining accents folds like the same text with precomposed letters."""
    assert fold("Re\u0301sume\u0301 cafe\u0301") == fold("Résumé café") == "resume cafe"


# ----------------------------------------------------------------- term syntax


def test_single_word_matches_whole_words_only():
    """A word term does not match inside a longer word."""
    assert fired(["border"], "Border controls at the border") == ("border",)
    assert fired(["border"], "borderline products and borders") == ()


def test_matching_ignores_case_and_accents_both_ways():
    """Terms and text are both folded, so accents may be written or left out on either side."""
    assert fired(["reasentamiento"], "Marco de Reasentamiento") == ("reasentamiento",)
    assert fired(["Prüm"], "PRUM II regulation") == ("Prüm",)
    assert fired(["strasse"], "Straße") == ("strasse",)


def test_phrase_matches_across_spaces_and_punctuation_but_not_other_words():
    """A phrase's words must follow each other; punctuation and line breaks between them do not matter."""
    assert fired(["aide a l entree"], "l'aide à l’entrée, au transit") == ("aide a l entree",)
    assert fired(["migrant smuggling"], "migrant-\nsmuggling") == ("migrant smuggling",)
    assert fired(["migrant smuggling"], "migrant and smuggling") == ()
    assert fired(["migrant smuggling"], "smuggling migrant") == ()


def test_prefix_matches_words_starting_with_it():
    """A trailing star matches every word that begins with the prefix, and nothing shorter."""
    assert fired(["smuggl*"], "Smugglers and smuggling") == ("smuggl*",)
    assert fired(["smuggl*"], "smug smuggle") == ("smuggl*",)
    assert fired(["smuggl*"], "smug") == ()


def test_prefix_inside_a_phrase():
    """Any word of a phrase may carry a star."""
    assert fired(["przemyt* migrant*"], "przemytu migrantów przez granicę") == ("przemyt* migrant*",)
    assert fired(["przemyt* migrant*"], "przemyt papierosów") == ()


def test_phrase_is_found_even_when_its_rarest_word_is_first_or_last():
    """Phrases match wherever their longest word sits in them."""
    assert fired(["return of illegally staying"], "the return of illegally staying persons") != ()
    assert fired(["de la trata"], "víctimas de la trata") != ()
    assert fired(["EU border"], "the EU border agency") != ()


def test_acronym_in_capitals_matches_only_capitals():
    """A term in capitals of up to five letters only fires on the same capitals in the text."""
    assert fired(["SIS"], "SIS II statistics") == ("SIS",)
    assert fired(["SIS"], "la sis edició") == ()
    assert fired(["SIENA"], "the ministers met in Siena") == ()
    assert fired(["SIENA"], "information exchange via SIENA") == ("SIENA",)


def test_acronym_with_plural_s_and_lower_case_acronym():
    """'JITs' requires capitals for JIT; an acronym written in lower case matches any case."""
    assert fired(["JITs"], "two JITs were set up") == ("JITs",)
    assert fired(["JITs"], "two jits were set up") == ()
    assert fired(["frontex"], "FRONTEX and Frontex") == ("frontex",)


def test_acronym_rule_applies_per_word_of_a_phrase():
    """In 'Prüm II' only 'II' must be in capitals."""
    assert fired(["Prüm II"], "prüm II regulation") == ("Prüm II",)
    assert fired(["Prüm II"], "Prüm ii regulation") == ()


def test_numbers_of_legal_acts_match_as_phrases():
    """'2016/399' finds 'Regulation (EU) 2016/399' but not other numbers."""
    assert fired(["2016/399"], "Regulation (EU) 2016/399 of the") == ("2016/399",)
    assert fired(["2016/399"], "Regulation (EU) 2016/3990") == ()


def test_terms_are_listed_as_written_in_order_of_first_hit():
    """Match.terms keeps the maintainer's spelling, in the order the terms first occur."""
    terms = fired(["Frontex", "schengen*", "EES"], "The EES starts; Schengen area; FRONTEX; EES again")
    assert terms == ("EES", "schengen*", "Frontex")


# ----------------------------------------------------------------- exclusions


def test_exclusion_removes_only_hits_inside_its_span():
    """'carbon border' silences 'border' in CBAM, but another 'border' in the item still counts."""
    rules = dict(terms=["border"], exclude=["carbon border"])
    assert fired(text="Carbon Border Adjustment Mechanism", **rules) == ()
    text = "Carbon Border Adjustment Mechanism and checks at the border"
    assert fired(text=text, **rules) == ("border",)


def test_exclusion_does_not_veto_a_longer_term_that_contains_it():
    """A term hit that is longer than the exclusion is not inside it and survives."""
    rules = dict(terms=["cross-border crime", "border"], exclude=["cross-border"])
    assert fired(text="fighting cross-border crime", **rules) == ("cross-border crime",)


def test_exclusion_with_prefix_and_rarest_word_in_the_middle():
    """Exclusions match with the same syntax as terms, wherever their words sit around the hit."""
    rules = dict(terms=["smuggl*"], exclude=["smuggl* of cigarette*", "tobacco smuggl*"])
    assert fired(text="smuggling of cigarettes and tobacco smugglers", **rules) == ()
    assert fired(text="smuggling of cigarettes and of migrants by smugglers", **rules) == ("smuggl*",)


def test_exclusion_vetoes_whatever_mix_of_words_and_prefixes_it_and_the_term_use():
    """A prefix in the exclusion covers a whole-word term and the other way round; other hits survive."""
    rules = dict(terms=["border", "schleusung*"], exclude=["bord* region*", "schleusungen von schiff*"])
    assert fired(text="Border regions", **rules) == ()
    assert fired(text="Schleusungen von Schiffen", **rules) == ()
    assert fired(text="border checks; Schleusungen von Migranten", **rules) == ("border", "schleusung*")


def test_exclusion_of_one_topic_does_not_affect_another():
    """Exclusions only veto the terms of their own topic."""
    matcher = Matcher([topic(["border"], ["carbon border"], id="a"), topic(["border"], id="b")])
    assert [m.topic for m in matcher.match_text("carbon border adjustment")] == ["b"]


def test_exclusion_in_another_field_does_not_veto():
    """An exclusion only covers hits in the same field."""
    matcher = Matcher([topic(["border"], ["carbon border"])])
    found = matcher.match(item(title="Carbon border adjustment", summary="border checks"))
    assert found[0].field == "summary"


# ----------------------------------------------------------------- scope


def test_fields_restrict_where_terms_are_looked_for():
    """A topic limited to the title ignores the body."""
    matcher = Matcher([topic(["frontex"], fields=("title",))])
    assert matcher.match(item(title="Budget", body="Frontex")) == []
    assert matcher.match(item(title="Frontex budget"))[0].field == "title"


def test_match_text_counts_as_title_and_summary():
    """match_text() applies topics scoped to title or summary, not those scoped to the body only."""
    matcher = Matcher([topic(["frontex"], id="s", fields=("summary",)), topic(["frontex"], id="b", fields=("body",))])
    found = matcher.match_text("Frontex")
    assert [(m.topic, m.field) for m in found] == [("s", "text")]


def test_subject_codes_raise_a_topic_and_are_recorded():
    """A register subject code raises the topic even without a term, recorded as subject:CODE."""
    matcher = Matcher([topic(["frontex"], subjects=("MIGR", "FRONT"))])
    found = matcher.match(item(title="Note", subjects=["FRONT 416", "CODEC 2136"]))
    assert found[0].terms == ("subject:FRONT",) and found[0].field == "subjects" and found[0].snippet == ""
    found = matcher.match(item(title="Frontex note", subjects="MIGR 43 COASI 19"))
    assert found[0].terms == ("frontex", "subject:MIGR") and found[0].field == "title"
    assert matcher.match(item(title="Note", subjects=["CODEC 1"])) == []


def test_doc_types_restrict_a_topic_to_those_document_types():
    """A topic with doc_types fires only on items of those types, compared without case or accents."""
    matcher = Matcher([topic(["frontex"], doc_types=("NOTE", "Outcome of proceedings"))])
    assert matcher.match(item(title="Frontex", doc_type="note"))
    assert matcher.match(item(title="Frontex", doc_type="OUTCOME OF PROCEEDINGS"))
    assert matcher.match(item(title="Frontex", doc_type="COVER NOTE")) == []
    assert matcher.match(item(title="Frontex")) == []


def test_match_returns_topics_in_file_order_with_the_first_field():
    """Matches come in topic order; field names the field of the first hit."""
    matcher = Matcher([topic(["asylum"], id="migration"), topic(["frontex"], id="borders")])
    found = matcher.match(item(title="Frontex", body="asylum"))
    assert [(m.topic, m.field) for m in found] == [("migration", "body"), ("borders", "title")]
    assert list(matcher.topics) == ["migration", "borders"]


# ----------------------------------------------------------------- snippets


def test_snippet_marks_the_first_hit_in_context():
    """The snippet shows the first hit in square brackets with surrounding words."""
    found = Matcher([topic(["migrant smuggling"])]).match_text("Council fights the migrant smuggling networks.")
    assert found[0].snippet == "Council fights the [migrant smuggling] networks."


def test_snippet_is_short_and_cut_between_words():
    """A long text gives about 160 characters with ellipses where it was cut."""
    text = "alpha " * 60 + "the Frontex agency " + "omega " * 60
    snippet = Matcher([topic(["frontex"])]).match_text(text)[0].snippet
    assert "[Frontex]" in snippet and snippet.startswith("…") and snippet.endswith("…")
    assert 120 <= len(snippet) <= 170
    assert " alph…" not in snippet and "…lpha" not in snippet


def test_snippet_maps_back_to_original_accented_text():
    """Folding changes lengths (ß→ss, ligatures); the marked hit is still the original spelling."""
    text = "Straße – Œuvre ﬁnale: Schleuser-Netzwerk zerschlagen, Außengrenze gesichert"
    found = Matcher([topic(["schleuser*"]), topic(["aussengrenz*"], id="u")]).match_text(text)
    assert "[Schleuser]-Netzwerk" in found[0].snippet
    assert "[Außengrenze]" in found[1].snippet


def test_snippet_of_a_phrase_spanning_punctuation():
    """The marked span covers the phrase's words and what lies between them."""
    found = Matcher([topic(["aide a l entree"])]).match_text("relative à l’aide à l’entrée, au transit")
    assert "[aide à l’entrée]" in found[0].snippet


def test_snippet_collapses_whitespace():
    """Line breaks and runs of spaces become single spaces in snippets."""
    found = Matcher([topic(["frontex"])]).match(item(body="Report\n\n   by   Frontex\ton returns"))
    assert found[0].snippet == "Report by [Frontex] on returns"


# ----------------------------------------------------------------- agreement with a plain reference


def _reference(topics: list[Topic], text: str) -> dict[str, tuple[str, ...]]:
    """A slow, obvious implementation of the documented semantics, to compare against."""
    words = re.findall(r"\w+", fold(text))
    cased = re.findall(r"\w+", re.sub("_", " ", _keep_case(text)))
    result = {}
    for t in topics:

        def spans(raw):
            pattern = [(w.rstrip("*"), w.endswith("*")) for w in re.findall(r"[^\W_]+\*?", _keep_case(raw))]
            for i in range(len(words) - len(pattern) + 1):
                if all(
                    words[i + k].startswith(fold(p)) if star else words[i + k] == fold(p)
                    for k, (p, star) in enumerate(pattern)
                ) and all(_caps(p) == 0 or cased[i + k][: _caps(p)].isupper() for k, (p, _) in enumerate(pattern)):
                    yield i, i + len(pattern) - 1

        vetoes = [s for raw in t.exclude for s in spans(raw)]
        hits = sorted(
            (a, b, raw) for raw in t.terms for a, b in spans(raw) if not any(x <= a and b <= y for x, y in vetoes)
        )
        if hits:
            first, last, _ = hits[0]
            result[t.id] = (tuple(dict.fromkeys(raw for _, _, raw in hits)), words[first : last + 1])
    return result


def _keep_case(text: str) -> str:
    from watcher.matcher.folding import fold_keep_case

    return fold_keep_case(text)


def _caps(word: str) -> int:
    stem = word[:-1] if len(word) > 1 and word.endswith("s") else word
    return len(stem) if stem.isupper() and len(stem) <= 5 else 0


def test_matcher_agrees_with_reference_on_random_multilingual_text():
    """On random multilingual texts the matcher finds the same topics, terms and first hit as a plain reference."""
    rng = random.Random(1234)
    vocab = [
        "border",
        "Border",
        "borders",
        "grenze",
        "Grenze",
        "Außengrenze",
        "straße",
        "STRASSE",
        "frontex",
        "FRONTEX",
        "Frontex’s",
        "SIS",
        "sis",
        "JITs",
        "jits",
        "carbon",
        "cross",
        "the",
        "of",
        "de",
        "la",
        "trata",
        "personas",
        "se",
        "migrant",
        "migrants",
        "smuggling",
        "smugglers",
        "tobacco",
        "œuvre",
        "oeuvre",
        "ﬁnal",
        "final",
        "Białoruś",
        "bialorus",
        "σοφός",
        "ΣΟΦΟΣ",
        "e\u0301te\u0301",
        "été",
        "2016",
        "399",
        "l’entrée",
        "entree",
        "aide",
        "à",
        "a",
        "l",
        "x_y",
        "naïve",
        "NAÏVE",
        "Prüm",
        "II",
        "des",
        "des",
        "crime",
    ]
    separators = [" ", " ", " ", ", ", " – ", "-", "\n", "/", "’", " (", ") ", "\u00a0", "…"]
    topics = [
        topic(["border", "borders", "cross border crime"], ["carbon border", "cross border"], id="b"),
        topic(["grenze", "aussengrenz*", "strasse"], ["grenze des"], id="g"),
        topic(["SIS", "JITs", "Prüm II", "frontex"], id="a"),
        topic(["trata de personas", "smuggl*", "migrant smuggl*"], ["se trata de personas", "tobacco smuggl*"], id="s"),
        topic(["oeuvre final", "bialorus*", "σοφοσ", "ete", "2016/399", "aide a l entree", "naive"], id="u"),
    ]
    matcher = Matcher(topics)
    for _ in range(400):
        text = "".join(rng.choice(vocab) + rng.choice(separators) for _ in range(rng.randint(1, 30)))
        got = {
            m.topic: (m.terms, re.findall(r"\w+", fold(m.snippet.split("[", 1)[1].rsplit("]", 1)[0])))
            for m in matcher.match_text(text)
        }
        assert got == _reference(topics, text), text


# ----------------------------------------------------------------- terms that give way to another topic


def _giving_way(**extra) -> Matcher:
    """'smuggling' and a 'migration' topic whose 'migrant*' gives way to smuggling."""
    return Matcher(
        [
            topic(["smuggl*"], id="smuggling", **extra.pop("smuggling", {})),
            topic(
                ["asylum"],
                ["migrant workers"],
                id="migration",
                yield_to=(("smuggling", ("migrant*",)),),
                **extra.pop("migration", {}),
            ),
        ]
    )


def _raised(matcher: Matcher, **fields) -> dict[str, tuple[str, ...]]:
    return {m.topic: m.terms for m in matcher.match(item(**fields))}


def test_yielding_term_counts_when_the_other_topic_is_not_raised():
    """A yield_to term raises its topic like any term while the topic it gives way to stays silent."""
    assert _raised(_giving_way(), title="Migrants arrive in Lampedusa") == {"migration": ("migrant*",)}


def test_yielding_term_is_dropped_when_the_other_topic_is_raised_anywhere_in_the_item():
    """Once 'smuggling' fires, even in another field, 'migrant*' no longer raises migration."""
    assert _raised(_giving_way(), title="Smugglers arrested", body="they moved migrants in a van") == {
        "smuggling": ("smuggl*",)
    }


def test_ordinary_terms_of_the_yielding_topic_still_count():
    """Only the yield_to hits are dropped: an ordinary term keeps the topic, listed without them."""
    found = _raised(_giving_way(), title="Smugglers moved migrants and asylum seekers")
    assert found == {"smuggling": ("smuggl*",), "migration": ("asylum",)}


def test_a_topic_raised_only_by_its_own_yielding_terms_silences_nothing():
    """Giving way is decided on ordinary terms, so two yielding topics cannot cancel each other."""
    matcher = Matcher(
        [topic(["x"], id="a", yield_to=(("b", ("frontex",)),)), topic(["y"], id="b", yield_to=(("a", ("frontex",)),))]
    )
    assert [m.topic for m in matcher.match_text("Frontex")] == ["a", "b"]


def test_subject_code_of_the_other_topic_also_silences():
    """A register subject code that raises the other topic counts as that topic being raised."""
    matcher = _giving_way(smuggling={"subjects": ("CRIMORG",)})
    found = matcher.match(item(title="Migrants in Lampedusa", subjects=["CRIMORG 12"]))
    assert [(m.topic, m.terms) for m in found] == [("smuggling", ("subject:CRIMORG",))]


def test_other_topic_outside_its_document_types_does_not_silence():
    """A topic that doc_types keeps off an item cannot make another topic give way on it."""
    matcher = _giving_way(smuggling={"doc_types": ("NOTE",)})
    found = _raised(matcher, title="Smugglers moved migrants", doc_type="PRESS RELEASE")
    assert found == {"migration": ("migrant*",)}


def test_exclusions_apply_to_yielding_terms():
    """The topic's exclusions veto yield_to terms too."""
    assert _raised(_giving_way(), title="Rights of migrant workers") == {}


def test_yield_to_is_read_from_a_sub_table_of_the_topic():
    """[topic.yield_to] after a topic's keys gives that topic its yielding terms, in file order."""
    text = (
        '[[topic]]\nid = "s"\nlabel = "S"\nterms = ["smuggl*"]\n\n'
        '[[topic]]\nid = "m"\nlabel = "M"\nterms = ["asylum"]\nexclude = ["migrant workers"]\n'
        '[topic.yield_to]\ns = ["migrant*", "patera*"]\n'
    )
    topics, errors, warnings = parse(text)
    assert errors == [] and warnings == []
    assert topics[1].yield_to == (("s", ("migrant*", "patera*")),)


@pytest.mark.parametrize(
    "table, expected",
    [
        ('yield_to = ["s"]', "'yield_to' must be a table of topic ids and term lists"),
        ('[topic.yield_to]\nnobody = ["xeno"]', "yield_to names unknown topic 'nobody' (topics: m, s)"),
        ('[topic.yield_to]\nm = ["xeno"]', "yield_to names the topic itself ('m')"),
        ('[topic.yield_to]\ns = "migrant*"', "'yield_to.s' must be a list of strings"),
        ('[topic.yield_to]\ns = ["mi*"]', "yield_to term 'mi*' is a prefix shorter than 4 letters"),
        ('[topic.yield_to]\ns = ["xeno"]\nsubjects = ["MIGR"]', "yield_to names unknown topic 'subjects'"),
    ],
)
def test_yield_to_mistakes_are_one_line_errors(table, expected):
    """A malformed yield_to, an unknown or own topic id, or keys written below it are reported with the fix."""
    text = (
        '[[topic]]\nid = "s"\nlabel = "S"\nterms = ["alpha"]\n\n'
        '[[topic]]\nid = "m"\nlabel = "M"\nterms = ["beta"]\n' + table + "\n"
    )
    topics, errors, _ = parse(text)
    assert [t.id for t in topics] == ["s"]
    assert any(line.startswith("topics.toml: topic 'm': " + expected) for line in errors), errors


def test_yield_to_warnings():
    """A yielding term also listed in terms is warned about; an exclusion vetoing only it is not dead."""
    text = (
        '[[topic]]\nid = "s"\nlabel = "S"\nterms = ["alpha"]\n\n'
        '[[topic]]\nid = "m"\nlabel = "M"\nterms = ["asylum", "migrant*"]\n'
        'exclude = ["patera museum"]\n[topic.yield_to]\ns = ["migrant*", "patera*"]\n'
    )
    _, errors, warnings = parse(text)
    assert errors == []
    assert warnings == [
        "topics.toml: topic 'm': yield_to term 'migrant*' is also listed in terms as "
        "'migrant*', so it always counts; remove it from one list"
    ]


def test_matcher_refuses_yield_to_an_unknown_topic_built_in_code():
    """A Topic built in code that yields to a missing topic is a ConfigError."""
    with pytest.raises(ConfigError, match="yield_to names 'ghost'"):
        Matcher([topic(["a"], yield_to=(("ghost", ("b",)),))])


# ----------------------------------------------------------------- validation


def test_valid_topic_builds_with_defaults():
    """A minimal entry becomes a Topic with all fields searched and no errors or warnings."""
    topics, errors, warnings = parse('[[topic]]\nid = "x"\nlabel = "X"\nterms = ["frontex"]\n')
    assert errors == [] and warnings == []
    assert topics == [Topic(id="x", label="X", terms=("frontex",))]


@pytest.mark.parametrize(
    "entry, expected",
    [
        ('label = "X"\nterms = ["alpha"]', "topic #1: has no id"),
        ('id = ""\nlabel = "X"\nterms = ["alpha"]', "topic #1: has no id"),
        ('id = "Bad Id"\nlabel = "X"\nterms = ["alpha"]', "topic 'Bad Id': id must use only lower-case"),
        ('id = "x"\nterms = ["alpha"]', "topic 'x': has no label"),
        ('id = "x"\nlabel = 3\nterms = ["alpha"]', "topic 'x': has no label"),
        ('id = "x"\nlabel = "X"', "topic 'x': 'terms' must be a list of strings"),
        ('id = "x"\nlabel = "X"\nterms = []', "topic 'x': 'terms' is empty"),
        ('id = "x"\nlabel = "X"\nterms = "frontex"', "topic 'x': 'terms' must be a list of strings"),
        ('id = "x"\nlabel = "X"\nterms = ["a", 3]', "topic 'x': 'terms' must be a list of strings"),
        ('id = "x"\nlabel = "X"\nterms = ["--"]', "topic 'x': term '--' has no letters or digits"),
        ('id = "x"\nlabel = "X"\nterms = ["  "]', "topic 'x': term '  ' is empty"),
        (
            'id = "x"\nlabel = "X"\nterms = ["bo*"]',
            "topic 'x': term 'bo*' is a prefix shorter than 4 letters; write at least 4 letters before *",
        ),
        ('id = "x"\nlabel = "X"\nterms = ["smug*gl"]', "topic 'x': term 'smug*gl' has a '*' inside a word"),
        ('id = "x"\nlabel = "X"\nterms = ["* border"]', "topic 'x': term '* border' has a '*' that does not end"),
        ('id = "x"\nlabel = "X"\nterms = ["border|frontier"]', "topic 'x': term 'border|frontier' contains '|'"),
        ('id = "x"\nlabel = "X"\nterms = ["smuggl.*"]', "topic 'x': term 'smuggl.*' contains '.*'"),
        (
            'id = "x"\nlabel = "X"\nterms = ["alpha"]\nexclude = ["ca*"]',
            "topic 'x': exclusion 'ca*' is a prefix shorter",
        ),
        ('id = "x"\nlabel = "X"\nterms = ["alpha"]\nexclude = "b"', "topic 'x': 'exclude' must be a list of strings"),
        (
            'id = "x"\nlabel = "X"\nterms = ["alpha"]\nfields = ["titel"]',
            "topic 'x': unknown field 'titel' in 'fields'",
        ),
        ('id = "x"\nlabel = "X"\nterms = ["alpha"]\nfields = []', "topic 'x': 'fields' must be a non-empty list"),
        ('id = "x"\nlabel = "X"\nterms = ["alpha"]\nsubjects = ["MIGR 43"]', "topic 'x': subject code 'MIGR 43'"),
        ('id = "x"\nlabel = "X"\nterms = ["alpha"]\nsubjects = "MIGR"', "topic 'x': 'subjects' must be a list"),
        ('id = "x"\nlabel = "X"\nterms = ["alpha"]\ndoc_types = [""]', "topic 'x': 'doc_types' must be a list"),
        (
            'id = "x"\nlabel = "X"\nterms = ["alpha"]\nexlude = ["b"]',
            "topic 'x': unknown key 'exlude'; did you mean 'exclude'?",
        ),
    ],
)
def test_each_mistake_gives_one_line_naming_file_topic_and_fix(entry, expected):
    """Every kind of mistake is an error on one line that starts with the file and the topic."""
    topics, errors, _ = parse("[[topic]]\n" + entry + "\n")
    assert topics == []
    assert any(line.startswith("topics.toml: " + expected) for line in errors), errors
    assert all("\n" not in line and line.startswith("topics.toml: ") for line in errors)


def test_duplicate_ids_are_an_error():
    """Two topics with the same id are refused; the first one is kept."""
    entry = '[[topic]]\nid = "x"\nlabel = "X"\nterms = ["alpha"]\n'
    topics, errors, _ = parse(entry + entry)
    assert [t.id for t in topics] == ["x"]
    assert errors == ["topics.toml: topic 'x': id is already used by an earlier topic; give each topic its own id"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[[topics]]\nid = "x"\nlabel = "X"\nterms = ["alpha"]\n', "unknown top-level key 'topics'"),
        ('[topic]\nid = "x"\nlabel = "X"\nterms = ["alpha"]\n', "'topic' must be written [[topic]]"),
        ("", "no [[topic]] tables found"),
    ],
)
def test_file_level_mistakes(text, expected):
    """A misspelt or single-bracket [[topic]] table, or an empty file, is reported."""
    _, errors, _ = parse(text)
    assert any(expected in line for line in errors), errors


def test_warnings_for_duplicates_self_exclusion_and_dead_exclusions():
    """Repeated terms, a term also excluded, and an exclusion that cannot veto anything are warned about."""
    text = (
        '[[topic]]\nid = "x"\nlabel = "X"\nterms = ["Frontex", "frontex", "border"]\nexclude = ["border", "tobacco"]\n'
    )
    topics, errors, warnings = parse(text)
    assert errors == [] and len(topics) == 1
    assert "topics.toml: topic 'x': term 'frontex' repeats 'Frontex'; remove one" in warnings
    assert any("term 'border' is also listed in exclude" in w for w in warnings)
    assert any("exclusion 'tobacco' contains none of the topic's terms" in w for w in warnings)
    assert len(warnings) == 3


def test_an_exclusion_of_a_topic_the_relevance_model_raises_is_not_called_dead():
    """With ``relevance``, an exclusion also stops the model's hits, which need none of the topic's terms."""
    text = '[[topic]]\nid = "x"\nlabel = "X"\nrelevance = 0.6\nterms = ["border"]\nexclude = ["tobacco"]\n'
    topics, errors, warnings = parse(text)
    assert errors == [] and topics[0].relevance == 0.6
    assert warnings == []


def test_matcher_refuses_invalid_topics_built_in_code():
    """Building a Matcher from bad Topic objects raises ConfigError, not a silent dead rule."""
    with pytest.raises(ConfigError, match="prefix shorter"):
        Matcher([topic(["bo*"])])
    with pytest.raises(ConfigError, match="used twice"):
        Matcher([topic(["a"]), topic(["b"])])


def test_load_topics_reports_toml_syntax_errors(tmp_path):
    """A broken TOML file is a ConfigError naming the file."""
    path = tmp_path / "topics.toml"
    path.write_text('[[topic]]\nid = "x\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="topics.toml: not valid TOML"):
        load_topics(path)


# ----------------------------------------------------------------- the shipped file


def test_shipped_topics_file_loads_without_errors_or_warnings():
    """config/topics.toml as shipped is valid, warning-free and defines the four topics."""
    topics, errors, warnings = topics_from_toml(tomllib.loads(SHIPPED.read_text(encoding="utf-8")))
    assert errors == [] and warnings == []
    assert [t.id for t in topics] == ["smuggling", "borders", "migration", "policing"]
    assert Matcher(load_topics(SHIPPED)).compile_ms > 0


def test_shipped_topics_cover_the_required_acronyms():
    """The shipped packs know the agencies, systems and instruments by their acronyms."""
    matcher = Matcher(load_topics(SHIPPED))
    expected = {
        "EMSC": "smuggling",
        "ASOPs": "smuggling",
        "EIBM": "borders",
        "EBCG": "borders",
        "EES": "borders",
        "ETIAS": "borders",
        "SIS II": "borders",
        "VIS": "borders",
        "EUROSUR": "borders",
        "Frontex": "borders",
        "EMPACT": "policing",
        "JIT": "policing",
        "SIENA": "policing",
        "SOCTA": "policing",
        "PNR": "policing",
        "Prüm": "policing",
        "Europol": "policing",
        "Eurojust": "policing",
        "Eurodac": "migration",
        "AMMR": "migration",
    }
    for acronym, topic_id in expected.items():
        assert topic_id in {m.topic for m in matcher.match_text(f"Note on {acronym} - state of play")}, acronym


# ----------------------------------------------------------------- words together ("a + b")


def test_joined_term_needs_every_part_in_one_field():
    """A '+' term fires only when all its parts occur in the same field, in any order."""
    terms = ["per person + crossing*"]
    assert fired(terms, "charged EUR 3 000 per person for crossings")
    assert fired(terms, "crossings to Italy cost EUR 3 000 per person")
    assert not fired(terms, "tickets cost EUR 30 per person")
    m = Matcher([topic(terms)])
    assert not m.match(item(title="EUR 3 000 per person", summary="night crossings"))


def test_exclusion_cancels_one_part_of_joined_term():
    """An exclusion containing one part's hit cancels that part, so the joined term stays silent."""
    terms = ["per person + crossing*"]
    assert not fired(terms, "the ferry crossing costs EUR 45 per person", exclude=["ferry crossing*"])
    assert fired(terms, "a ferry crossing, then night crossings at EUR 900 per person", exclude=["ferry crossing*"])


def test_joined_term_is_refused_in_exclusions_and_when_malformed():
    """'+' in an exclusion, an empty part or a bad part is reported by check-config."""
    data = {"topic": [{"id": "t", "label": "T", "terms": ["per person + crossing*"], "exclude": ["ferry + crossing*"]}]}
    _, errors, _ = topics_from_toml(data)
    assert any("only terms may do" in e for e in errors)
    for bad in ["per person +", "+ crossing*", "per person + cr*", "a + b + c + d + e"]:
        _, errors, _ = topics_from_toml({"topic": [{"id": "t", "label": "T", "terms": [bad]}]})
        assert errors, bad


def test_lazy_matcher_compiles_once_on_first_match_and_matches_alike(monkeypatch):
    """LazyMatcher builds nothing until an item is matched; threads matching at once share one compiled Matcher,
    and its answers are the Matcher's."""
    import threading

    from watcher.matcher import LazyMatcher, engine

    topics = [Topic(id="smuggling", label="S", terms=("smuggl*",)), Topic(id="borders", label="B", terms=("frontex",))]
    builds = []
    real_init = engine.Matcher.__init__

    def counting_init(self, *args, **kwargs):
        builds.append(threading.get_ident())
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(engine.Matcher, "__init__", counting_init)
    lazy = LazyMatcher(topics)
    assert not lazy.compiled and builds == []
    item = Item(source="s", id="1", title="Frontex and the smugglers", url="https://e.org/1")
    start = threading.Barrier(8)
    answers = []

    def match() -> None:
        start.wait()
        answers.append(lazy.match(item))

    threads = [threading.Thread(target=match) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert lazy.compiled and len(builds) == 1
    assert answers == [Matcher(topics).match(item)] * 8
