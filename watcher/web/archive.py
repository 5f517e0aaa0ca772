"""The archive: a read-only web interface to what the bot found. Search (``/``), one item with its timeline and
provenance (``/item/<source>/<id>``), the sources' health (``/sources``), Atom feeds (``/feeds/…``) and the kept
copies of documents (``/kept/<sha256>``).

Pages are server-rendered and work without JavaScript; the one script file only shows times in the reader's zone.
Every read runs on the archive's own read-only connection (``watcher.store.archive.Reader``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from watcher import health
from watcher.store import archive as db
from watcher.store import ledger, provenance
from watcher.store.db import DATABASE_ERRORS
from watcher.store.provenance import KeptDocuments
from watcher.web import feeds
from watcher.web.views import environment, query_string

log = logging.getLogger(__name__)

FILTER_KEYS = ("q", "topic", "source", "since", "until", "event", "series", "type", "code", "marking")
FEED_SIZE = 50
FACETS_FOR = 300.0  # seconds the filters' choices are reused before they are read again
_SHA = re.compile(r"^[0-9a-f]{64}$")
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@dataclass
class ArchiveSite:
    """What the pages need: the reader, topic labels, the configured sources and health rules, kept documents."""

    reader: db.Reader
    topics: dict[str, str]
    sources: tuple = ()
    rules: health.HealthRules | None = None
    kept: KeptDocuments | None = None

    def __post_init__(self) -> None:
        self.templates = Jinja2Templates(env=environment())
        self._facets: tuple[float, dict[str, list[str]]] | None = None

    async def facets(self) -> dict[str, list[str]]:
        """The filters' choices (sources, series, types, markings, codes), read at most every FACETS_FOR seconds:
        they change slowly and reading them scans the archive."""
        now = time.monotonic()
        if self._facets is None or now - self._facets[0] > FACETS_FOR:
            self._facets = (now, await self.reader.run(db.facets))
        return self._facets[1]

    def page(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        base = {"topics": self.topics, "nav": name.removesuffix(".html")}
        return self.templates.TemplateResponse(request, name, base | context, status_code=status)

    def problem(self, request: Request, message: str, status: int) -> Response:
        return self.page(request, "message.html", {"message": message, "title": "Cannot show this"}, status)


def filters_of(request: Request) -> tuple[db.Filters, dict[str, Any]]:
    """The search filters from the query string, and the same as parameters for links."""
    q = request.query_params
    params: dict[str, Any] = {k: q.get(k, "").strip()[: db.MAX_QUERY_CHARS + 1] for k in FILTER_KEYS if k != "code"}
    codes = [c for value in q.getlist("code") for c in re.split(r"[\s,;]+", value[:200]) if c][: db.MAX_CODES + 1]
    params["code"] = codes
    found = db.Filters(
        q=params["q"],
        topic=params["topic"],
        source=params["source"],
        since=params["since"],
        until=params["until"],
        event=params["event"],
        series=params["series"],
        doc_type=params["type"],
        codes=tuple(codes),
        marking=params["marking"],
    )
    return found, params


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 19 else None


async def search_page(request: Request) -> Response:
    site: ArchiveSite = request.app.state.archive
    f, params = filters_of(request)
    before, after = _int(request.query_params.get("before")), _int(request.query_params.get("after"))
    error, page = "", None
    try:
        page = await site.reader.run(db.search, f, before=before, after=after)
    except db.QueryError as exc:
        error = str(exc)
    except DATABASE_ERRORS as exc:
        log.warning("archive: search failed: %s", exc)
        return site.problem(request, "The database cannot be read just now; try again in a moment.", 503)
    facets = await site.facets()
    return site.page(
        request,
        "search.html",
        {
            "params": params,
            "page": page,
            "error": error,
            "facets": facets,
            "events": db.EVENTS,
            "qs": lambda **changes: query_string(params, **changes),
            "searched": any(params.values()),
        },
        400 if error else 200,
    )


async def item_page(request: Request) -> Response:
    site: ArchiveSite = request.app.state.archive
    source, item_id = request.path_params["source"], request.path_params["item_id"]
    try:
        item = await site.reader.run(db.item_detail, source, item_id)
        fetched = await site.reader.run(provenance.item_provenance, source, item_id) if item else []
    except DATABASE_ERRORS as exc:
        log.warning("archive: item %s/%s could not be read: %s", source, item_id, exc)
        return site.problem(request, "The database cannot be read just now; try again in a moment.", 503)
    if item is None:
        return site.problem(request, "No such item in the archive.", 404)
    for f in fetched:
        f["downloadable"] = bool(f["kept"] and site.kept and site.kept.path_of(f["sha256"]).is_file())
    return site.page(request, "item.html", {"item": item, "fetched": fetched, "title": item["title"]})


async def ledger_page(request: Request) -> Response:
    """The Council ledger per series and year: counts, the share public, the delay to release, the open gaps."""
    site: ArchiveSite = request.app.state.archive
    try:
        entries = await site.reader.run(ledger.build)
    except DATABASE_ERRORS as exc:
        log.warning("archive: the ledger could not be read: %s", exc)
        return site.problem(request, "The database cannot be read just now; try again in a moment.", 503)
    now = site.reader.clock()
    rows = [ledger.summary(entry, now) for entry in entries]
    gaps = {
        (e.series, e.year): [ledger.gap_json(n, now) for n in sorted(e.gaps, key=lambda n: n.number)] for e in entries
    }
    return site.page(request, "ledger.html", {"rows": rows, "gaps": gaps, "title": "Council ledger"})


async def sources_page(request: Request) -> Response:
    site: ArchiveSite = request.app.state.archive
    try:
        rows = await site.reader.call(health.source_health, site.sources, site.rules or health.HealthRules())
    except DATABASE_ERRORS as exc:
        log.warning("archive: source health could not be read: %s", exc)
        return site.problem(request, "The database cannot be read just now; try again in a moment.", 503)
    return site.page(request, "sources.html", {"rows": rows, "title": "Sources"})


async def kept_copy(request: Request) -> Response:
    site: ArchiveSite = request.app.state.archive
    sha = request.path_params["sha256"].removesuffix(".pdf")
    if not _SHA.match(sha) or site.kept is None:
        return site.problem(request, "No kept copy by that name.", 404)
    path = site.kept.path_of(sha)
    if not path.is_file() or not await site.reader.run(provenance.kept_copy, sha):
        return site.problem(request, "No kept copy by that name.", 404)
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=f"{sha}.pdf",
        headers={"cache-control": "private, max-age=86400, immutable"},
    )


def _absolute(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _self_url(request: Request) -> str:
    """The feed's own address, without a token that came in its query."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    return _absolute(request, request.url.path) + query_string({}, **_grouped(pairs))


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


async def topic_feed(request: Request) -> Response:
    site: ArchiveSite = request.app.state.archive
    topic = request.path_params["topic"]
    if topic not in site.topics:
        return Response("no such topic\n", 404, media_type="text/plain")
    page = await site.reader.run(db.search, db.Filters(topic=topic), limit=FEED_SIZE)
    label = site.topics[topic]
    entries = [
        feeds.entry(
            h,
            updated=h.updated,
            item_url=_absolute(request, db.item_path(h.source, h.item_id)),
            why=feeds.topic_reason(h, label),
            labels=site.topics,
        )
        for h in page.hits
    ]
    body = feeds.render(
        id=feeds.feed_id("topic", topic),
        title=f"watcher: {label}",
        self_url=_self_url(request),
        page_url=_absolute(request, "/" + query_string({"topic": topic})),
        updated=feeds.latest((h.updated for h in page.hits), site.reader.clock()),
        entries=entries,
    )
    return Response(body, media_type=ATOM_TYPE)


async def search_feed(request: Request) -> Response:
    site: ArchiveSite = request.app.state.archive
    f, params = filters_of(request)
    try:
        page = await site.reader.run(db.search, f, limit=FEED_SIZE)
    except db.QueryError as exc:
        return Response(f"{exc}\n", 400, media_type="text/plain")
    described = ", ".join(
        f"{k} {', '.join(v) if isinstance(v, list) else v}" for k, v in params.items() if v and k != "q"
    )
    entries = [
        feeds.entry(
            h,
            updated=h.updated,
            item_url=_absolute(request, db.item_path(h.source, h.item_id)),
            why=feeds.search_reason(h, f.q, described),
            labels=site.topics,
        )
        for h in page.hits
    ]
    key = query_string(params).lstrip("?")
    title = f"watcher: search “{f.q}”" if f.q else "watcher: search"
    body = feeds.render(
        id=feeds.feed_id("search", key),
        title=title + (f" ({described})" if described else ""),
        self_url=_self_url(request),
        page_url=_absolute(request, "/" + query_string(params)),
        updated=feeds.latest((h.updated for h in page.hits), site.reader.clock()),
        entries=entries,
    )
    return Response(body, media_type=ATOM_TYPE)


def routes() -> list[BaseRoute]:
    """The archive's routes; the app that mounts them keeps the ArchiveSite in ``app.state.archive``."""
    return [
        Route("/", search_page, methods=["GET"]),
        Route("/item/{source}/{item_id:path}", item_page, methods=["GET"]),
        Route("/sources", sources_page, methods=["GET"]),
        Route("/ledger", ledger_page, methods=["GET"]),
        Route("/kept/{sha256}", kept_copy, methods=["GET"]),
        Route("/feeds/topic/{topic}.atom", topic_feed, methods=["GET"]),
        Route("/feeds/search.atom", search_feed, methods=["GET"]),
        Mount("/static", StaticFiles(packages=[("watcher.web", "static")]), name="static"),
    ]
