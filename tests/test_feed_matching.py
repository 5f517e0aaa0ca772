"""The shipped topics on the real European Parliament feed: relevant items flagged, near misses left alone."""

from __future__ import annotations

from tests.conftest import DATA, SHIPPED_CONFIG
from watcher.config import load_config
from watcher.matcher import Matcher
from watcher.sources.rss import parse_feed

ITEMS = parse_feed((DATA / "ep-thinktank-rss-2026-09-15.xml").read_bytes(), "ep-thinktank")
MATCHER = Matcher(load_config(SHIPPED_CONFIG).topics)


def topics_of(title_part: str) -> set[str]:
    [item] = [i for i in ITEMS if title_part in i.title]
    return {m.topic for m in MATCHER.match(item)}


def test_ceuta_migrant_crisis_is_migration():
    """ "Ceuta migrant crisis" is flagged migration."""
    assert "migration" in topics_of("Ceuta migrant crisis")


def test_cbam_is_not_borders():
    """ "Extension of CBAM scope" (Carbon Border Adjustment Mechanism) is not flagged borders."""
    assert "borders" not in topics_of("Extension of CBAM scope")


def test_temporary_protection_is_migration():
    """Temporary protection for people displaced from Ukraine is flagged migration."""
    assert "migration" in topics_of("Temporary protection for displaced people")


def test_unrelated_items_are_not_flagged():
    """Items on fisheries, emissions trading, heritage and the budget raise no topic."""
    for part in (
        "European Heritage Days",
        "Mediterranean fisheries",
        "EU emissions trading system (2026",
        "Draft amending budget",
        "EU-India trade",
    ):
        assert topics_of(part) == set(), part
