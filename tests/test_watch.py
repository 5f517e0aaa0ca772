"""A chat's own terms: /watch, /watching and /unwatch through the fake Bot API, and the alerts they raise through a
real poll (RSS over 127.0.0.1, a real SQLite file) and the real delivery to the fake Bot API."""

from __future__ import annotations

import logging

import pytest
from telegram import Bot

from tests.fakes.clock import FakeClock
from tests.fakes.feeds import rss
from tests.fakes.telegram import topics
from tests.test_bot import buttons
from watcher import i18n, pipeline
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.http.client import Http
from watcher.matcher import Matcher
from watcher.matcher.personal import PersonalIndex, Watch, explain, parse_watch
from watcher.models import Item
from watcher.notifiers.telegram import TelegramNotifier
from watcher.sources.rss import RssSource
from watcher.store import watches

USER = 1001
OTHER = 1002
GROUP = -2002
LABELS = {t.id: t.label for t in topics().values()}
SEED = {"title": "Council adopts budget", "link": "https://e.org/0", "guid": "0"}


def watched(store, chat: int = USER) -> list[str]:
    return [w.text for w in watches.watching(store, "telegram", str(chat))]


@pytest.fixture
async def poller(feed_server, store):
    """Polls one RSS feed on 127.0.0.1 into the store, with the test topics and every chat's own terms; its first
    poll (which only records) has run."""
    http = Http(timeout=2.0, clock=FakeClock(), per_host_interval=0)
    source = RssSource(name="feed", url=feed_server.url("/feed.xml"), every=60.0)
    matcher = Matcher(list(topics().values()))
    personal = pipeline.PersonalTerms()

    async def poll(*entries: dict) -> pipeline.PollResult:
        feed_server.set("/feed.xml", rss([SEED, *entries]))
        return await pipeline.poll(source, http, store, matcher, personal=personal)

    assert (await poll()).first_poll
    poll.personal = personal  # type: ignore[attr-defined]
    yield poll
    await http.aclose()


async def deliver(api, store, chat: int = USER) -> list[dict]:
    """The messages the delivery worker sends the chat now (not the bot's replies before)."""
    before = len(api.sent_messages(chat))
    async with Bot(api.token, base_url=api.base_url) as bot:
        await DeliveryWorker(store, {"telegram": TelegramNotifier(bot, LABELS)}, Pacer(per_chat_interval=0.0)).drain()
    return api.sent_messages(chat)[before:]


def entry(guid: str, title: str, description: str = "") -> dict:
    found = {"title": title, "link": f"https://e.org/{guid}", "guid": guid}
    return found | ({"description": description} if description else {})


# --- the commands -------------------------------------------------------------------------------------------------


async def test_watch_lists_and_unwatch_remove_terms(running, store):
    """/watch adds terms as written (a word, a prefix, a phrase, clauses); /watching lists them with one remove button
    each; /unwatch removes one by its term alone."""
    answer = await running.say(USER, "/watch pushbacks")
    assert "Watching pushbacks" in answer["plain_text"]
    await running.say(USER, "/watch smuggl*")
    await running.say(USER, "/watch safe   third country")
    await running.say(USER, "/watch return*; near migrant*, readmission; within 12")
    assert watched(store) == [
        "pushbacks",
        "smuggl*",
        "safe third country",
        "return*; near migrant*, readmission; within 12",
    ]
    again = await running.say(USER, "/watch Pushbacks")
    assert "already watches" in again["plain_text"]
    listed = await running.say(USER, "/watching")
    assert "4 of 20" in listed["plain_text"] and "return*; near migrant*" in listed["plain_text"]
    assert len(buttons(listed)) == 4 and all(data.startswith("uw:") for data in buttons(listed))
    gone = await running.say(USER, "/unwatch return*")
    assert "No longer watching return*; near migrant*" in gone["plain_text"]
    assert "does not watch" in (await running.say(USER, "/unwatch Greece"))["plain_text"]
    assert watched(store) == ["pushbacks", "smuggl*", "safe third country"]
    me = await running.say(USER, "/me")
    assert "Your terms: pushbacks, smuggl*, safe third country" in me["plain_text"]


async def test_refusals_say_why(running, store):
    """Stopwords, words under 3 letters, short prefixes, regular expressions and unreadable clauses are refused with
    the reason the topics' validator gives; an empty /watch shows how to write one."""
    cases = {
        "/watch the": "is a common word in English",
        "/watch EU": "fewer than 3 letters",
        "/watch smu*": "prefix shorter than 4 letters",
        "/watch smuggl(er|ing)": "not regular expressions",
        "/watch border; not fish": "does not contain your term",
        "/watch border; after carbon": "not, near, unless or within",
        "/watch return*; near migrant*; within 999": "within takes a number",
        "/watch": "Which term?",
    }
    for command, reason in cases.items():
        assert reason in (await running.say(USER, command))["plain_text"], command
    assert watched(store) == []


REFUSED = [
    "x" * 201,
    "; not carbon",
    "border; after carbon",
    "border; within 5",
    "border; not " + ", ".join(f"word{n}" for n in range(9)),
    "sm*",
    "smuggl(er|ing)",
    "smu*ggl",
    "**",
    "a + b + c + d + e",
    "border + ",
    "…",
    "the",
    "EU",
    "of the",
    "sm* + border",
    "border; not carbon",
    "border; not border",
    "border; not fish, Fish",
    "border; not carbon + tax",
    "border; near fi*",
    "border; near a + b",
    "border; unless x*",
]


@pytest.mark.parametrize("spec", REFUSED)
def test_every_refusal_has_words_the_catalogues_translate(spec):
    """Each way /watch refuses a term (its own checks and each validator line it can meet) is read into marked
    templates: the French and German say differ from the English, and the English ends as a sentence."""
    watch, problem = parse_watch(spec)
    assert watch is None and problem is not None
    english = str(problem)
    assert english.endswith(".") and "{" not in english
    for language in i18n.TRANSLATED:
        assert problem.say(i18n.catalogue(language).gettext) != english, (language, english)


def test_a_validator_line_it_cannot_read_is_shown_as_written():
    """A validator line that no template reads (a new check, say) still refuses, in the validator's English."""
    problem = explain("/watch: topic 'watch': term 'x' is spelled with a new mistake")
    assert str(problem) == "The term 'x' is spelled with a new mistake."
    assert problem.say(i18n.catalogue("fr").gettext) == str(problem)


async def test_the_twenty_first_term_is_refused(running, store):
    """A chat watches at most 20 terms; the next is refused with the limit, and changing a watched term's clauses
    still works at the limit."""
    for n in range(watches.MAX_WATCHES):
        assert "Watching" in (await running.say(USER, f"/watch place{n:02d}"))["plain_text"]
    full = await running.say(USER, "/watch Greece")
    assert "watches 20 terms, the most it can" in full["plain_text"]
    changed = await running.say(USER, "/watch place00; not place00 road")
    assert "Now watching place00; not place00 road" in changed["plain_text"]
    assert len(watched(store)) == watches.MAX_WATCHES and "Greece" not in watched(store)


async def test_a_very_long_argument_gets_a_short_answer(running, api):
    """/watch with 4,080 characters (Telegram allows 4,096) is refused with its length; the reply quotes at most a
    short excerpt, so it is sent (no 'message is too long')."""
    answer = await running.say(USER, "/watch " + "pushbacks " * 408)
    assert "at most 200" in answer["plain_text"] and len(answer["plain_text"]) < 400
    gone = await running.say(USER, "/unwatch " + "x" * 4080)
    assert "that long" in gone["plain_text"] and len(gone["plain_text"]) < 200


async def test_in_a_group_only_administrators_change_the_terms(running, api, store):
    """A group member who is not an administrator cannot add or remove terms, nor press a remove button; an
    administrator can, and anyone may list them."""
    api.set_admins(GROUP, [11], creator=10)
    refused = await running.say(GROUP, "/watch Lampedusa", user_id=55)
    assert "Only this chat's administrators" in refused["plain_text"] and watched(store, GROUP) == []
    await running.say(GROUP, "/watch Lampedusa", user_id=11)
    listed = await running.say(GROUP, "/watching", user_id=55)
    [data] = buttons(listed)
    answer = await running.press(GROUP, listed["message_id"], data, user_id=55, edits=False)
    assert answer["show_alert"] is True and "administrators" in answer["text"]
    assert "administrators" in (await running.say(GROUP, "/unwatch Lampedusa", user_id=55))["plain_text"]
    assert watched(store, GROUP) == ["Lampedusa"]
    await running.press(GROUP, listed["message_id"], data, user_id=10)
    assert watched(store, GROUP) == []


async def test_the_remove_button_removes_and_forged_data_does_nothing(running, api, store, caplog):
    """A remove button removes its term and redraws the list; forged data (not a number, no such term, another
    chat's term) removes nothing, answers that the button is out of date, and is logged."""
    await running.say(USER, "/watch pushbacks")
    await running.say(USER, "/watch Greece")
    await running.say(OTHER, "/watch Frontex")
    [theirs] = watches.watching(store, "telegram", str(OTHER))
    listed = await running.say(USER, "/watching")
    first = next(data for data, text in buttons(listed).items() if "pushbacks" in text)
    answer = await running.press(USER, listed["message_id"], first)
    assert "Removed pushbacks" in answer["text"] and watched(store) == ["Greece"]
    redrawn = api.message(USER, listed["message_id"])
    assert redrawn is not None and "pushbacks" not in redrawn["text"] and "Greece" in redrawn["text"]
    with caplog.at_level(logging.WARNING, logger="watcher.bot"):
        for forged in ("uw:abc", "uw:999999", f"uw:{theirs.id}", "uw:" + "9" * 60, first):
            answer = await running.press(USER, listed["message_id"], forged, forged=True, edits=False)
            assert "out of date" in answer["text"] and answer["show_alert"] is True, forged
    assert watched(store) == ["Greece"] and watched(store, OTHER) == ["Frontex"]
    assert sum("names no term of this chat" in r.getMessage() for r in caplog.records) == 5


# --- the alerts ----------------------------------------------------------------------------------------------------


async def test_a_personal_term_alerts_and_says_so(running, api, store, poller):
    """A chat with no topic that watches pushbacks gets one alert for a new item that has it, saying which term and
    the words as the text has them; an item without it alerts nobody."""
    await running.say(USER, "/watch pushbacks")
    await running.say(USER, "/watch deport*")
    result = await poller(
        entry("1", "Report: Pushbacks at the Evros border", "People were deported without a hearing."),
        entry("2", "Fisheries quotas agreed"),
    )
    assert result.alerts == 1
    [sent] = await deliver(api, store)
    assert "Report: Pushbacks at the Evros border" in sent["plain_text"]
    assert "Your terms: pushbacks (“Pushbacks”), deport* (“deported”)" in sent["plain_text"]
    assert "Topics:" not in sent["plain_text"]
    print("ALERT HTML:", sent["text"])


async def test_a_topic_and_a_personal_term_give_one_alert_with_both_reasons(running, api, store, poller):
    """A chat subscribed to a topic that also watches a term the same item has gets one alert naming both."""
    await running.say(USER, "/start smuggling")
    await running.say(USER, "/watch Libya")
    result = await poller(entry("3", "Migrant smuggling networks in Libya"))
    assert result.alerts == 1
    [sent] = await deliver(api, store)
    assert "Topics: Migrant smuggling" in sent["plain_text"] and "Your term: Libya" in sent["plain_text"]


async def test_a_removed_term_and_a_stopped_chat_get_no_alert(running, api, store, poller):
    """After /unwatch the term alerts nobody; a stopped chat's terms alert nothing either; another chat watching the
    same word is alerted, from one compiled term."""
    await running.say(USER, "/watch Lesbos")
    await running.say(OTHER, "/watch lesbos")
    assert (await poller(entry("4", "Fire on Lesbos"))).alerts == 2
    assert len(poller.personal.index) == 1  # two chats, one term compiled
    assert [m["plain_text"].splitlines()[0] for m in await deliver(api, store)] == ["🔔 New: Fire on Lesbos"]
    await running.say(USER, "/unwatch Lesbos")
    assert (await poller(entry("5", "Lesbos camp closes"))).alerts == 1
    assert await deliver(api, store) == []
    alerts = [m["plain_text"].splitlines()[0] for m in api.sent_messages(OTHER) if m["plain_text"].startswith("🔔")]
    assert alerts == ["🔔 New: Fire on Lesbos", "🔔 New: Lesbos camp closes"]
    await running.say(OTHER, "/stop")
    assert (await poller(entry("6", "Lesbos again"))).alerts == 0


async def test_exclusions_and_contexts_of_a_personal_term_apply(store, poller):
    """A term's exclusion silences it where it covers the hit; a context term counts only near its context."""
    store.subscribe("telegram", str(USER), [])
    for spec in ("border; not carbon border", "return*; near migrant*; within 5"):
        watch, problem = parse_watch(spec)
        assert watch is not None, problem
        watches.add(store, "telegram", str(USER), watch.term_key, watch.key, watch.to_json(), watch.text)
    assert (await poller(entry("7", "Carbon border adjustment"))).alerts == 0
    assert (await poller(entry("8", "Return of goods"))).alerts == 0
    assert (await poller(entry("9", "Return of migrants"))).alerts == 1
    assert (await poller(entry("10", "Carbon border tax at the border"))).alerts == 1


async def test_a_source_first_poll_alerts_no_personal_term(feed_server, store):
    """The first poll of a source only records, whatever the chats watch."""
    store.subscribe("telegram", str(USER), [])
    watch = Watch("pushbacks")
    watches.add(store, "telegram", str(USER), watch.term_key, watch.key, watch.to_json(), watch.text)
    feed_server.set("/feed.xml", rss([entry("1", "Pushbacks")]))
    http = Http(timeout=2.0, clock=FakeClock(), per_host_interval=0)
    source = RssSource(name="feed", url=feed_server.url("/feed.xml"), every=60.0)
    result = await pipeline.poll(
        source, http, store, Matcher(list(topics().values())), personal=pipeline.PersonalTerms()
    )
    await http.aclose()
    assert result.first_poll and result.alerts == 0 and store.outbox_depth() == 0


def test_one_index_serves_every_chat_and_keeps_each_terms_words():
    """The index compiles each distinct watch once and reports the words as matched for each."""
    specs = ["pushbacks", "Greece", "smuggl*", "safe third country", "SIS"]
    index = PersonalIndex({w.key: w for w in (parse_watch(s)[0] for s in specs) if w is not None})
    item = Item(
        source="s",
        id="1",
        title="Greece: smugglers and pushbacks",
        url="",
        summary="Türkiye as a safe third-country; the sis of it",
    )
    hits = index.hits(item)
    assert {k: h.words for k, h in hits.items()} == {
        "pushbacks": "pushbacks",
        "greece": "Greece",
        "smuggl*": "smugglers",
        "safe third country": "safe third-country",
    }


def test_the_live_index_compiles_only_what_was_added_and_drops_what_was_removed(monkeypatch):
    """An added watch is compiled on its own next to the base; a removed one stops hitting without a compile; past
    the limit of added ones the base is built again from everything."""
    from watcher.matcher.personal import LiveIndex

    def stored(*specs: str) -> tuple[frozenset[str], list[tuple[str, str]]]:
        found = [w for w in (parse_watch(s)[0] for s in specs) if w is not None]
        return frozenset(w.key for w in found), [(w.key, w.to_json()) for w in found]

    item = Item(source="s", id="1", title="Greece and Malta: pushbacks", url="")
    index = LiveIndex()
    index.update(*stored("Greece", "Malta"))
    assert index.rebuilds == 0 and set(index.added.keys) == {"greece", "malta"}  # few: no base yet
    monkeypatch.setattr(LiveIndex, "ADDED_MAX", 2)
    index.update(*stored("Greece", "Malta", "pushbacks"))
    assert index.rebuilds == 1 and set(index.base.keys) == {"greece", "malta", "pushbacks"} and not index.added.keys
    assert index.wanted(stored("Greece", "pushbacks", "Lesbos")[0]) == {"lesbos"}  # only its JSON is read
    index.update(*stored("Greece", "pushbacks", "Lesbos"))
    assert index.rebuilds == 1 and set(index.added.keys) == {"lesbos"}
    assert set(index.hits(item)) == {"greece", "pushbacks"}  # Malta was removed: no hit, no compile
    index.update(*stored("Lesbos", "Evros", "Moria", "Chios"))
    assert index.rebuilds == 2 and set(index.base.keys) == {"lesbos", "evros", "moria", "chios"}
    assert index.hits(item) == {}


def test_the_store_keeps_terms_and_queues_one_alert_per_chat_on_either_backend(db_target):
    """On SQLite and PostgreSQL: adding, changing and removing a term bumps the generation; a hit alerts each
    watching chat once, and names the terms in the alert a topic already queued rather than adding a second."""
    from watcher.models import Match
    from watcher.store.sqlite import Store

    s = Store(db_target)
    try:
        s.subscribe("telegram", "1", ["smuggling"])
        s.subscribe("telegram", "2", [])
        before = watches.generation(s)
        for chat, spec in (("1", "Libya"), ("2", "libya"), ("2", "Malta")):
            w = parse_watch(spec)[0]
            assert w is not None
            assert watches.add(s, "telegram", chat, w.term_key, w.key, w.to_json(), w.text) == "added"
        changed = parse_watch("Malta; not Malta road")[0]
        assert changed is not None
        assert watches.add(s, "telegram", "2", *(changed.term_key, changed.key, changed.to_json(), changed.text))
        assert watches.generation(s) == before + 4
        assert watches.keys(s) == {"libya", "malta; not malta road"}
        assert [k for k, _ in watches.specs(s, ["libya"])] == ["libya"]
        seed = Item(source="f", id="0", title="seed", url="https://e.org/0")
        s.record_poll("f", [seed], {})
        item = Item(source="f", id="1", title="Migrant smuggling from Libya", url="https://e.org/1")
        found = {"libya": watches.Found("Libya", "… from [Libya]")}
        result = s.record_poll(
            "f", [item], {item.key: [Match("smuggling", ("migrant smuggling",), "")]}, personal={item.key: found}
        )
        assert result.alerts == 2  # chat 1 (topic and term, one row) and chat 2 (its term)
        alerts = {a.address: a for a in s.due_alerts(["telegram"])}
        assert alerts["1"].topics == ("smuggling",) and alerts["1"].personal == (("Libya", "Libya"),)
        assert alerts["2"].topics == () and alerts["2"].personal == (("libya", "Libya"),)
        assert watches.remove(s, "telegram", "2", "libya") == "libya" and watches.generation(s) == before + 5
        assert watches.remove(s, "telegram", "2", "libya") is None
    finally:
        s.close()
