"""Persistence: the schema and its migrations, items and their events, subscribers and the outbox, source health
rows and operator messages. ``Store`` is the SQLite store.

May import: ``watcher.models``, ``watcher.errors``, ``watcher.clock``.
"""

from watcher.store.sqlite import Store

__all__ = ["Store"]
