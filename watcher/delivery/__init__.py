"""Delivery: the outbox loops that send alerts and operator messages through notifiers, pacing under Telegram's
limits, daily digests, and the policy for each notifier error.

May import: ``watcher.store``, ``watcher.notifiers``, ``watcher.models``, ``watcher.errors``, ``watcher.clock``.
"""
