"""A local HTTP server on 127.0.0.1 that serves feeds and pages the tests set, and counts requests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/rss+xml; charset=utf-8"})
    delay: float = 0.0


class FeedServer:
    """Serve ``routes[path]``; unknown paths answer 404. Thread-safe setters for tests to change answers."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def set(self, path: str, body: bytes | str, status: int = 200, headers: dict[str, str] | None = None,
            delay: float = 0.0) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(data, status, headers if headers is not None else Route().headers, delay)
        with self._lock:
            self.routes[path] = route

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits.get(path, 0)

    def wait_for_hits(self, path: str, n: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count(path) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} was fetched {self.count(path)} times, expected {n}")
            time.sleep(0.05)

    def start(self) -> "FeedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FeedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                path = self.path
                with server._lock:
                    route = server.routes.get(path) or server.routes.get(path.split("?")[0])
                if route and route.delay:
                    time.sleep(route.delay)
                if route is None:
                    route = Route(b"not found", 404, {"Content-Type": "text/plain"})
                self.send_response(route.status)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                with server._lock:  # counted once the answer is out, so a count means "served"
                    server.hits[path] = server.hits.get(path, 0) + 1

            def log_message(self, *args) -> None:
                pass

        return Handler


def rss(items: list[dict], title: str = "Test feed") -> str:
    """A small RSS 2.0 document; each item dict has title, link and optional guid, description, pubDate."""
    from xml.sax.saxutils import escape

    parts = []
    for it in items:
        fields = [f"<title>{escape(it['title'])}</title>", f"<link>{escape(it['link'])}</link>"]
        if "guid" in it:
            fields.append(f"<guid isPermaLink=\"false\">{escape(it['guid'])}</guid>")
        if "description" in it:
            fields.append(f"<description>{escape(it['description'])}</description>")
        fields.append(f"<pubDate>{it.get('pubDate', 'Mon, 14 Sep 2026 10:00:00 GMT')}</pubDate>")
        parts.append("<item>" + "".join(fields) + "</item>")
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><link>http://127.0.0.1/</link><description>t</description>"
            + "".join(parts) + "</channel></rss>")
