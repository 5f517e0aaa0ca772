"""The bot in the subscriber's language: the message catalogues are complete, the language comes from Telegram's
``language_code`` until the chat chooses with /language, the choice survives a restart, and topic names are
translated. Through the real python-telegram-bot and the fake Bot API."""

from __future__ import annotations

import asyncio
import gettext
import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from telegram import Bot

from tests.conftest import ROOT, SHIPPED_CONFIG
from tests.fakes.telegram import ADMIN_CHAT, RunningBot, make_store, queue_alert
from tests.fakes.telegram import topics as fake_topics
from watcher import i18n
from watcher.bot import handlers as watcher_bot
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.matcher import topics_from_toml
from watcher.notifiers.telegram import TelegramNotifier
from watcher.sources.rss import RssSource
from watcher.store import chat_prefs, subscribers, watches

USER = 1001
GROUP = -2002
LOCALE = ROOT / "watcher" / "locale"
# What scripts/catalogues.sh extracts.
SOURCES_OF_TEXTS = [
    ROOT / "watcher" / "bot",
    ROOT / "watcher" / "i18n.py",
    ROOT / "watcher" / "health.py",
    ROOT / "watcher" / "matcher" / "personal.py",
    ROOT / "watcher" / "notifiers" / "format.py",
    ROOT / "watcher" / "notifiers" / "telegram.py",
    ROOT / "watcher" / "delivery" / "backpressure.py",
]
PLACEHOLDER = re.compile(r"\{[a-z_]*(?::[^}]*)?\}")


def buttons(message: dict) -> dict[str, str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["callback_data"]: b["text"] for row in rows for b in row}


def extracted(paths: list[Path]) -> set[str | tuple[str, str]]:
    """Every text marked for translation in these files and folders, as pybabel extract finds it."""
    found: set[str | tuple[str, str]] = set()
    for path in paths:
        if path.is_dir():
            messages = extract_from_dir(path, [("**.py", "python")], keywords=DEFAULT_KEYWORDS)
            found |= {m[2] if isinstance(m[2], str) else tuple(m[2][:2]) for m in messages}
        else:
            messages = extract_from_dir(path.parent, [(path.name, "python"), ("**", "ignore")])
            found |= {m[2] if isinstance(m[2], str) else tuple(m[2][:2]) for m in messages}
    return found


def problems(texts: set, language: str) -> list[str]:
    """What is wrong with one language's catalogue for these texts: a text missing or untranslated (or fuzzy), a
    placeholder lost or added, a compiled catalogue that does not say what the .po says."""
    po_path = LOCALE / language / "LC_MESSAGES" / "watcher.po"
    with po_path.open("rb") as f:
        po = read_po(f)
    with (po_path.with_suffix(".mo")).open("rb") as f:
        mo = gettext.GNUTranslations(f)
    found = []
    for text in sorted(texts, key=str):
        key = text[0] if isinstance(text, tuple) else text
        entry = po.get(key)
        strings = entry and (list(entry.string) if isinstance(entry.string, tuple) else [entry.string])
        if entry is None or not all(strings) or entry.fuzzy:
            found.append(f"{language}: no translation of {text!r}")
            continue
        wanted = set(PLACEHOLDER.findall(key if isinstance(text, str) else text[1]))
        for s in strings:
            if set(PLACEHOLDER.findall(s)) - {"{n}"} != wanted - {"{n}"}:
                found.append(f"{language}: {s!r} does not keep the placeholders of {key!r}")
        compiled = mo.gettext(key) if isinstance(text, str) else mo.ngettext(text[0], text[1], 2)
        if compiled != strings[-1 if isinstance(text, tuple) else 0]:
            found.append(f"{language}: the .mo is older than the .po for {key!r}; run scripts/catalogues.sh")
    return found


def test_every_text_of_the_bot_is_translated_in_every_catalogue():
    """Extract the marked texts from the code as scripts/catalogues.sh does: each has a translation (not fuzzy,
    with the same placeholders) in the French and German catalogues, their compiled .mo files agree, and the .pot
    lists exactly the texts in the code."""
    texts = extracted(SOURCES_OF_TEXTS)
    assert len(texts) > 100
    assert [p for language in i18n.TRANSLATED for p in problems(texts, language)] == []
    with (LOCALE / "watcher.pot").open("rb") as f:
        pot = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(f) if m.id}
    assert pot == texts, "watcher.pot is out of date: run scripts/catalogues.sh"


def test_no_text_is_marked_inside_an_f_string():
    """pybabel does not look inside f-strings, so a ``_()`` there would never reach the catalogues."""
    marked_inside = re.compile(r"\{(?:_|N_|ngettext)\(")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for source in SOURCES_OF_TEXTS
        for path in ([source] if source.is_file() else sorted(source.rglob("*.py")))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if marked_inside.search(line)
    ]
    assert found == []


def test_a_new_text_without_a_translation_is_found(tmp_path):
    """The check above does fail: a module with a text that no catalogue has is reported, for both languages."""
    module = tmp_path / "new_command.py"
    module.write_text('from watcher.i18n import _\n\nTEXT = _("A reply nobody has translated yet.")\n')
    texts = extracted([*SOURCES_OF_TEXTS, tmp_path])
    found = [p for language in i18n.TRANSLATED for p in problems(texts, language)]
    assert found == [
        "fr: no translation of 'A reply nobody has translated yet.'",
        "de: no translation of 'A reply nobody has translated yet.'",
    ]


@pytest.mark.parametrize("code,language", [("fr", "fr"), ("fr-CA", "fr"), ("de-AT", "de"), ("es", "en"), (None, "en")])
def test_telegram_language_codes(code, language):
    assert i18n.from_telegram(code) == language


async def test_a_french_user_gets_french_start_and_help(running, store):
    """A user whose Telegram is in French gets /start, the topic buttons and /help in French, topic names
    included; nothing is stored until the chat chooses."""
    answer = await running.say(USER, "/start", language_code="fr-FR")
    assert "Cette discussion est maintenant abonnée à : " in answer["plain_text"]
    assert "Trafic de migrants" in answer["plain_text"] and "Migrant smuggling" not in answer["plain_text"]
    assert buttons(answer)["t:smuggling"] == "✅ Trafic de migrants" and buttons(answer)["all:on"] == "Tout activer"
    answer = await running.say(USER, "/help", language_code="fr-FR")
    assert "Je surveille 2 sources (council-press, statewatch)" in answer["plain_text"]
    assert "/subscribe <thème> – Ajouter un thème" in answer["plain_text"]
    assert "Thèmes : smuggling, borders, migration." in answer["plain_text"]
    assert chat_prefs.language(store, "telegram", str(USER)) is None
    answer = await running.say(USER, "/help", language_code="en-GB")
    assert "/subscribe <topic> – add a topic" in answer["plain_text"]


async def test_language_command_switches_and_is_kept_over_the_users_telegram_language(running, store):
    """/language de answers in German and from then on the chat gets German, whatever the user's own Telegram
    language; /me shows it."""
    await running.say(USER, "/start", language_code="fr")
    answer = await running.say(USER, "/language de", language_code="fr")
    assert answer["plain_text"] == "Ab jetzt schreibe ich diesem Chat auf Deutsch."
    assert chat_prefs.language(store, "telegram", str(USER)) == "de"
    answer = await running.say(USER, "/subscribe borders", language_code="fr")
    assert "Grenzen & Schengen war schon eingeschaltet." in answer["plain_text"]
    me = await running.say(USER, "/me", language_code="fr")
    assert "Sprache: Deutsch (/language)" in me["plain_text"] and "Themen: " in me["plain_text"]
    answer = await running.say(USER, "/language en")
    assert answer["plain_text"] == "From now on I write to this chat in English."


async def test_the_chosen_language_survives_a_restart(api, tmp_path, clock):
    """The choice is in the database: a new Application on the same SQLite file still writes German."""
    path = tmp_path / "w.db"
    store = make_store(path, clock)
    async with RunningBot(api, store) as bot:
        await bot.say(USER, "/start")
        await bot.say(USER, "/language de")
    store.close()
    store = make_store(path, clock)
    try:
        async with RunningBot(api, store) as bot:
            answer = await bot.say(USER, "/digest 8 europe/berlin")
        assert "Ab jetzt erhält dieser Chat täglich um 08:00 Uhr (Europe/Berlin)" in answer["plain_text"]
        assert "Die erste kommt am Di. 15 Sept., 08:00." in answer["plain_text"]  # Babel's German day and month
        assert subscribers.settings(store, "telegram", str(USER))["digest_tz"] == "Europe/Berlin"
    finally:
        store.close()


async def test_an_unknown_language_code_gets_the_ones_that_work(running, store):
    """/language es (or a long text) is answered with the three codes, quoting a short excerpt; nothing changes."""
    answer = await running.say(USER, "/language es")
    assert answer["plain_text"] == (
        "I do not speak es. Write /language en, /language fr, /language de (English, French, German)."
    )
    answer = await running.say(USER, "/language " + "x" * 4000, language_code="de")
    assert answer["plain_text"].startswith("Die Sprache xxxxxxxxxx") and len(answer["text"]) < 300
    assert chat_prefs.language(store, "telegram", str(USER)) is None


async def test_language_buttons_and_a_forged_one(running, api, store, caplog):
    """/language alone shows a button per language; pressing one switches and redraws in the new language; data
    that no button carries changes nothing, says so and is logged."""
    shown = await running.say(USER, "/language")
    assert buttons(shown) == {"lang:en": "✅ English", "lang:fr": "Français", "lang:de": "Deutsch"}
    answer = await running.press(USER, shown["message_id"], "lang:fr")
    assert answer["text"] == "Désormais, j’écris à cette discussion en français."
    assert "Langue de cette discussion : Français." in api.message(USER, shown["message_id"])["text"]
    with caplog.at_level("WARNING", logger="watcher.bot"):
        answer = await running.press(USER, shown["message_id"], "lang:es", forged=True, edits=False)
    assert answer["text"] == "Ce bouton ne vient pas de moi : rien n’a changé. Envoyez /language."
    assert chat_prefs.language(store, "telegram", str(USER)) == "fr"
    assert any("refused a language button" in r.getMessage() for r in caplog.records)


async def test_in_a_group_only_administrators_choose_the_language(running, api, store):
    """A member's /language in a group is refused (in the member's language); an administrator's is kept for the
    whole group."""
    api.add_chat(GROUP, "group", "Researchers")
    api.set_admins(GROUP, [42])
    answer = await running.say(GROUP, "/language de", user_id=7, language_code="fr")
    assert "Seuls les administrateurs" in answer["plain_text"]
    assert chat_prefs.language(store, "telegram", str(GROUP)) is None
    await running.say(GROUP, "/language de", user_id=42)
    answer = await running.say(GROUP, "/topics", user_id=7, language_code="fr")
    assert answer["plain_text"].startswith("Themen – tippen Sie auf eines")


async def test_the_command_menu_in_french_and_german(api, store):
    """At start-up the menu is also set for Telegram apps in French and German."""
    async with RunningBot(api, store) as rb:
        await watcher_bot.set_commands(rb.app.bot, frozenset({ADMIN_CHAT}))
    french = {c["command"]: c["description"] for c in api.commands(language_code="fr")}
    german = {c["command"]: c["description"] for c in api.commands(language_code="de")}
    assert french["start"] == "Abonner cette discussion à tous les thèmes"
    assert german["language"] == "Die Sprache, in der ich schreibe: Englisch, Französisch oder Deutsch"
    assert list(french) == list(german) == [name for name, _a, _t in watcher_bot.PUBLIC]


def test_shipped_topics_have_french_and_german_names():
    """Each of the four shipped topics has a French and a German name."""
    topics, errors, _ = topics_from_toml(tomllib.loads((SHIPPED_CONFIG / "topics.toml").read_text(encoding="utf-8")))
    assert errors == []
    assert {t.id: sorted(dict(t.names)) for t in topics} == {t.id: ["de", "fr"] for t in topics}
    assert len(topics) == 4
    assert {t.id: t.label_in("fr") for t in topics}["migration"] == "Asile et migration"
    assert {t.id: t.label_in("de") for t in topics}["borders"] == "EU-Grenzen, Schengen und Visa"


@pytest.mark.parametrize(
    "name,error",
    [
        ({"es": "Migración"}, "name.es: the bot does not speak 'es'; use one of fr, de"),
        ({"fr": ""}, 'name.fr must be a non-empty text, e.g. name.fr = "…"'),
        ("Migration", 'name must give the label in other languages, one line each: name.fr = "…"'),
    ],
)
def test_a_topic_name_in_an_unknown_language_is_an_error_that_names_the_fix(name, error):
    data = {"topic": [{"id": "migration", "label": "Migration", "name": name, "terms": ["asylum"]}]}
    topics, errors, _ = topics_from_toml(data)
    assert topics == [] and len(errors) == 1 and error in errors[0]
    assert errors[0].startswith("topics.toml: topic 'migration': ")


async def test_own_terms_commands_in_german(running, store):
    """/watch, /watching and /me's line about the chat's own terms follow the chat's language too."""
    await running.say(USER, "/start", language_code="de")
    answer = await running.say(USER, "/watch pushbacks", language_code="de")
    assert answer["plain_text"].startswith("pushbacks wird beobachtet: Jeder Eintrag, der ihn enthält")
    listed = await running.say(USER, "/watching", language_code="de")
    assert listed["plain_text"].startswith("Dieser Chat beobachtet (1 von ")
    assert buttons(listed) and list(buttons(listed).values()) == ["pushbacks entfernen"]
    me = await running.say(USER, "/me", language_code="de")
    assert "Ihre Begriffe: pushbacks (/watching)" in me["plain_text"]


async def test_a_refused_watch_says_why_in_french(running, store):
    """A French chat's refused /watch gives the validator's reason in French (the term, the word after not, a
    stopword and its language, a clause it cannot read), and nothing is watched."""
    cases = {
        "/watch smu*": "Je ne peux pas surveiller smu* : Le terme 'smu*' est un préfixe de moins de 4 lettres ; "
        "écrivez au moins 4 lettres avant *.",
        "/watch the": "Le terme 'the' est un mot très courant (anglais : 'the') : il figure dans presque tous les "
        "textes ; retirez-le, ou écrivez une expression qui le contient.",
        "/watch border; not carbon": "Le mot après not 'carbon' ne contient pas votre terme, il n’écarte donc jamais "
        "rien ; ajoutez-y le terme qu’il doit écarter, ou retirez-le.",
        "/watch border; after carbon": "Après un point-virgule, écrivez not, near, unless ou within suivi de mots, "
        "p. ex. « border; not … » ; je ne sais pas lire « after carbon ».",
        "/watch sm* + border": "Le terme 'sm* + border' (partie 'sm*') est un préfixe de moins de 4 lettres",
    }
    for command, reason in cases.items():
        assert reason in (await running.say(USER, command, language_code="fr"))["plain_text"], command
    answer = await running.say(USER, "/watch der", language_code="de")
    assert "Der Begriff 'der' ist ein sehr häufiges Wort (Deutsch: 'der')" in answer["plain_text"]
    assert watches.watching(store, "telegram", str(USER)) == []


async def test_alert_buttons_answer_in_the_chats_language(running, store):
    """The 🔕 button under an alert answers in the chat's language; a forged one too."""
    shown = await running.say(USER, "/start", language_code="fr")
    await running.say(USER, "/language fr")
    answer = await running.press(USER, shown["message_id"], "alert:mute:smuggling", forged=True, edits=False)
    assert answer["text"] == (
        "🔕 Trafic de migrants est désactivé pour cette discussion : plus d’alertes à ce sujet. "
        "Pour annuler : /subscribe smuggling"
    )
    answer = await running.press(USER, shown["message_id"], "alert:nonsense", forged=True, edits=False)
    assert answer["text"] == "Ce bouton ne vient pas de moi. Rien n’a changé."


def topic_names() -> i18n.Names:
    return i18n.Names({t.id: {"en": t.label, **dict(t.names)} for t in fake_topics().values()})


async def test_alerts_and_digests_come_in_the_chats_language(running, api, store, clock):
    """A private chat whose user writes in French gets its alerts in French (labels, topic names, buttons) though it
    never chose; a group that chose German gets its digest in German; a chat with neither gets English."""
    await running.say(USER, "/start", language_code="fr-BE")
    await running.say(USER + 1, "/start")
    api.add_chat(GROUP, "group", "Forschung")
    api.set_admins(GROUP, [42])
    await running.say(GROUP, "/start", user_id=42)
    await running.say(GROUP, "/language de", user_id=42)
    subscribers.set_digest(store, "telegram", str(GROUP), 6, "UTC")
    queue_alert(store, "council-press", "a", "Report on migrant smuggling")
    async with Bot(api.token, base_url=api.base_url) as bot:
        worker = DeliveryWorker(store, {"telegram": TelegramNotifier(bot, topic_names())}, Pacer(per_chat_interval=0))
        await worker.drain()
        clock.advance(hours=1)
        assert await worker.digests.run_due() == 1
    french = api.sent_messages(USER)[-1]
    assert "Source : council-press" in french["plain_text"]
    assert "Thèmes : Trafic de migrants" in french["plain_text"] and "Mots trouvés : " in french["plain_text"]
    assert [b["text"] for row in french["reply_markup"]["inline_keyboard"] for b in row] == [
        "📄 Document",
        "🔎 Plus de ce genre",
        "🔕 Couper ce thème",
    ]
    english = api.sent_messages(USER + 1)[-1]
    assert "Topics: Migrant smuggling" in english["plain_text"] and "🔎 More like this" in str(english["reply_markup"])
    [digest] = [m for m in api.sent_messages(GROUP) if "Zusammenfassung" in m["plain_text"]]
    assert digest["plain_text"].startswith("🗞 Tägliche Zusammenfassung: 1 Benachrichtigung")
    assert "Schleusung von Migranten" in digest["plain_text"]


LABELLED = (
    RssSource(name="council-press", url="https://e.org/press.xml", every=900.0, label="Conseil : presse"),
    RssSource(name="statewatch", url="https://e.org/sw.xml", every=1800.0, label="Statewatch"),
)


async def test_status_comes_in_the_chats_language_by_label(api, store, clock):
    """/status in a French chat says the summary, each state, the failure, the counts and how long ago in French,
    by each source's label; the same facts in German once the chat chooses German."""
    store.record_poll("council-press", [], {})
    for _ in range(3):
        store.record_failure("statewatch", "timeout", "no answer in 20s")
    clock.advance(2 * 3600 + 5 * 60)
    async with RunningBot(api, store, sources=LABELLED) as bot:
        lines = (await bot.say(USER, "/status", language_code="fr"))["plain_text"].splitlines()
        assert lines == [
            "2 sources interrogées, 1 en échec",
            "⚠️ Statewatch : en échec (délai dépassé, 3 interrogations échouées d’affilée) ; dernier succès : jamais ;"
            " 0 nouveau en 7 jours",
            "✅ Conseil : presse : ok ; dernier succès : il y a 2 h 5 min ; 0 nouveau en 7 jours",
        ]
        await bot.say(USER, "/language de")
        lines = (await bot.say(USER, "/status", language_code="fr"))["plain_text"].splitlines()
        assert lines[0] == "2 Quellen abgefragt, 1 gestört"
        assert lines[1].startswith("⚠️ Statewatch: gestört (Zeitüberschreitung, 3 fehlgeschlagene Abfragen in Folge)")
        assert lines[2] == "✅ Conseil : presse: ok; letzter Erfolg: vor 2 Std. 5 Min.; 0 neue Einträge in 7 Tagen"


async def test_the_same_language_button_pressed_twice_is_answered_without_an_error(running, api, caplog):
    """A second press of the button already chosen redraws nothing (Telegram refuses an edit that changes nothing):
    the press is still answered and no handler fails."""
    shown = await running.say(USER, "/language")
    await running.press(USER, shown["message_id"], "lang:fr")
    edits = len(api.calls("editMessageText"))
    with caplog.at_level("ERROR", logger="watcher"):
        answer = await running.press(USER, shown["message_id"], "lang:fr", edits=False)
        assert answer["text"] == "Désormais, j’écris à cette discussion en français."
        assert await asyncio.to_thread(api.wait_until, lambda: len(api.calls("editMessageText")) > edits, 10.0)
        await running.say(USER, "/language")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
