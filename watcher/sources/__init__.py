"""Sources: what to poll and how to turn bytes into items. ``base`` holds the Source protocol every kind fills in,
``kinds`` the table from ``kind = "…"`` to class, one module per kind, and ``council/`` the Council of the EU's
documents (references, register pages, PDF text and headers, probing).

May import: ``watcher.http``, ``watcher.models``, ``watcher.errors``, ``watcher.durations``, ``watcher.clock``.
"""
