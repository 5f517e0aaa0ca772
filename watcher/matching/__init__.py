"""Topic matching internals. Import the public names from ``watcher.matcher``."""
