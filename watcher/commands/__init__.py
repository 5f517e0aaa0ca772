"""Command-line commands that are more than wiring: ``once``, ``parse``, ``match`` / ``replay`` (maintain).

May import anything below the command line: ``watcher.app`` and every stage package.
"""
