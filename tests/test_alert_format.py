"""What an alert shows, from an item through the real matcher, a real SQLite outbox and the real python-telegram-bot
to the fake Bot API: the source's label, the feed's summary shortened and escaped (never the title again), the
matched words as the text writes them, and a snippet only when the hit is outside the title."""

from __future__ import annotations

import pytest
from telegram import Bot

from tests.conftest import SHIPPED_CONFIG, make_config, source_toml
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.telegram import RunningBot
from watcher.config import load_config
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.errors import ConfigError
from watcher.matcher import Matcher, topics_from_toml
from watcher.models import Alert, Item
from watcher.notifiers.fit import TELEGRAM_LIMIT, utf16_len
from watcher.notifiers.format import MAX_SUMMARY, alert_html, alert_text, digest_messages, summary_of
from watcher.notifiers.telegram import TelegramNotifier
from watcher.sources.rss import RssSource
from watcher.store.sqlite import Store

CHAT = 42
TOPICS = {
    "topic": [
        {"id": "smuggling", "label": "Migrant smuggling", "terms": ["smuggl*", "people smugglers"]},
        {"id": "borders", "label": "Borders", "terms": ["frontex"]},
    ]
}
LABELS = {"smuggling": "Migrant smuggling", "borders": "Borders"}
SOURCE_LABELS = {"statewatch": "Statewatch"}


@pytest.fixture
def matcher() -> Matcher:
    found, errors, _ = topics_from_toml(TOPICS)
    assert not errors
    return Matcher(found)


async def deliver(store: Store, api: FakeBotAPI, matcher: Matcher, *items: Item) -> list[dict]:
    """Record the items as a second poll of their source (the first only records), then send what was queued to
    CHAT; returns what the fake Bot API received, in order."""
    store.subscribe("telegram", str(CHAT), list(LABELS))
    for source in dict.fromkeys(item.source for item in items):
        if not store.has_items(source):
            store.record_poll(source, [Item(source=source, id="seed", title="seed", url="https://e.org/seed")], {})
        mine = [item for item in items if item.source == source]
        store.record_poll(source, mine, {item.key: matcher.match(item) for item in mine})
    async with Bot(api.token, base_url=api.base_url) as bot:
        notifier = TelegramNotifier(bot, LABELS, SOURCE_LABELS)
        await DeliveryWorker(store, {"telegram": notifier}, Pacer(per_chat_interval=0.0)).drain()
    return api.sent_messages(CHAT)


def item(title: str, summary: str = "", body: str = "", source: str = "statewatch", id: str = "a") -> Item:
    return Item(source=source, id=id, title=title, url=f"https://e.org/{id}?x=1&y=2", summary=summary, body=body)


async def test_the_source_is_named_by_its_label_and_by_its_name_without_one(store, api, matcher):
    """statewatch has a label and shows it; a source without one shows its name."""
    sent = await deliver(
        store,
        api,
        matcher,
        item("Frontex report", source="statewatch", id="a"),
        item("Frontex report", source="ep-texts", id="b"),
    )
    first, second = sorted(sent, key=lambda m: "/b?" in m["text"])
    assert "Source: Statewatch · date not given" in first["text"]
    assert "Source: ep-texts · date not given" in second["text"]
    assert "statewatch" not in first["text"]


async def test_a_long_summary_is_shortened_between_words(store, api, matcher):
    """A 2,000-character summary shows at most MAX_SUMMARY characters of it, cut at the end of a word."""
    words = [f"word{n}" for n in range(400)]
    [sent] = await deliver(store, api, matcher, item("Frontex at the border", summary=" ".join(words)))
    line = sent["text"].splitlines()[1]
    assert line.startswith("word0 word1 ") and line.endswith("…")
    assert len(line) <= MAX_SUMMARY
    assert line[:-1].split()[-1] in words  # the last word shown is whole


async def test_a_hostile_summary_is_escaped(store, api, matcher):
    """Markup in a scraped summary arrives as text: Telegram parses the HTML and the chat shows the characters."""
    hostile = '<a href="javascript:alert(1)">click</a> <b>bold & <script>x</script> </i></code> &amp;'
    [sent] = await deliver(store, api, matcher, item("Frontex patrols", summary=hostile))
    line = sent["text"].splitlines()[1]
    assert line == (
        "&lt;a href=&quot;javascript:alert(1)&quot;&gt;click&lt;/a&gt; &lt;b&gt;bold &amp; &lt;script&gt;x&lt;/script"
        "&gt; &lt;/i&gt;&lt;/code&gt; &amp;amp;"
    )
    assert sent["parse_mode"] == "HTML"
    assert sent["plain_text"].splitlines()[1] == hostile  # what the reader sees is the text as scraped


def test_a_summary_that_repeats_the_title_is_not_shown_again():
    """The same text as the title (whatever its case and punctuation) shows no summary; a summary that starts with
    the title shows only what follows it."""

    def alert(title: str, summary: str) -> Alert:
        return Alert(1, 1, "telegram", "1", "s", "x", title, "https://e.org", None, ("borders",), (), summary=summary)

    assert summary_of(alert("Frontex: annual report", "FRONTEX annual report.")) == ""
    assert summary_of(alert("Frontex annual report", "Frontex annual report – 2026 edition")) == "2026 edition"
    assert summary_of(alert("Frontex annual report", "")) == ""
    html_text = alert_html(alert("Frontex annual report", "Frontex annual report"), LABELS)
    assert html_text.count("Frontex annual report") == 1


async def test_the_matched_words_are_those_of_the_text(store, api, matcher):
    """``smuggl*`` matched "Smugglers" and "smuggling": the alert names those words, not the rule."""
    [sent] = await deliver(
        store, api, matcher, item("Smugglers arrested", summary="A smuggling ring and people smugglers at sea")
    )
    assert "Matched: “Smugglers”, “smuggling”, “people smugglers”" in sent["text"]
    assert "smuggl*" not in sent["text"]


def test_a_hit_inside_a_longer_one_is_not_named_apart(matcher):
    """``smuggl*`` also hits the "smugglers" of "people smugglers": the words name the phrase once; the same rule's
    hit in another field (the title's "Smuggling") still counts."""
    [match] = matcher.match(item("Smuggling report", summary="Arrests of people smugglers"))
    assert match.words == ("Smuggling", "people smugglers")


async def test_a_hit_in_the_title_has_no_snippet(store, api, matcher):
    """The title is shown whole; a snippet of the same hit would only repeat it."""
    [sent] = await deliver(store, api, matcher, item("Frontex annual report", body="Nothing else to see here."))
    assert "<i>" not in sent["text"] and "[Frontex]" not in sent["text"]


async def test_a_hit_outside_the_title_has_its_snippet(store, api, matcher):
    """A hit only in the body shows where it is, with the hit marked and escaped."""
    body = "The agency <b>Frontex</b> & partners " + "filler " * 5
    [sent] = await deliver(store, api, matcher, item("Annual report of an agency", body=body))
    assert "<i>The agency &lt;b&gt;[Frontex]&lt;/b&gt; &amp; partners filler" in sent["text"]


async def test_a_huge_alert_still_fits_one_message(store, api, matcher):
    """A very long title, summary and body: fit.py keeps the message under Telegram's limit, HTML intact."""
    long_title = "Frontex " + "and a very long title & more " * 400
    [sent] = await deliver(
        store, api, matcher, item(long_title, summary="<x> smuggling " * 2000, body="Frontex " * 5000)
    )
    assert utf16_len(sent["plain_text"]) <= TELEGRAM_LIMIT
    assert sent["parse_mode"] == "HTML"


def test_the_plain_text_and_the_digest_show_the_label_and_the_words():
    """The plain-text fallback and a digest entry carry the same label and matched words."""
    alert = Alert(
        1,
        1,
        "telegram",
        "1",
        "statewatch",
        "x",
        "Smugglers arrested",
        "https://e.org/x",
        None,
        ("smuggling",),
        ("smuggl*",),
        words=("Smugglers",),
        summary="A ring <broken> up",
    )
    text = alert_text(alert, LABELS, SOURCE_LABELS)
    assert "A ring <broken> up" in text and "Source: Statewatch" in text and "Matched: “Smugglers”" in text
    [(html_text, plain, ids)] = digest_messages([alert], LABELS, sources=SOURCE_LABELS)
    assert "Statewatch" in html_text and "“Smugglers”" in html_text and ids == [1]


def test_an_alert_queued_before_the_words_were_kept_shows_its_terms():
    """An outbox row without words (queued by an older version) still says what matched: the terms, and the
    Council subject codes apart."""
    alert = Alert(
        1, 1, "telegram", "1", "s", "x", "t", "https://e.org", None, ("smuggling",), ("smuggl*", "subject:MIGR")
    )
    assert "Matched: “smuggl*” · subject code MIGR" in alert_html(alert, LABELS)


# --- the label in sources.toml ---------------------------------------------------------------------------------

TOPIC_TOML = '[[topic]]\nid = "smuggling"\nlabel = "Migrant smuggling"\nterms = ["migrant smuggling"]\n'


def label_problems(tmp_path, value: str) -> list[str]:
    sources = source_toml("feed", "http://127.0.0.1:1/feed.xml") + f"label = {value}\n"
    with pytest.raises(ConfigError) as info:
        load_config(make_config(tmp_path / "cfg", sources, TOPIC_TOML))
    return info.value.problems


@pytest.mark.parametrize(
    "value,says",
    [
        ('""', "'label' is empty"),
        ('"   "', "'label' is empty"),
        ("3", "'label' must be a string"),
        (f'"{"x" * 61}"', "at most 60"),
        ('"two\\nlines"', "on one line"),
    ],
)
def test_a_bad_label_is_an_error_naming_the_source_and_the_fix(tmp_path, value, says):
    """A label that is not a short one-line text stops the start with a line naming the file, source and fix."""
    [line] = label_problems(tmp_path, value)
    assert "sources.toml" in line and "source 'feed'" in line and says in line


def test_a_good_label_is_kept_and_a_misspelt_key_is_still_an_error(tmp_path):
    """``label`` is read; ``lable`` is an unknown key, as any typo is."""
    sources = source_toml("feed", "http://127.0.0.1:1/feed.xml") + 'label = "  The Feed "\n'
    [source] = load_config(make_config(tmp_path / "ok", sources, TOPIC_TOML)).sources
    assert source.label == "The Feed" and source.display_name == "The Feed"
    [line] = label_problems(tmp_path, '"x"\nlable = "y"')
    assert "unknown key 'lable'" in line


def test_every_shipped_source_has_a_label():
    """The shipped sources.toml names each source for people, and watcher init ships the same file."""
    config = load_config(SHIPPED_CONFIG)
    assert all(s.label and s.label != s.name for s in config.sources), [s.name for s in config.sources if not s.label]


async def test_status_and_help_name_the_sources_by_their_label(api, store):
    """/status and the about text of /help use the label; a source without one keeps its name."""
    labelled = (
        RssSource(name="statewatch", url="https://e.org/sw.xml", every=1800.0, label="Statewatch <EU>"),
        RssSource(name="bare-feed", url="https://e.org/b.xml", every=1800.0),
    )
    async with RunningBot(api, store) as bot:
        bot.app.bot_data["deps"].sources = labelled
        status = await bot.say(CHAT, "/status")
        help_ = await bot.say(CHAT, "/help")
    assert "Statewatch &lt;EU&gt;: never polled" in status["text"] and "bare-feed: never polled" in status["text"]
    assert "(Statewatch &lt;EU&gt;, bare-feed)" in help_["text"]
