"""Council of the EU documents: references, register pages and PDF text.

The modules here are pure: they take bytes or text and return data. Fetching
is done elsewhere. ``register`` needs beautifulsoup4 and ``pdf`` needs pypdf,
so only the dependency-free reference helpers are re-exported here.
"""

from watcher.sources.council.refs import DocRef, RefError, find_refs, parse_ref

__all__ = ["DocRef", "RefError", "find_refs", "parse_ref"]
