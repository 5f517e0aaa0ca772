"""A simulated year of the Council's document server (``data.consilium.europa.eu``), for tests and benches.

Three parts:

* ``CouncilYear``: a deterministic model (seeded ``random.Random``) of one year of ST numbering. About 70 numbers
  are issued per working day (none on weekends or Council holidays), about 17,000 a year, numbered in the order they
  appear. Most documents are public at once; some are never public (LIMITE, withheld); some become public weeks
  later. REV / ADD / COR versions of existing numbers appear later under the same number. A few documents exist
  only in French (OR. fr): their ``fr`` URL answers, their ``en`` one does not. The model is also the *truth*: for
  any simulated time it says which documents exist and which are public, so a bench can compare what a prober
  found with what there was to find.
* ``SimClock``: the simulated time, an attribute ``now`` in epoch seconds (the test sets or advances it), starting
  at 2026-01-01 00:00 UTC.
* ``CouncilYearServer``: an HTTP server on 127.0.0.1 that answers the document server's URL form
  ``/doc/document/<PDF id>/<lang>/pdf`` with a small PDF (page 1 laid out like a real Council header) when the
  document is public in that language at the clock's current time, and 404 otherwise. It fails a configurable
  small share of requests with a 5xx and answers another share slowly, deterministically by seed and request
  number, and logs every request.

What is known about the real server (``shared/reference/sources.md`` §1) and what is a guess here: numbers run up
within a year to about 17,000 and both public and non-public documents take them (a guess from numbers seen); the
PDF URL form is seen; the status for a missing or non-public document is not known (404 here); the daily rate,
the shares of withheld, late, revised and French-only documents and the holidays below are invented, plausible
values. Documents are served in all their languages from the moment they are public (no translation delay).

PDFs are made on demand with ``tests.fakes.council_pdfs.make_pdf`` and cached (1-3 KB each, the last ``pdf_cache`` of
them); building the model of a whole year takes about a tenth of a second. Nothing here imports ``watcher``.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import socket
import textwrap
import threading
import time
from array import array
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from random import Random

from tests.fakes.council_pdfs import make_pdf

DAY = 86400.0
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()  # 1767225600.0
DOCS_PATH = "/doc/document"
EU_LANGUAGES = (
    "bg",
    "es",
    "cs",
    "da",
    "de",
    "et",
    "el",
    "en",
    "fr",
    "ga",
    "hr",
    "it",
    "lv",
    "lt",
    "hu",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "sk",
    "sl",
    "fi",
    "sv",
)
ERROR_STATUSES = (500, 502, 503, 503, 504)

Version = tuple[tuple[str, int], ...]  # () is INIT; (("ADD", 1), ("REV", 2)) is ADD 1 REV 2, as in watcher refs


# --- time --------------------------------------------------------------------------------------------------------


def epoch(year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """Simulated epoch seconds of a UTC date and time: ``epoch(2026, 3, 2, 9)`` is 2 March 2026 09:00 UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


def to_datetime(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def day_of(t: float) -> date:
    """The UTC date of a simulated time."""
    return to_datetime(t).date()


def _easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def council_holidays(year: int) -> frozenset[date]:
    """A plausible list of the Council secretariat's days off (invented, after the EU institutions' usual ones):
    1-2 January, Maundy Thursday to Easter Monday, 1 May, 9 May, Ascension and the day after, Whit Monday,
    1 November, 24-31 December."""
    easter = _easter(year)
    days = {date(year, 1, 1), date(year, 1, 2), date(year, 5, 1), date(year, 5, 9), date(year, 11, 1)}
    days |= {easter + timedelta(days=n) for n in (-3, -2, 1, 39, 40, 50)}
    days |= {date(year, 12, d) for d in range(24, 32)}
    return frozenset(days)


class SimClock:
    """Simulated time for the server and the test: ``now`` is epoch seconds, set or advanced by the test.

    Calling the clock gives ``now`` as an aware datetime; ``http_clock()`` gives a view with watcher's Clock protocol
    (``now()``, ``monotonic()``, ``sleep()``) for the HTTP client and the store (``Store(path,
    clock=clock.http_clock())``), whose sleep advances this clock."""

    def __init__(self, now: float = YEAR_START):
        self.now = float(now)

    def advance(self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0) -> float:
        self.now += seconds + 60 * minutes + 3600 * hours + DAY * days
        return self.now

    @property
    def datetime(self) -> datetime:
        return to_datetime(self.now)

    @property
    def day(self) -> date:
        return day_of(self.now)

    def __call__(self) -> datetime:
        return self.datetime

    def http_clock(self) -> _HttpClock:
        return _HttpClock(self)


class _HttpClock:
    """watcher.clock.Clock over a SimClock: ``sleep`` returns at once and moves simulated time forward."""

    def __init__(self, clock: SimClock):
        self.clock = clock

    def now(self) -> datetime:
        return self.clock.datetime

    def monotonic(self) -> float:
        return self.clock.now

    async def sleep(self, seconds: float) -> None:
        import asyncio

        self.clock.advance(max(0.0, seconds))
        await asyncio.sleep(0)


# --- the model ---------------------------------------------------------------------------------------------------


def version_str(version: Version) -> str:
    return " ".join(f"{k} {n}" for k, n in version) or "INIT"


@dataclass(frozen=True, slots=True)
class SimDoc:
    """One document: a number and a version (INIT, REV 1, ADD 1 ...), with when it appears and is public."""

    number: int
    year: int
    version: Version
    appear: float
    public_from: float | None  # None: never public (withheld)
    languages: tuple[str, ...]

    @property
    def version_str(self) -> str:
        return version_str(self.version)

    @property
    def family(self) -> str:
        return f"ST {self.number} {self.year}"

    @property
    def canonical(self) -> str:
        """``ST 123 2026 REV 1``: the id the council-documents source gives its item."""
        return f"{self.family} {self.version_str}"

    @property
    def pdf_id(self) -> str:
        return self.canonical.replace(" ", "-")

    @property
    def short(self) -> str:
        """The header form: ``123/26``, ``123/1/26 REV 1``, ``123/26 ADD 1``."""
        revision = self.version[-1][1] if self.version and self.version[-1][0] == "REV" else 0
        middle = f"/{revision}" if revision else ""
        suffix = f" {self.version_str}" if self.version else ""
        return f"{self.number}{middle}/{self.year % 100:02d}{suffix}"

    def path(self, lang: str = "en") -> str:
        return f"{DOCS_PATH}/{self.pdf_id}/{lang}/pdf"

    def exists_at(self, t: float) -> bool:
        return self.appear <= t

    def public_at(self, t: float) -> bool:
        return self.public_from is not None and self.public_from <= t

    def served_at(self, t: float, lang: str) -> bool:
        """True when the server answers this document's ``lang`` URL with its PDF at time ``t``."""
        return lang in self.languages and self.public_at(t)


@dataclass(slots=True)
class SimNumber:
    """One ST number: the time it was issued, when it is public (None: withheld), its languages and its
    documents (INIT first, then later versions in the order they appear)."""

    number: int
    appear: float
    public_from: float | None
    languages: tuple[str, ...]
    versions: list[SimDoc] = field(default_factory=list)

    @property
    def init(self) -> SimDoc:
        return self.versions[0]

    @property
    def withheld(self) -> bool:
        return self.public_from is None

    @property
    def late(self) -> bool:
        return self.public_from is not None and self.public_from > self.appear

    @property
    def french_only(self) -> bool:
        return self.languages == ("fr",)

    def find(self, version: Version) -> SimDoc | None:
        for doc in self.versions:
            if doc.version == version:
                return doc
        return None


@dataclass(frozen=True)
class SimHeader:
    """What page 1 of a document says (the same for every version of a number, but for the date)."""

    doc_type: str
    subject: str
    subject_fr: str
    codes: tuple[str, ...]
    originator: str
    addressee: str
    directorate: str
    initials: str
    original_language: str
    interinstitutional_file: str | None
    commission_doc: str | None
    pages: int


# Subjects: (weight, English, French, codes, legislative). Invented titles in the register's style; about one
# document in fifteen is on migrant smuggling, borders, Schengen or returns, so a topic matcher has something to find.
_SUBJECTS = [
    (
        10,
        "the fight against migrant smuggling",
        "la lutte contre le trafic de migrants",
        ("MIGR", "JAIEX", "COMIX"),
        False,
    ),
    (
        8,
        "the European Border and Coast Guard: state of play",
        "le corps européen de garde-frontières et de garde-côtes : état des lieux",
        ("FRONT", "COMIX", "MIGR"),
        False,
    ),
    (
        8,
        "a common system for the return of illegally staying third-country nationals",
        "un système commun pour le retour des ressortissants de pays tiers en séjour irrégulier",
        ("MIGR", "CODEC", "COMIX"),
        True,
    ),
    (
        6,
        "the functioning of the Schengen area",
        "le fonctionnement de l'espace Schengen",
        ("SCHENGEN", "COMIX", "FRONT"),
        False,
    ),
    (
        6,
        "operational cooperation with third countries on migration",
        "la coopération opérationnelle avec les pays tiers en matière de migration",
        ("MIGR", "ASIM", "RELEX"),
        False,
    ),
    (30, "energy performance of buildings", "la performance énergétique des bâtiments", ("ENER", "ENV", "CODEC"), True),
    (
        30,
        "fishing opportunities for certain fish stocks for 2027",
        "les possibilités de pêche pour certains stocks halieutiques pour 2027",
        ("PECHE", "AGRI"),
        False,
    ),
    (
        30,
        "the Multiannual Financial Framework for the years 2028 to 2034",
        "le cadre financier pluriannuel pour la période 2028-2034",
        ("CADREFIN", "POLGEN", "FIN"),
        False,
    ),
    (25, "the digital euro", "l'euro numérique", ("EF", "ECOFIN", "CODEC"), True),
    (
        25,
        "the resilience of critical entities",
        "la résilience des entités critiques",
        ("PROCIV", "JAI", "CODEC"),
        True,
    ),
    (
        30,
        "the Union code relating to medicinal products for human use",
        "le code de l'Union relatif aux médicaments à usage humain",
        ("PHARM", "SAN", "MI", "CODEC"),
        True,
    ),
    (
        25,
        "a Single Market Emergency Instrument",
        "un instrument du marché unique pour les situations d'urgence",
        ("MI", "COMPET", "CODEC"),
        True,
    ),
    (
        30,
        "restrictive measures in view of the situation in Ukraine",
        "des mesures restrictives eu égard à la situation en Ukraine",
        ("CFSP/PESC", "COEST", "RELEX"),
        False,
    ),
    (
        25,
        "the Union Customs Code and the European Union Customs Authority",
        "le code des douanes de l'Union et l'autorité douanière de l'Union européenne",
        ("UD", "MI", "CODEC"),
        True,
    ),
    (25, "packaging and packaging waste", "les emballages et les déchets d'emballages", ("ENV", "MI", "CODEC"), True),
    (
        20,
        "combating child sexual abuse online",
        "la lutte contre les abus sexuels sur enfants en ligne",
        ("JAI", "ENFOPOL", "CRIMORG", "CODEC"),
        True,
    ),
    (20, "the European Health Data Space", "l'espace européen des données de santé", ("SAN", "PHARM", "CODEC"), True),
    (25, "the Global Gateway strategy", "la stratégie Global Gateway", ("DEVGEN", "RELEX", "COAFR"), False),
    (
        25,
        "the European Semester 2026: country-specific recommendations",
        "le Semestre européen 2026 : recommandations par pays",
        ("ECOFIN", "UEM", "SOC"),
        False,
    ),
    (20, "the EU Space Law", "la législation spatiale de l'Union", ("ESPACE", "COMPET", "CODEC"), True),
    (
        25,
        "screening of foreign investments in the Union",
        "le filtrage des investissements étrangers dans l'Union",
        ("COMER", "WTO", "CODEC"),
        True,
    ),
    (
        25,
        "the common agricultural policy after 2027",
        "la politique agricole commune après 2027",
        ("AGRI", "AGRIORG", "AGRIFIN"),
        False,
    ),
    (
        20,
        "the protection of animals during transport",
        "la protection des animaux pendant le transport",
        ("AGRILEG", "VETER", "CODEC"),
        True,
    ),
    (20, "the EU-Ukraine association agenda", "le programme d'association UE-Ukraine", ("COEST", "RELEX"), False),
    (
        20,
        "a framework for the recovery and resolution of insurance undertakings",
        "un cadre pour le redressement et la résolution des entreprises d'assurance",
        ("EF", "ECOFIN", "CODEC"),
        True,
    ),
    (20, "the Council's rules of procedure", "le règlement intérieur du Conseil", ("POLGEN", "INST"), False),
]
_SUBJECT_WEIGHTS = [s[0] for s in _SUBJECTS]
_FORMS = [  # (weight, doc type, English subject form, French subject form); {x} is the subject
    (30, "NOTE", "{X} - Presidency compromise text", "{X} - Texte de compromis de la présidence"),
    (
        15,
        "COVER NOTE",
        "Proposal for a Regulation of the European Parliament and of the Council on {x}",
        "Proposition de règlement du Parlement européen et du Conseil relatif à {x}",
    ),
    (
        12,
        '"I/A" ITEM NOTE',
        "Draft Council conclusions on {x} - Approval",
        "Projet de conclusions du Conseil sur {x} - Approbation",
    ),
    (6, '"I" ITEM NOTE', "{X} - Preparation for the Council meeting", "{X} - Préparation de la session du Conseil"),
    (5, '"A" ITEM NOTE', "Council Decision on {x} - Adoption", "Décision du Conseil concernant {x} - Adoption"),
    (
        8,
        "OUTCOME OF PROCEEDINGS",
        "Outcome of the Working Party meeting on {x}",
        "Résultats des travaux du groupe sur {x}",
    ),
    (6, "INFORMATION NOTE", "{X} - Information from the Presidency", "{X} - Information de la présidence"),
    (5, "REPORT", "Progress report on {x}", "Rapport sur l'état d'avancement des travaux relatifs à {x}"),
    (
        4,
        "PROVISIONAL AGENDA",
        "Provisional agenda of the Working Party meeting on {x}",
        "Ordre du jour provisoire de la réunion du groupe sur {x}",
    ),
    (3, "SUMMARY RECORD", "Summary record of the meeting on {x}", "Compte rendu de la réunion sur {x}"),
    (2, "LETTER", "Letter from the Chair concerning {x}", "Lettre de la présidence concernant {x}"),
    (2, "OPINION", "Opinion of the Legal Service on {x}", "Avis du Service juridique sur {x}"),
]
_FORM_WEIGHTS = [f[0] for f in _FORMS]
_FR_TYPES = {
    "NOTE": "NOTE",
    "COVER NOTE": "NOTE DE TRANSMISSION",
    '"I/A" ITEM NOTE': 'NOTE POINT "I/A"',
    '"I" ITEM NOTE': 'NOTE POINT "I"',
    '"A" ITEM NOTE': 'NOTE POINT "A"',
    "OUTCOME OF PROCEEDINGS": "RÉSULTATS DES TRAVAUX",
    "INFORMATION NOTE": "NOTE D'INFORMATION",
    "REPORT": "RAPPORT",
    "PROVISIONAL AGENDA": "ORDRE DU JOUR PROVISOIRE",
    "SUMMARY RECORD": "COMPTE RENDU",
    "LETTER": "LETTRE",
    "OPINION": "AVIS",
}
_ORIGINATORS = [
    "Presidency",
    "General Secretariat of the Council",
    "Permanent Representatives Committee (Part 1)",
    "Permanent Representatives Committee (Part 2)",
    "Working Party on Migration and Expulsion",
    "Legal Service",
]
_ADDRESSEES = [
    "Delegations",
    "Permanent Representatives Committee",
    "Council",
    "Permanent Representatives Committee/Council",
    "Working Party on Frontiers",
    "Strategic Committee on Immigration, Frontiers and Asylum",
]
_DIRECTORATES = ["GIP.B", "GIP.1", "JAI.1", "JAI.2", "RELEX.1", "ECOFIN.2.A", "COMPET.1", "TREE.1.A", "LIFE.2", "JUR"]
_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


class CouncilYear:
    """A deterministic year of ST numbers (see the module docstring). All times are simulated epoch seconds.

    Parameters: ``per_day`` numbers per working day on average (each day varies by ``spread``); shares of numbers
    ``withheld`` (never public) and ``late`` (public ``late_days`` days after they appear); ``french_only`` share
    served only in French; per number, the chance of a REV chain (``revisions``, each further REV with
    ``more_revisions``), of ADD 1 (``addenda``) and of COR 1 (``corrigenda``). ``holidays`` (a function of the
    year giving days off) defaults to ``council_holidays``; documents appear between ``hours`` (UTC)."""

    def __init__(
        self,
        seed: int = 2026,
        year: int = 2026,
        *,
        per_day: float = 70.0,
        spread: float = 0.15,
        withheld: float = 0.20,
        late: float = 0.08,
        late_days: tuple[int, int] = (7, 70),
        french_only: float = 0.03,
        revisions: float = 0.12,
        more_revisions: float = 0.35,
        addenda: float = 0.07,
        corrigenda: float = 0.015,
        holidays=council_holidays,
        hours: tuple[float, float] = (7.0, 18.0),
        pdf_cache: int = 4096,
    ):
        self.seed = seed
        self.year = year
        self.hours = hours
        self._holidays = holidays
        self._holiday_cache: dict[int, frozenset[date]] = {}
        self.numbers: list[SimNumber] = []  # numbers[n - 1] is number n
        self._appear: list[float] = []
        self._pdfs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._pdf_cache = pdf_cache
        self._pdf_lock = threading.Lock()
        self._build(
            Random(seed),
            per_day,
            spread,
            withheld,
            late,
            late_days,
            french_only,
            revisions,
            more_revisions,
            addenda,
            corrigenda,
        )
        self.withheld = frozenset(n.number for n in self.numbers if n.withheld)
        self.late = frozenset(n.number for n in self.numbers if n.late)
        self.french_only = frozenset(n.number for n in self.numbers if n.french_only)

    # building

    def is_working_day(self, d: date) -> bool:
        if d.weekday() >= 5:
            return False
        if self._holidays is None:
            return True
        days = self._holiday_cache.get(d.year)
        if days is None:
            days = self._holiday_cache[d.year] = frozenset(self._holidays(d.year))
        return d not in days

    def working_days(self) -> list[date]:
        """The working days of the model's year, in order."""
        d, end, days = date(self.year, 1, 1), date(self.year, 12, 31), []
        while d <= end:
            if self.is_working_day(d):
                days.append(d)
            d += timedelta(days=1)
        return days

    def _roll(self, t: float) -> float:
        """``t``, moved by whole days to the next working day when it falls on a day off (same time of day)."""
        while not self.is_working_day(day_of(t)):
            t += DAY
        return t

    def _build(
        self,
        rng: Random,
        per_day,
        spread,
        withheld,
        late,
        late_days,
        french_only,
        revisions,
        more_revisions,
        addenda,
        corrigenda,
    ) -> None:
        year = self.year
        start_h, end_h = self.hours
        span = (end_h - start_h) * 3600
        late_at = withheld + late
        lang_cuts = (french_only, french_only + 0.10, french_only + 0.18, french_only + 0.28)
        rand, randint, expo = rng.random, rng.randint, rng.expovariate
        number = 0
        for d in self.working_days():
            count = max(0, round(rng.gauss(per_day, per_day * spread)))
            base = epoch(d.year, d.month, d.day) + start_h * 3600
            for u in sorted(rand() for _ in range(count)):
                number += 1
                t = base + int(u * span)
                r = rand()
                public = None if r < withheld else self._roll(t + randint(*late_days) * DAY) if r < late_at else t
                r = rand()
                languages = (
                    ("fr",)
                    if r < lang_cuts[0]
                    else ("en", "fr")
                    if r < lang_cuts[1]
                    else ("en", "fr", "de")
                    if r < lang_cuts[2]
                    else EU_LANGUAGES
                    if r < lang_cuts[3]
                    else ("en",)
                )
                entry = SimNumber(number, t, public, languages)
                docs = [SimDoc(number, year, (), t, public, languages)]
                if rand() < revisions:
                    at, n = t, 0
                    while True:
                        n += 1
                        at = self._roll(at + (1 + int(expo(1 / 6))) * DAY)
                        docs.append(self._version(entry, (("REV", n),), at))
                        if n >= 6 or rand() >= more_revisions:
                            break
                if rand() < addenda:
                    at = self._roll(t + randint(0, 10) * DAY + 600)
                    docs.append(self._version(entry, (("ADD", 1),), at))
                    if rand() < 0.2:
                        docs.append(
                            self._version(
                                entry, (("ADD", 1), ("REV", 1)), self._roll(at + (1 + int(expo(1 / 8))) * DAY)
                            )
                        )
                    elif rand() < 0.2:
                        docs.append(self._version(entry, (("ADD", 2),), self._roll(at + randint(1, 15) * DAY)))
                if rand() < corrigenda:
                    docs.append(self._version(entry, (("COR", 1),), self._roll(t + randint(2, 30) * DAY)))
                docs.sort(key=lambda doc: doc.appear)
                entry.versions = docs
                self.numbers.append(entry)
                self._appear.append(t)

    def _version(self, entry: SimNumber, version: Version, at: float) -> SimDoc:
        public = None if entry.public_from is None else max(at, entry.public_from)
        return SimDoc(entry.number, self.year, version, at, public, entry.languages)

    # the truth

    def __len__(self) -> int:
        return len(self.numbers)

    def number(self, n: int) -> SimNumber | None:
        return self.numbers[n - 1] if 1 <= n <= len(self.numbers) else None

    def documents(self) -> Iterator[SimDoc]:
        """Every document of the year (all versions of all numbers), by number then appearance."""
        for entry in self.numbers:
            yield from entry.versions

    def find(self, ref: str) -> SimDoc | None:
        """The document for a reference in register or PDF-id form (``ST 12 2026 REV 1``, ``ST-12-2026-INIT``)."""
        parsed = _parse_id(ref.strip().replace(" ", "-").upper())
        if parsed is None or parsed[1] != self.year:
            return None
        entry = self.number(parsed[0])
        return entry.find(parsed[2]) if entry else None

    def issued_by(self, t: float) -> int:
        """How many numbers have appeared by time ``t``: the highest number issued so far (0 before the first)."""
        return bisect.bisect_right(self._appear, t)

    def existing_at(self, t: float) -> list[SimDoc]:
        """Documents (any version) that have appeared by ``t``, public or not."""
        last = self.issued_by(t)
        return [doc for entry in self.numbers[:last] for doc in entry.versions if doc.appear <= t]

    def public_at(self, t: float, lang: str | None = None) -> list[SimDoc]:
        """Documents the server serves at ``t`` (in ``lang`` when given, else in at least one language)."""
        last = self.issued_by(t)
        return [
            doc
            for entry in self.numbers[:last]
            for doc in entry.versions
            if doc.public_at(t) and (lang is None or lang in doc.languages)
        ]

    def public_refs(self, t: float, lang: str = "en", *, init_only: bool = False) -> set[str]:
        """Canonical references (item ids) served in ``lang`` at ``t``; ``init_only`` keeps INIT versions only."""
        return {doc.canonical for doc in self.public_at(t, lang) if not init_only or not doc.version}

    def per_day(self) -> Counter[date]:
        """Numbers issued per UTC day."""
        return Counter(day_of(t) for t in self._appear)

    def numbers_on(self, d: date) -> list[SimNumber]:
        start = epoch(d.year, d.month, d.day)
        return self.numbers[bisect.bisect_left(self._appear, start) : bisect.bisect_left(self._appear, start + DAY)]

    # what a document says

    def header(self, number: int) -> SimHeader:
        """Page-1 facts of a number, drawn from its own seeded stream (the same every time, in any order)."""
        rng = Random(f"{self.seed}/{number}")
        _, subject, subject_fr, codes, legislative = rng.choices(_SUBJECTS, _SUBJECT_WEIGHTS)[0]
        _, doc_type, form, form_fr = rng.choices(_FORMS, _FORM_WEIGHTS)[0]
        if doc_type == "COVER NOTE" and not legislative:
            form, form_fr = (
                "Communication from the Commission to the European Parliament and the Council on {x}",
                "Communication de la Commission au Parlement européen et au Conseil sur {x}",
            )
        text = form.replace("{X}", subject[0].upper() + subject[1:]).replace("{x}", subject)
        text_fr = form_fr.replace("{X}", subject_fr[0].upper() + subject_fr[1:]).replace("{x}", subject_fr)
        entry = self.number(number)
        if doc_type == "COVER NOTE":
            originator = "Secretary-General of the European Commission, signed by the Director"
            addressee = "Secretary-General of the Council of the European Union"
        else:
            originator, addressee = rng.choice(_ORIGINATORS), rng.choice(_ADDRESSEES)
        cion = f"COM({self.year}) {rng.randint(10, 900)} final" if doc_type == "COVER NOTE" else None
        file = f"{self.year - rng.randint(0, 2)}/{rng.randint(1, 420):04d}(COD)" if legislative else None
        return SimHeader(
            doc_type=doc_type,
            subject=text,
            subject_fr=text_fr,
            codes=tuple(f"{code} {rng.randint(1, 400 if code != 'CODEC' else 2400)}" for code in codes),
            originator=originator,
            addressee=addressee,
            directorate=rng.choice(_DIRECTORATES),
            initials=f"{rng.choice('ABCDEFGHJKLMNPRSTV')}{rng.choice('ABCDEFGHJKLMNPRSTV')}/"
            f"{rng.choice('abcdefghjklmnprstv')}{rng.choice('abcdefghjklmnprstv')}",
            original_language="fr" if entry is not None and entry.french_only else "en",
            interinstitutional_file=file,
            commission_doc=cion,
            pages=rng.choice((1, 1, 2, 2, 2, 3, 4)),
        )

    def pdf(self, doc: SimDoc, lang: str = "en") -> bytes:
        """The document's PDF in one language (French layout for ``fr``), made once and cached."""
        key = (doc.pdf_id, lang)
        with self._pdf_lock:
            data = self._pdfs.get(key)
            if data is not None:
                self._pdfs.move_to_end(key)
                return data
        data = make_pdf(self.page_texts(doc, lang))
        with self._pdf_lock:
            self._pdfs[key] = data
            while len(self._pdfs) > self._pdf_cache:
                self._pdfs.popitem(last=False)
        return data

    def page_texts(self, doc: SimDoc, lang: str = "en") -> list[str]:
        """The text of each page: page 1 in the first header layout of sources.md §1, French for ``fr``."""
        h = self.header(doc.number)
        fr = lang == "fr"
        d = day_of(doc.appear)
        pad = " " * 35
        foot = [f"{doc.short}{' ' * 20}{h.initials}{' ' * 10}{{page}}", f"{h.directorate}{' ' * 30}{lang.upper()}"]
        if fr:
            day = "1er" if d.day == 1 else str(d.day)
            lines = ["Conseil de", "l'Union européenne", f"{pad}Bruxelles, le {day} {_MONTHS_FR[d.month - 1]} {d.year}"]
        else:
            lines = ["Council of the", "European Union", f"{pad}Brussels, {d.day} {_MONTHS_EN[d.month - 1]} {d.year}"]
        lines.append(f"{pad}(OR. {h.original_language})")
        if h.interinstitutional_file:
            label = "Dossier interinstitutionnel:" if fr else "Interinstitutional File:"
            lines.append(f"{label} {h.interinstitutional_file}")
        lines += [f"{pad}{doc.short}", f"{pad}{'  '.join(h.codes)}", _FR_TYPES[h.doc_type] if fr else h.doc_type]
        from_, to, prev, cion, subj = (
            ("Origine:", "Destinataire:", "N° doc. préc.:", "N° doc. Cion:", "Objet:")
            if fr
            else ("From:", "To:", "No. prev. doc.:", "No. Cion doc.:", "Subject:")
        )
        lines += [f"{from_} {h.originator}", f"{to} {h.addressee}"]
        if doc.version:
            lines.append(f"{prev} {doc.number}/{doc.year % 100:02d}")
        if h.commission_doc:
            lines.append(f"{cion} {h.commission_doc}")
        lines += textwrap.wrap(f"{subj} {h.subject_fr if fr else h.subject}", 88)
        lines += [
            "",
            (
                "Les délégations trouveront ci-joint le document mentionné en objet."
                if fr
                else "Delegations will find attached the above-mentioned document."
            ),
            "",
        ]
        pages = ["\n".join(lines + [foot[0].format(page=1), foot[1]])]
        for page in range(2, h.pages + 1):
            body = [
                f"{page - 1}. " + ("Le texte figure ci-après." if fr else "The text is set out below."),
                "",
                "Article " + str(page - 1),
                "",
            ]
            body += textwrap.wrap(("Lorem ipsum " if fr else "The Member States shall ensure ") * 12, 88)
            pages.append("\n".join(body + ["", foot[0].format(page=page), foot[1]]))
        return pages


_ID = re.compile(r"ST-(\d{1,6})-(\d{4})-(INIT|(?:REV|ADD|COR|EXT)-\d{1,3}(?:-(?:REV|ADD|COR|EXT)-\d{1,3})*)")


def _parse_id(pdf_id: str) -> tuple[int, int, Version] | None:
    """``ST-12-2026-ADD-1-REV-2`` -> (12, 2026, (("ADD", 1), ("REV", 2))); None for anything else (including
    numbers with leading zeros, which are not the canonical form)."""
    m = _ID.fullmatch(pdf_id)
    if not m or m.group(1) != str(int(m.group(1))):
        return None
    parts = m.group(3).split("-")
    version = () if parts == ["INIT"] else tuple((parts[i], int(parts[i + 1])) for i in range(0, len(parts), 2))
    return int(m.group(1)), int(m.group(2)), version


# --- the server --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the server saw it: its number (from 1), simulated and wall (monotonic) time, and answer."""

    n: int
    sim_time: float
    wall_time: float
    method: str
    path: str
    status: int
    reason: str  # served, withheld, not yet public, not yet issued, no such language, not a document, fault, outage
    delay: float = 0.0

    @property
    def day(self) -> date:
        return day_of(self.sim_time)


def _unit(seed: int, n: int, salt: str) -> float:
    digest = hashlib.blake2b(f"{seed}:{salt}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class CouncilYearServer:
    """Serve ``model`` over HTTP on 127.0.0.1 at the time ``clock.now`` (any object with a ``now`` attribute in
    epoch seconds; a new ``SimClock`` by default).

    Request number n (from 1, in arrival order) fails with a 5xx when its seeded draw falls under ``error_rate``,
    and is answered after ``slow_delay`` real seconds when another draw falls under ``slow_rate``. During an
    ``outage`` (a list of simulated (start, end) times) every request answers 503. Anything that is not a public
    document in that language answers ``missing_status``.

    Every request is counted (per simulated day, status and reason, and its simulated and wall times kept in compact
    arrays for ``busiest``); the full ``Request`` entries are kept in ``log``, the last ``log_limit`` of them when
    that is set (a year-long bench makes about a million requests)."""

    def __init__(
        self,
        model: CouncilYear,
        clock=None,
        *,
        error_rate: float = 0.002,
        slow_rate: float = 0.002,
        slow_delay: float = 0.5,
        outages: Iterable[tuple[float, float]] = (),
        missing_status: int = 404,
        seed: int | None = None,
        log_limit: int | None = None,
    ):
        self.model = model
        self.clock = clock if clock is not None else SimClock()
        self.error_rate = error_rate
        self.slow_rate = slow_rate
        self.slow_delay = slow_delay
        self.outages = list(outages)
        self.missing_status = missing_status
        self.seed = model.seed if seed is None else seed
        self.log: deque[Request] = deque(maxlen=log_limit)
        self.total = 0  # requests received
        self._counts: Counter[tuple[date, int, str]] = Counter()  # (simulated day, status, reason) -> requests
        self._sim_times = array("d")
        self._wall_times = array("d")
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def docs_url(self) -> str:
        """The ``/doc/document`` base to give the council-documents source as its ``url``."""
        return self.base_url + DOCS_PATH

    def url(self, doc: SimDoc, lang: str = "en") -> str:
        return self.base_url + doc.path(lang)

    def start(self) -> CouncilYearServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> CouncilYearServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # faults, decided by seed and request number only

    def fault(self, n: int) -> tuple[int | None, float]:
        """(a 5xx status or None, a delay in real seconds) for request number ``n``."""
        status = None
        if self.error_rate and _unit(self.seed, n, "error") < self.error_rate:
            status = ERROR_STATUSES[int(_unit(self.seed, n, "which") * len(ERROR_STATUSES))]
        slow = self.slow_rate and _unit(self.seed, n, "slow") < self.slow_rate
        return status, (self.slow_delay if slow else 0.0)

    def answer(self, path: str, now: float) -> tuple[int, str, SimDoc | None, str]:
        """(status, reason, document, language) for a path at simulated time ``now``, faults aside."""
        m = re.fullmatch(DOCS_PATH + r"/([^/]+)/([A-Za-z]{2})/pdf", path.split("?", 1)[0])
        parsed = _parse_id(m.group(1)) if m else None
        if parsed is None or parsed[1] != self.model.year:
            return self.missing_status, "not a document", None, ""
        number, _, version = parsed
        lang = m.group(2).lower()  # the real server's handling of upper case is not known; accepted here
        entry = self.model.number(number)
        doc = entry.find(version) if entry is not None else None
        if doc is None or doc.appear > now:
            return self.missing_status, "not yet issued", None, lang
        if doc.public_from is None:
            return self.missing_status, "withheld", doc, lang
        if doc.public_from > now:
            return self.missing_status, "not yet public", doc, lang
        if lang not in doc.languages:
            return self.missing_status, "no such language", doc, lang
        return 200, "served", doc, lang

    # the log

    def requests(self) -> list[Request]:
        """The logged requests, oldest first (all of them unless ``log_limit`` is set)."""
        with self._lock:
            return list(self.log)

    def per_day(self, *, status: int | None = None) -> Counter[date]:
        """Requests per simulated UTC day (only those answered ``status`` when given)."""
        out: Counter[date] = Counter()
        with self._lock:
            for (day, code, _), count in self._counts.items():
                if status is None or code == status:
                    out[day] += count
        return out

    def statuses(self) -> Counter[int]:
        out: Counter[int] = Counter()
        with self._lock:
            for (_, code, _), count in self._counts.items():
                out[code] += count
        return out

    def reasons(self) -> Counter[str]:
        """Requests by why they were answered so: served, withheld, not yet public, not yet issued, no such
        language, not a document, fault, outage."""
        out: Counter[str] = Counter()
        with self._lock:
            for (_, _, reason), count in self._counts.items():
                out[reason] += count
        return out

    def busiest(self, window: float, *, wall: bool = False) -> int:
        """The most requests in any ``window`` seconds, on the simulated clock or (``wall``) in real time."""
        with self._lock:
            times = sorted(self._wall_times if wall else self._sim_times)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> None:
        """Wait until ``n`` requests were received (each is logged before it is answered, so this rarely waits)."""
        deadline = time.monotonic() + timeout
        while self.total < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.total} requests received, expected {n}")
            time.sleep(0.01)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real server; every answer has a Content-Length
            timeout = 30

            def setup(self) -> None:
                super().setup()
                # answer without Nagle's delay (headers and body are separate writes)
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                self._respond(body=True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._respond(body=False)

            def _respond(self, body: bool) -> None:
                now = float(server.clock.now)
                status, reason, doc, lang = server.answer(self.path, now)
                with server._lock:
                    server.total += 1
                    n = server.total
                    fault, delay = server.fault(n)
                    if any(start <= now < end for start, end in server.outages):
                        status, reason = 503, "outage"
                    elif fault is not None:
                        status, reason = fault, "fault"
                    wall = time.monotonic()
                    server.log.append(Request(n, now, wall, self.command, self.path, status, reason, delay))
                    server._counts[(day_of(now), status, reason)] += 1
                    server._sim_times.append(now)
                    server._wall_times.append(wall)
                if delay:
                    time.sleep(delay)
                if status == 200:
                    data, ctype = server.model.pdf(doc, lang), "application/pdf"
                else:
                    data = f"<html><body><h1>{status}</h1><p>{reason}</p></body></html>".encode()
                    ctype = "text/html; charset=utf-8"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    if body:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        return Handler
