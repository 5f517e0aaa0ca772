"""HEAD on /healthz and /readyz answers the status and headers of a GET, with no body, for probes that only look at
the status; other methods stay refused."""

from __future__ import annotations

import httpx

from watcher.web.server import WebServer


async def test_head_answers_like_get_without_a_body():
    """HEAD /healthz is 200 and HEAD /readyz carries the readiness status (503 here), each with an empty body and
    the GET's Content-Length; POST is still 405."""
    server = WebServer("127.0.0.1", 0, ready=lambda: (False, {"sources": "none succeeded"}), metrics=lambda: b"m 1\n")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            for path, status in (("/healthz", 200), ("/readyz", 503)):
                got, head = await client.get(path), await client.head(path)
                assert (got.status_code, head.status_code) == (status, status)
                assert head.content == b"" and got.content != b""
                assert head.headers["content-length"] == str(len(got.content))
                assert head.headers["content-type"] == got.headers["content-type"]
            assert (await client.post("/healthz")).status_code == 405
    finally:
        await server.stop()
