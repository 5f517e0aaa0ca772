"""``watcher archive verify``: hash every kept document again and report the copies that no longer match."""

from __future__ import annotations

from pathlib import Path

from watcher.store.archive import Reader
from watcher.store.db import DATABASE_ERRORS
from watcher.store.provenance import Mismatch, kept_hashes, verify


def verify_kept(data_dir: Path, database_url: str | None = None) -> tuple[int, list[Mismatch]]:
    """Check the copies under ``data_dir/documents``, and that every copy the database (the SQLite file in
    ``data_dir``, or PostgreSQL at ``database_url``) lists is there."""
    expected: list[str] = []
    db_path = data_dir / "watcher.db"
    if database_url or db_path.exists():
        reader = Reader(database_url or db_path)
        try:
            expected = kept_hashes(reader.db)
        except DATABASE_ERRORS:  # no provenance tables yet (an older database): check the files alone
            expected = []
        finally:
            reader.close()
    return verify(data_dir / "documents", expected)


def verify_lines(folder: Path, checked: int, bad: list[Mismatch]) -> list[str]:
    """What ``watcher archive verify`` prints: one line per bad copy, then a summary."""
    lines = [
        f"MISMATCH {m.path}: named {m.expected}, " + ("missing" if m.found == "missing" else f"hashes to {m.found}")
        for m in bad
    ]
    if not checked and not bad:
        return lines + [f"no kept documents under {folder}"]
    verdict = f"{len(bad)} do not match" if bad else "all match their SHA-256"
    return lines + [f"checked {checked} kept document{'s' if checked != 1 else ''} under {folder}: {verdict}"]
