"""Messages are kept under Telegram's limit: HTML is shortened without breaking tags or entities, and long lists
are split between blocks."""

from __future__ import annotations

import html

import pytest

from tests.fakes.telegram_html import html_to_text
from watcher.notifiers.fit import cut_plain, pack, shorten_html, utf16_len, visible_len


def test_short_html_is_unchanged():
    """Text that fits comes back as it was."""
    text = '<b>Title &amp; more</b> <a href="https://e.org/?a=1&amp;b=2">link</a>'
    assert shorten_html(text, 100) == text


@pytest.mark.parametrize("limit", [5, 17, 18, 19, 40, 41, 100])
def test_shortened_html_stays_valid_and_within_the_limit(limit):
    """At every cut point the result parses as Telegram HTML, fits the limit and ends with an ellipsis."""
    text = (
        "<b>" + html.escape("Smuggling & <routes> ") * 5 + "</b><i>tail &#128512; end</i>"
        '<a href="https://e.org/?a=1&amp;b=2">' + "x" * 50 + "</a>"
    )
    short = shorten_html(text, limit)
    visible = html_to_text(short)  # raises if a tag or an entity was cut
    assert utf16_len(visible) <= limit and visible.endswith("…")
    assert visible_len(short) == utf16_len(visible)


def test_never_cuts_inside_an_entity_or_a_surrogate_pair():
    """An entity or an emoji that does not fit is left out whole."""
    assert shorten_html("ab&amp;cd", 3) == "ab…"
    assert shorten_html("a😀b", 3) == "a…"
    assert cut_plain("a😀bcdef", 3) == "a…"


def test_pack_splits_between_blocks_only():
    """Blocks are grouped in order into messages under the limit; a block too big for company goes alone."""
    assert pack([10, 10, 10], limit=25, sep=2) == [[0, 1], [2]]
    assert pack([30, 5, 5], limit=25, sep=2) == [[0], [1, 2]]
    assert pack([5, 5], limit=25, sep=2, head=15) == [[0], [1]]
    assert pack([], limit=25) == []
