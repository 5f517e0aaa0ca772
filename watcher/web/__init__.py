"""The service's HTTP face: ``/healthz``, ``/readyz`` and ``/metrics``.

May import: ``watcher.store``, ``watcher.models``, ``watcher.clock``.
"""
