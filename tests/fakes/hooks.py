"""A local webhook receiver on 127.0.0.1: records every POST (path, headers, JSON body) and answers with the
statuses the test queues (200 by default)."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HookServer:
    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.answers: deque[tuple[int, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    server.posts.append(
                        {"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"null")}
                    )
                    status, headers = server.answers.popleft() if server.answers else (200, {})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        """The next POST gets this status."""
        with self._lock:
            self.answers.append((status, headers or {}))

    def __enter__(self) -> HookServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
