"""A local HTTP server on 127.0.0.1 that serves feeds and pages the tests set, counts requests, and misbehaves on
demand: slow answers, a sequence of answers (500 then 200), streamed bodies of any size, ETag / 304, and a handler
function for answers decided per request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/rss+xml; charset=utf-8"})
    delay: float = 0.0
    stream: Callable[[], Iterable[bytes]] | None = None  # chunks written as they come, without Content-Length
    etag: str | None = None  # answer 304 when the request's If-None-Match is this


def streamed(total: int, chunk: int = 64 * 1024, byte: bytes = b" ") -> Callable[[], Iterable[bytes]]:
    """A body of ``total`` bytes made chunk by chunk, never held whole in the server's memory."""

    def chunks() -> Iterable[bytes]:
        block = byte * chunk
        sent = 0
        while sent < total:
            piece = block[: min(chunk, total - sent)]
            sent += len(piece)
            yield piece

    return chunks


class FeedServer:
    """Serve ``routes[path]``; unknown paths answer 404. Thread-safe setters for tests to change answers."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.sequences: dict[str, list[Route]] = {}
        self.handlers: dict[str, Callable[[dict[str, str]], Route]] = {}
        self.hits: dict[str, int] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.log: list[tuple[float, str]] = []  # (time.time() at arrival, path) of every request, in order
        self.in_flight = 0
        self.max_in_flight = 0
        self.bytes_sent: dict[str, int] = {}
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

    def set(
        self, path: str, body: bytes | str, status: int = 200, headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(data, status, headers if headers is not None else Route().headers, delay)
        with self._lock:
            self.routes[path] = route

    def set_route(self, path: str, route: Route) -> None:
        with self._lock:
            self.routes[path] = route

    def set_sequence(self, path: str, routes: list[Route]) -> None:
        """Answer successive requests with these routes in turn; the last one then repeats."""
        with self._lock:
            self.sequences[path] = list(routes)

    def set_handler(self, path: str, handler: Callable[[dict[str, str]], Route]) -> None:
        """Decide each answer by calling ``handler(request_headers)``."""
        with self._lock:
            self.handlers[path] = handler

    def requested(self, path: str) -> int:
        """Requests received for ``path`` (answered or not)."""
        with self._lock:
            return sum(1 for p, _ in self.requests if p == path)

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits.get(path, 0)

    def wait_for_hits(self, path: str, n: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count(path) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} was fetched {self.count(path)} times, expected {n}")
            time.sleep(0.05)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                super().setup()
                # answer without Nagle's delay (headers and body are separate writes)
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                path = self.path
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._lock:
                    server.requests.append((path, headers))
                    server.log.append((time.time(), path))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(path, headers)
                finally:
                    with server._lock:  # counted once the answer is out, so a count means "served"
                        server.in_flight -= 1
                        server.hits[path] = server.hits.get(path, 0) + 1

            def _route(self, path: str, headers: dict[str, str]) -> Route:
                bare = path.split("?")[0]
                with server._lock:
                    handler = server.handlers.get(path) or server.handlers.get(bare)
                    seq = server.sequences.get(path) or server.sequences.get(bare)
                    route = (seq.pop(0) if len(seq) > 1 else seq[0]) if seq else None
                    route = route or server.routes.get(path) or server.routes.get(bare)
                if handler is not None:
                    route = handler(headers)
                return route or Route(b"not found", 404, {"Content-Type": "text/plain"})

            def _answer(self, path: str, headers: dict[str, str]) -> None:
                route = self._route(path, headers)
                if route.delay:
                    time.sleep(route.delay)
                if route.etag is not None and headers.get("if-none-match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                if route.etag is not None:
                    self.send_header("ETag", route.etag)
                if route.stream is None:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                chunks = route.stream() if route.stream is not None else [route.body]
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        with server._lock:
                            server.bytes_sent[path] = server.bytes_sent.get(path, 0) + len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

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
            fields.append(f'<guid isPermaLink="false">{escape(it["guid"])}</guid>')
        if "description" in it:
            fields.append(f"<description>{escape(it['description'])}</description>")
        fields.append(f"<pubDate>{it.get('pubDate', 'Mon, 14 Sep 2026 10:00:00 GMT')}</pubDate>")
        parts.append("<item>" + "".join(fields) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://127.0.0.1/</link><description>t</description>"
        + "".join(parts)
        + "</channel></rss>"
    )
