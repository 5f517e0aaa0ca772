"""``watcher parse``: the items a saved feed, register page or PDF yields, so a maintainer can see why a source found
or missed something. Nothing is fetched and nothing is written."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TextIO

from watcher.http.challenge import detect_challenge
from watcher.models import Item, Match
from watcher.sources.base import COMMON_KEYS
from watcher.sources.council_pdf import pdf_items
from watcher.sources.kinds import KINDS as SOURCE_KINDS

PDF_KINDS = ("council-pdf", "council-documents")
KINDS = tuple(sorted({*SOURCE_KINDS, *PDF_KINDS}))
PLACEHOLDER_URL = "https://parse.invalid/"  # a saved file has no address of its own unless --url gives one


class Blocked(Exception):
    """The saved file is a bot-protection challenge page."""


def parse_saved(
    kind: str, data: bytes, *, name: str = "", url: str = "", options: dict[str, str] | None = None
) -> list[Item]:
    """Items of a saved file, read with the kind's ``options`` (html-list's selectors). Raises Blocked for a challenge
    page, ValueError for options the kind refuses, and ParseError or FetchError when the file is not what ``kind``
    expects."""
    if data.lstrip()[:5] != b"%PDF-":
        reason = detect_challenge(200, {}, data)
        if reason:
            raise Blocked(reason)
    source = f"parse:{kind}"
    if kind in PDF_KINDS:
        return pdf_items(data, source, url, name)
    cls = SOURCE_KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown kind {kind!r}; use one of: {', '.join(KINDS)}")
    chosen: dict[str, Any] = dict(options or {})  # text options only: select_options checked their names
    return cls(name=source, url=url or PLACEHOLDER_URL, every=3600.0, **chosen).parse(data, url)


def select_options(kind: str, pairs: list[str]) -> dict[str, str]:
    """``--select KEY=VALUE`` pairs as the kind's text options; ValueError names a wrong pair and the keys."""
    cls = SOURCE_KINDS.get(kind)
    fields = dataclasses.fields(cls) if cls is not None else ()
    keys = sorted(f.name for f in fields if f.type in ("str", str) and f.name not in COMMON_KEYS)
    if pairs and not keys:
        raise ValueError(f"kind {kind!r} takes no --select; it is for html-list selectors (row=..., title=...)")
    options: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or key not in keys:
            raise ValueError(
                f"--select {pair!r}: write KEY=VALUE with KEY one of {', '.join(keys)}, "
                "e.g. --select 'row=article' --select 'title=h3 a'"
            )
        options[key] = value.strip()
    return options


def item_record(item: Item, matches: list[Match] | None) -> dict:
    """One JSON object for an item: id, title, url, published, and the Council metadata when there is some."""
    record: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "url": item.url,
        "published": item.published.isoformat() if item.published else None,
    }
    extra = item.extra or {}
    if "public" in extra:
        record.update(
            {
                "doc_type": extra.get("doc_type", ""),
                "subjects": list(extra.get("subjects") or []),
                "public": extra.get("public"),
            }
        )
        for key in (
            "family",
            "version",
            "marking",
            "languages",
            "originator",
            "addressee",
            "interinstitutional_file",
            "procedures",
            "type_original",
            "commission_doc",
            "other_refs",
            "header_ref",
            "unread",
            "page_count",
        ):
            if extra.get(key):
                record[key] = extra[key]
    if item.summary:
        record["summary"] = item.summary
    if item.body:
        record["body_chars"] = len(item.body)
    if matches is not None:
        record["topics"] = [m.topic for m in matches]
        record["terms"] = list(dict.fromkeys(t for m in matches for t in m.terms))
        record["snippets"] = [m.snippet for m in matches if m.snippet]
    return record


def print_items(items: list[Item], matches: dict | None, out: TextIO, *, as_json: bool) -> None:
    """Print one line (or JSON object) per item; ``matches`` is None when no topics were loaded."""
    for item in items:
        found = matches.get(item.key, []) if matches is not None else None
        if as_json:
            out.write(json.dumps(item_record(item, found), ensure_ascii=False) + "\n")
            continue
        record = item_record(item, found)
        facts = [record["published"][:10] if record["published"] else "no date"]
        if "public" in record:
            facts += [record["doc_type"] or "type not given", "public" if record["public"] else "not public"]
            if record["subjects"]:
                facts.append("subjects " + " ".join(record["subjects"]))
        out.write(f"{item.id}  ({'; '.join(facts)})\n  {item.title}\n  {item.url or '(no link)'}\n")
        if found:
            out.write(f"  topics: {', '.join(record['topics'])}; matched: {', '.join(record['terms'])}\n")
            for snippet in record["snippets"]:
                out.write(f"    {snippet}\n")
    out.flush()
