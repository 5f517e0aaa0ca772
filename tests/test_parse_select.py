"""`watcher parse --kind html-list --select KEY=SELECTOR` tries selectors on a saved page before they go into
sources.toml."""

from __future__ import annotations

from tests.conftest import DATA, run_cli

PAGE = str(DATA / "frontex-news-constructed.html")
URL = "https://www.frontex.europa.eu/media-centre/news/news-release/"


def test_selectors_on_a_saved_page_list_its_items(tmp_path):
    """With row, title and date selectors the saved listing yields its items with resolved links and dates."""
    done = run_cli(
        [
            "parse",
            "--kind",
            "html-list",
            "--select",
            "row=article",
            "--select",
            "title=h3 a",
            "--select",
            "date=span.date",
            "--url",
            URL,
            PAGE,
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Migrant smuggling network dismantled with Europol & Spanish police" in done.stdout
    assert (
        "https://www.frontex.europa.eu/media-centre/news/news-release/migrant-smuggling-network-dismantled"
        in done.stdout
    )
    assert "(2026-09-10)" in done.stdout


def test_a_row_selector_that_matches_nothing_says_so(tmp_path):
    """A stale row selector is the same 'matched nothing' failure the source would report."""
    done = run_cli(
        ["parse", "--kind", "html-list", "--select", "row=li.news", "--select", "title=h3 a", PAGE], tmp_path
    )
    assert done.returncode == 1
    assert "the row selector 'li.news' matched nothing" in done.stderr


def test_missing_or_wrong_selects_are_explained(tmp_path):
    """No row selector, an unknown key, a broken CSS selector and --select on rss are one-line errors (exit 2)."""
    missing = run_cli(["parse", "--kind", "html-list", PAGE], tmp_path)
    assert missing.returncode == 2 and "needs 'row'" in missing.stderr and "--select 'row=...'" in missing.stderr
    unknown = run_cli(["parse", "--kind", "html-list", "--select", "rows=article", PAGE], tmp_path)
    assert unknown.returncode == 2 and "KEY one of date, date_format, link, row, summary, title" in unknown.stderr
    broken = run_cli(
        ["parse", "--kind", "html-list", "--select", "row=article[", "--select", "title=a", PAGE], tmp_path
    )
    assert broken.returncode == 2 and "is not a CSS selector" in broken.stderr
    rss = run_cli(["parse", "--kind", "rss", "--select", "row=item", PAGE], tmp_path)
    assert rss.returncode == 2 and "takes no --select" in rss.stderr
