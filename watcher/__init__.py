"""watcher: alerts on EU Council publications about migrant smuggling and borders."""

__version__ = "0.1.0"
