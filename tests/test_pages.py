"""Finding the page of a body match from the matcher's snippet."""

from __future__ import annotations

from tests.fakes.council import test_matcher
from watcher.models import Item, Match
from watcher.sources.council.pages import join_pages, locate, page_at, with_pages

PAGES = [
    "Council of the European Union\nNOTE\nSubject: Annual report",
    "2. Returns\nThe Presidency notes progress on\nreturns.",
    "3. Routes\nDelegations discussed migrant\nsmuggling along the Central\nMediterranean route [see annex].",
    "4. Routes again\nMigrant smuggling is also mentioned here.",
]


def paged_item(pages: list[str]) -> Item:
    body, starts = join_pages(pages)
    return Item(
        source="s", id="ST 1 2026 INIT", title="Annual report", url="", body=body, extra={"page_starts": starts}
    )


def test_join_pages_keeps_page_starts():
    """Each page starts at the recorded offset of the form-feed-joined body."""
    body, starts = join_pages(["ab", "cde", "f"])
    assert body == "ab\fcde\ff" and starts == [0, 3, 7]
    assert [page_at(starts, i) for i in (0, 2, 3, 6, 7, 8)] == [1, 1, 2, 2, 3, 3]


def test_first_body_hit_is_on_page_three_across_line_breaks():
    """A phrase broken over two lines on page 3 is found there, not on page 4 where it appears again."""
    item = paged_item(PAGES)
    [match] = with_pages(item, test_matcher().match(item))
    assert match.field == "body" and match.snippet.startswith("p. 3: ")
    assert "[migrant smuggling]" in match.snippet


def test_brackets_in_the_text_do_not_confuse_the_search():
    """A snippet that contains square brackets of its own is still located."""
    body, starts = join_pages(["intro", "see [annex] on migrant smuggling [and more]"])
    snippet = "see [annex] on [migrant smuggling] [and more]"
    assert locate(body, snippet) == body.index("migrant")
    assert page_at(starts, locate(body, snippet)) == 2


def test_matches_outside_the_body_or_not_found_are_left_alone():
    """Title matches, and snippets that do not occur in the body, keep their snippet unchanged."""
    item = paged_item(PAGES)
    title = Match("t", ("annual",), "[Annual] report", "title")
    lost = Match("t", ("x",), "…text that is [nowhere] in the body…", "body")
    assert with_pages(item, [title, lost]) == [title, lost]
    plain = Item(source="s", id="1", title="t", url="", body="migrant smuggling")
    body_match = Match("t", ("m",), "[migrant smuggling]", "body")
    assert with_pages(plain, [body_match]) == [body_match]
