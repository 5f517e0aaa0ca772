"""The Telegram bot: flat command handlers, a chat's preferences (topics, digests), operators' commands, and the
replies they send.

May import: ``watcher.store``, ``watcher.delivery``, ``watcher.notifiers``, ``watcher.health``, ``watcher.models``,
``watcher.errors``, ``watcher.clock``.
"""
