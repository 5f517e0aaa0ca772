"""check-config catches what maintainers get wrong: stopwords and tiny terms, topics that subscribed chats lost,
[source] written for [[source]], misspelt source keys, and it reads weeks."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.conftest import SHIPPED_CONFIG, make_config, run_cli, source_toml
from watcher.durations import parse_duration
from watcher.matcher import topics_from_toml
from watcher.store.sqlite import Store


def topic_errors(*terms: str, exclude: tuple[str, ...] = ()) -> list[str]:
    data = {"topic": [{"id": "t", "label": "T", "terms": list(terms), "exclude": list(exclude)}]}
    return topics_from_toml(data, "topics.toml")[1]


@pytest.mark.parametrize(
    "term, reason",
    [
        ("the", "stopword ('the', English)"),
        ("Die", "stopword ('die', German)"),
        ("les", "stopword ('les', French)"),
        ("de", "fewer than 3 letters"),
        ("EU", "fewer than 3 letters"),
        ("a", "fewer than 3 letters"),
        ("of the", "only of stopwords and short words"),
        ("smuggling + de", "fewer than 3 letters"),
    ],
)
def test_stopwords_and_short_terms_are_refused(term, reason):
    """A term that is a stopword, under 3 letters, or made only of such words is an error naming the reason."""
    errors = topic_errors("frontex", term)
    assert len(errors) == 1 and f"term {term!r}" in errors[0] and reason in errors[0]


def test_an_exclusion_that_is_a_stopword_is_refused():
    """An exclusion of a stopword would remove nearly every hit, so it is refused too."""
    errors = topic_errors("frontex", exclude=("und",))
    assert len(errors) == 1 and "exclusion 'und' is a stopword" in errors[0]


@pytest.mark.parametrize("term", ["area of freedom", "EES", "tax", "the border", "smuggl*", "per person + crossing*"])
def test_phrases_and_real_short_words_are_kept(term):
    """Phrases that contain a stopword, three-letter words and acronyms, and prefixes are accepted."""
    assert topic_errors(term) == []


def test_the_shipped_topics_pass_the_stopword_check():
    """No shipped term is refused by the stopword and length rule."""
    assert run_cli(["--config", str(SHIPPED_CONFIG), "check-config"], SHIPPED_CONFIG.parent).returncode == 0


def test_a_topic_that_chats_follow_and_that_disappeared_is_warned_about(tmp_path):
    """check-config warns about a topic id that chats are subscribed to but topics.toml lost, and writes nothing."""
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "https://example.org/feed.xml"))
    (tmp_path / "data").mkdir()
    store = Store(tmp_path / "data" / "watcher.db")
    store.subscribe("telegram", "42", ["smuggling", "trafficking"])
    store.subscribe("telegram", "43", ["trafficking"])
    store.subscribe("telegram", "44", ["oldest"])
    store.deactivate("telegram", "44")  # a chat that stopped counts for nothing
    store.close()
    before = hashlib.sha256((tmp_path / "data" / "watcher.db").read_bytes()).hexdigest()
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "is gone" in line]
    assert len(warnings) == 1
    assert "topic 'trafficking' is gone, but 2 chats are subscribed" in warnings[0]
    assert hashlib.sha256((tmp_path / "data" / "watcher.db").read_bytes()).hexdigest() == before


def test_no_database_no_warning(tmp_path):
    """Without a database check-config says nothing about subscriptions and creates no database."""
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "https://example.org/feed.xml"))
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert done.returncode == 0 and "is gone" not in done.stderr
    assert not (tmp_path / "data").exists()


def test_a_repeated_single_bracket_source_gets_the_double_bracket_hint(tmp_path):
    """[source] written twice (TOML's 'cannot declare twice') is explained as [[source]] with its line."""
    body = source_toml("a", "https://e.org/a").replace("[[source]]", "[source]")
    cfg = make_config(tmp_path / "cfg", body + "\n" + body.replace('"a"', '"b"'))
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert done.returncode == 1
    assert re.search(
        r"Cannot declare .*; line \d+ writes \[source\]: write \[\[source\]\] \(double brackets\)", done.stderr
    ), done.stderr


def test_one_single_bracket_source_gets_the_same_hint_and_nothing_else(tmp_path):
    """One [source] table is one problem that names [[source]], not also 'no sources'."""
    cfg = make_config(tmp_path / "cfg", source_toml("a", "https://e.org/a").replace("[[source]]", "[source]"))
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {cfg / 'sources.toml'}: [source] is one table: write [[source]] (double brackets) at "
        "the top of every source entry"
    ]


def test_misspelt_source_keys_get_the_close_key(tmp_path):
    """A misspelt key of a source, a kind or a top-level table is answered with the key it is close to."""
    body = source_toml("a", "https://e.org/a").replace("enabled", "enabeld") + "max_itmes = 5\n[htp]\n"
    body += source_toml("b", "https://e.org/b", kind="rs")
    done = run_cli(["--config", str(make_config(tmp_path / "cfg", body)), "check-config"], tmp_path)
    assert done.returncode == 1
    assert "unknown key 'enabeld' for kind 'rss'; did you mean 'enabled'?" in done.stderr
    assert "unknown key 'max_itmes' for kind 'rss'; did you mean 'max_items'?" in done.stderr
    assert "unknown top-level key 'htp'; did you mean 'http'?" in done.stderr
    assert "unknown kind 'rs'; did you mean 'rss'?" in done.stderr


def test_weeks_are_a_duration_unit(tmp_path):
    """'1w' is seven days, mixes with other units, and a source's quiet period may be written in weeks."""
    assert parse_duration("1w") == 7 * 86400
    assert parse_duration("2w 1d") == 15 * 86400
    cfg = make_config(tmp_path / "cfg", source_toml("a", "https://e.org/a", every="1w", quiet="2w"))
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert done.returncode == 0, done.stderr
