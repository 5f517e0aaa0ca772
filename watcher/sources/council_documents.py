"""Source kind ``council-documents``: finds newly published Council documents on the document server by asking for
numbers of a series (``ST-<number>-<year>-INIT``) and for the next versions of the documents found.

``url`` is the document server's ``/doc/document/`` base. Each run, within a few per-run budgets (each request
also waits the HTTP client's per-host interval):

1. **New numbers**: the numbers after the highest one found, until ``stop_after`` in a row are not served (at most
   ``window``), and ``sweep`` numbers further out, so that a run of non-public numbers does not hide the documents
   after it (see ``watcher.sources.council.probing``). These are asked for in the first configured language; the
   first of them also in the other languages, with a back-off while it stays the first missing one.
2. **Gaps**: numbers passed by a higher one, asked for again with a back-off per gap, at most ``gap_reprobe``
   requests; the first round and every few rounds after try every language in ``languages``, so that a document
   that exists only in its original language (``OR. fr``) is found. A gap that appears alerts "Now public".
3. **Versions**: the next ``REV``/``ADD``/``COR`` of the families found in the last ``follow_age``, at most
   ``version_probes`` requests, families whose subject codes are in ``follow_subjects`` first and most often (see
   ``watcher.sources.council.families``), each in the language its documents answered in.

Every served PDF is read (text and header) once; the item's link is the language that answered, also kept in its
``extra["pdf_language"]``. What the source knows lives in its cursor and is saved with the poll's items, so a
failed poll asks again next time. A number the server does not serve is "not available (yet)", never a failure; a
time-out, network or server error, rate limit or bot challenge fails the poll. Gaps are recorded as placeholder
items marked not public. Documents found ahead whose date is older than ``backlog_age`` (a catch-up after
``start`` was set low) are recorded without alerting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from datetime import datetime, timedelta

from watcher.errors import FetchError, ParseError
from watcher.models import Item
from watcher.sources.base import Source
from watcher.sources.council.document import item_from_pdf, placeholder_item, read_pdf, unread_item
from watcher.sources.council.pdf import DEFAULT_MAX_PAGES
from watcher.sources.council.probing import ProbeState
from watcher.sources.council.refs import SERIES, DocRef, Version
from watcher.sources.council_pdf import DEFAULT_PDF_MAX_BYTES, fetch_pdf, pdf_items, pdf_url

log = logging.getLogger(__name__)

DAY = 86400.0
MAX_WINDOW = 200
MAX_LANGUAGES = 6  # a gap's round asks for every one of them
# The register codes of the shipped topics (borders, migration and asylum, police cooperation) and JHA external.
FOLLOW_SUBJECTS = (
    "MIGR",
    "ASILE",
    "ASIM",
    "FRONT",
    "SIRIS",
    "VISA",
    "SCHENGEN",
    "ENFOPOL",
    "CRIMORG",
    "COSI",
    "IXIM",
    "JAIEX",
)


@dataclasses.dataclass
class _Run:
    """One poll: the state it changes, what it asked for (number -> languages) and what it found (id -> item)."""

    probe: ProbeState
    now: datetime
    asked: dict[int, set[str]] = dataclasses.field(default_factory=dict)
    items: dict[str, Item] = dataclasses.field(default_factory=dict)
    requests: int = 0
    found: dict[str, int] = dataclasses.field(default_factory=lambda: {"new": 0, "gap": 0, "version": 0})

    @property
    def stamp(self) -> float:
        return self.now.timestamp()


@dataclasses.dataclass
class _Scan:
    """Where a run's scan of new numbers is: the next number, misses in a row, and requests left near and far."""

    number: int
    misses: int = 0
    near: int = 0
    far: int = 0


@dataclasses.dataclass(frozen=True)
class CouncilDocumentsSource(Source):
    kind = "council-documents"
    series: str = "ST"
    year: int = 0
    start: int = 1
    window: int = 10
    stop_after: int = 5
    sweep: int = 2
    lookahead: int = 50
    gap_reprobe: int = 15
    gap_max_age: float = 90 * DAY
    version_probes: int = 8
    follow_age: float = 30 * DAY
    follow_subjects: tuple = FOLLOW_SUBJECTS
    backlog_age: float = 14 * DAY
    languages: tuple = ("en", "fr", "de")
    language: str = ""  # older single-language option: put first when set
    max_bytes: int = DEFAULT_PDF_MAX_BYTES
    max_pages: int = DEFAULT_MAX_PAGES
    expect_items: bool = False  # a run that finds no new number is the normal case, not a failure

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.series not in SERIES:
            raise ValueError(f"'series' must be one of {', '.join(SERIES)}, got {self.series!r}")
        if self.year and not 1999 <= self.year <= 2099:
            raise ValueError(f"'year' must be 0 (the current year) or a year from 1999, got {self.year}")
        if self.start < 1:
            raise ValueError(f"'start' must be 1 or more, got {self.start}")
        for key, low in (("window", 1), ("stop_after", 1), ("sweep", 1), ("gap_reprobe", 0), ("version_probes", 0)):
            if not low <= getattr(self, key) <= MAX_WINDOW:
                raise ValueError(
                    f"'{key}' must be from {low} to {MAX_WINDOW} requests per run, got {getattr(self, key)}"
                )
        if self.lookahead < max(self.window, self.stop_after):
            raise ValueError(
                f"'lookahead' ({self.lookahead}) must be at least 'window' ({self.window}) and "
                f"'stop_after' ({self.stop_after})"
            )
        codes = [self.language] if self.language else []
        if not 1 <= len(self.languages) <= MAX_LANGUAGES or len(set(self.languages)) != len(self.languages):
            raise ValueError(
                f'\'languages\' must list 1 to {MAX_LANGUAGES} different codes such as ["en", "fr"], '
                f"got {list(self.languages)!r}"
            )
        for code in codes + list(self.languages):
            if not isinstance(code, str) or not re.fullmatch(r"[a-z]{2}", code):
                raise ValueError(f"'languages' and 'language' take lower-case codes such as \"en\", got {code!r}")

    @property
    def langs(self) -> tuple[str, ...]:
        """The languages asked for, in order: ``language`` first when set, then ``languages``."""
        first = (self.language,) if self.language else ()
        return first + tuple(code for code in self.languages if code != self.language)

    async def poll(self, http, state) -> list[Item]:
        now = state.now()
        run = _Run(ProbeState.from_cursor(state.get_cursor(), self.series, self.year or now.year, self.start), now)
        await self._new_numbers(http, run)
        await self._edge(http, run)
        await self._gaps(http, run)
        await self._versions(http, run)
        state.set_cursor(run.probe.to_cursor())
        probe = run.probe
        log.info(
            "source %s: %s %d: %d requests; found %d new, %d gaps, %d versions; highest %d, %d gaps and %d "
            "families watched",
            self.name,
            self.series,
            probe.year,
            run.requests,
            run.found["new"],
            run.found["gap"],
            run.found["version"],
            probe.highest,
            len(probe.gaps),
            len(probe.families.families),
        )
        return list(run.items.values())

    # --- the three steps of a run ------------------------------------------------------------------------------

    async def _new_numbers(self, http, run: _Run) -> None:
        """Numbers after the highest found until ``stop_after`` in a row are missing, then the sweep further out."""
        scan = _Scan(run.probe.highest + 1, near=self.window, far=self.sweep)
        while (pick := self._pick(run, scan)) is not None:
            number, sweeping, nearest = pick
            item = await self._ask(http, run, number, self.langs[:1])
            if item is not None:
                self._found_number(run, number, item, ahead=True)
                scan.number, scan.misses = number + 1, 0  # go on after it
            elif not sweeping:
                scan.misses += 1
            elif not nearest:
                run.probe.swept()

    def _pick(self, run: _Run, scan: _Scan) -> tuple[int, bool, bool] | None:
        """The next new number to ask for (number, from the sweep, the sweep's nearest), or None when done."""
        probe = run.probe
        while scan.near and scan.misses < self.stop_after and scan.number <= probe.highest + self.lookahead:
            number = scan.number
            scan.number, scan.near = number + 1, scan.near - 1
            if number not in run.asked:
                return number, False, False
            scan.misses += 1  # the sweep asked for it before it wrapped round
        if not scan.far:
            return None
        # With two or more sweeps a run, the first is the nearest; the others take turns farther out.
        nearest = scan.far == self.sweep and self.sweep > 1
        farther = probe.sweep_number(scan.number - 1, self.lookahead, nearest=nearest, skip_nearest=self.sweep > 1)
        if farther is None or farther in run.asked:
            return None
        scan.far -= 1
        return farther, True, nearest

    async def _edge(self, http, run: _Run) -> None:
        """The first numbers after the highest found that this run missed in the first language: in the other
        languages, each with a back-off while it stays among the first."""
        if len(self.langs) < 2:
            return
        probe = run.probe
        for number in probe.edge_due(run.now):
            if number <= probe.highest or self.langs[0] not in run.asked.get(number, ()):
                continue
            item = await self._ask(http, run, number, [c for c in self.langs[1:] if c not in run.asked[number]])
            probe.edge_asked(number, run.now)
            if item is not None:
                self._found_number(run, number, item, ahead=True)

    async def _gaps(self, http, run: _Run) -> None:
        """Gaps that are due, new ones first, within ``gap_reprobe`` requests."""
        probe, budget = run.probe, self.gap_reprobe
        for number in probe.due_gaps(run.now, self.gap_max_age):
            if budget <= 0:
                break
            gap = probe.gaps[number]
            first_round = gap.rounds == 0
            langs = [code for code in gap.languages(self.langs) if code not in run.asked.get(number, ())]
            before = run.requests
            item = await self._ask(http, run, number, langs)
            budget -= run.requests - before
            if item is None:
                probe.gap_missed(number, run.now)
            else:
                self._found_number(run, number, item, ahead=first_round)

    async def _versions(self, http, run: _Run) -> None:
        """The next versions of the families that are due, within ``version_probes`` requests."""
        follow, budget = run.probe.families, self.version_probes
        for number in follow.due(run.stamp, self.follow_age):
            if budget <= 0:
                break
            family = follow.families[number]
            follow.asked(number, run.stamp)
            lang = family.language or self.langs[0]
            for version in family.candidates():
                budget -= 1
                item = await self._fetch(http, run, self._ref(run.probe, number, version), lang)
                if item is not None:
                    run.items[item.id] = item
                    run.found["version"] += 1
                    follow.add(number, version, run.stamp, family.language, self._close(item))

    # --- helpers -----------------------------------------------------------------------------------------------

    def _found_number(self, run: _Run, number: int, item: Item, *, ahead: bool) -> None:
        """Record a served number: placeholders for the gaps it passes, and its family to follow."""
        probe = run.probe
        was_gap = number in probe.gaps
        for gap in probe.found(number, run.now):
            ref = self._ref(probe, gap)
            run.items.setdefault(ref.canonical, placeholder_item(self.name, ref, self._url(ref, self.langs[0])))
        if ahead and self._is_backlog(item, run.now):
            item.extra["backlog"] = True
        run.found["gap" if was_gap else "new"] += 1
        run.items[item.id] = item
        lang = item.extra.get("pdf_language", "")
        probe.families.add(number, (), run.stamp, "" if lang == self.langs[0] else lang, self._close(item))

    def _close(self, item: Item) -> bool:
        return bool(set(item.extra.get("subjects") or ()) & set(self.follow_subjects))

    def _ref(self, probe: ProbeState, number: int, version: Version = ()) -> DocRef:
        return DocRef(self.series, number, probe.year, version)

    def _url(self, ref: DocRef, lang: str) -> str:
        return pdf_url(self.url, ref, lang)

    def _is_backlog(self, item: Item, now: datetime) -> bool:
        return bool(item.published and now - item.published > timedelta(seconds=self.backlog_age))

    async def _ask(self, http, run: _Run, number: int, langs) -> Item | None:
        """The INIT document of this number in the first of ``langs`` that serves it, or None."""
        asked = run.asked.setdefault(number, set())
        for lang in langs:
            asked.add(lang)
            item = await self._fetch(http, run, self._ref(run.probe, number), lang)
            if item is not None:
                return item
        return None

    async def _fetch(self, http, run: _Run, ref: DocRef, lang: str) -> Item | None:
        """The document in this language, or None when the server does not serve it."""
        run.requests += 1
        item = await self._probe(ref, self._url(ref, lang), http)
        if item is not None:
            item.extra["pdf_language"] = lang
        return item

    async def _probe(self, ref: DocRef, url: str, http) -> Item | None:
        """The document at this URL, or None when the server does not serve it."""
        try:
            data, why = await fetch_pdf(http, url, source=self.name, max_bytes=self.max_bytes)
        except FetchError as exc:
            if exc.failure != "too_large":
                raise
            log.warning(
                "source %s: %s is served but passes the size cap (%s); recorded without its text",
                self.name,
                ref,
                exc.detail,
            )
            return unread_item(self.name, ref, url, f"too large: {exc.detail}")
        if data is None:
            log.debug("source %s: %s not available: %s", self.name, ref, why)
            return None
        try:
            # pypdf is CPU-bound: read in a worker thread so the bot and delivery go on meanwhile
            return item_from_pdf(self.name, ref, url, await asyncio.to_thread(read_pdf, data, self.max_pages))
        except ParseError as exc:
            log.warning("source %s: %s is served but its PDF could not be read: %s", self.name, ref, exc)
            return unread_item(self.name, ref, url, f"unreadable: {exc}")

    def parse(self, data: bytes, url: str = "") -> list[Item]:
        """The item one saved PDF gives (its reference from the header)."""
        return pdf_items(data, self.name, url)
