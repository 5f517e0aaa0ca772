"""Helpers for Council source tests: where their clock starts, test topics, and edits of the constructed register
page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from watcher.matcher import Matcher, topics_from_toml

DATA = Path(__file__).resolve().parent.parent / "data" / "council"
PDF_HEADERS = {"Content-Type": "application/pdf"}
HTML_HEADERS = {"Content-Type": "text/html; charset=utf-8"}

TOPICS_TOML = {
    "topic": [
        {
            "id": "smuggling",
            "label": "Migrant smuggling",
            "terms": ["migrant smuggling", "smuggling of migrants"],
            "exclude": [],
        },
        {
            "id": "borders",
            "label": "Borders and Schengen",
            "terms": ["frontex", "external borders", "border and coast guard", "schengen"],
            "exclude": [],
        },
    ]
}


def test_matcher() -> Matcher:
    topics, errors, _ = topics_from_toml(TOPICS_TOML)
    assert not errors
    return Matcher(topics)


test_matcher.__test__ = False  # a helper, not a test


MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # where the Council tests' clock starts: a working day


def page(name: str) -> bytes:
    return (DATA / name).read_bytes()


def results_with(*edits: tuple[str, str]) -> bytes:
    """The constructed results page with text replacements applied (each must apply)."""
    body = page("register-results.html").decode("utf-8")
    for old, new in edits:
        assert old in body, old
        body = body.replace(old, new)
    return body.encode("utf-8")


# ST 15210 2023 INIT is listed without a PDF link (not public); this edit gives it one.
MAKE_15210_PUBLIC = (
    '<tr><th scope="row">Addressee</th><td>Delegations</td></tr>\n            </tbody>\n          </table>\n'
    "        </div>",
    '<tr><th scope="row">Addressee</th><td>Delegations</td></tr>\n            </tbody>\n          </table>\n'
    '          <a class="link-pdf" href="https://data.consilium.europa.eu/doc/document/ST-15210-2023-INIT/en/pdf">'
    "Download (EN)</a>\n        </div>",
)
# ST 14860 2023 REV 1 becomes REV 2: a new version of a family the page already listed.
REV_1_TO_REV_2 = [("ST 14860 2023 REV 1", "ST 14860 2023 REV 2"), ("ST-14860-2023-REV-1", "ST-14860-2023-REV-2")]


def settled_counts(server, paths: list[str], expected: list[int]) -> list[int]:
    """Request counts per path, read once the expected requests are counted (the fake counts a request just after
    answering it, so a count read at once can lag behind the client)."""
    for path, n in zip(paths, expected):
        if n:
            server.wait_for_hits(path, n, timeout=5)
    return [server.count(path) for path in paths]
