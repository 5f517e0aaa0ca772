"""Drive the container smoke test: local servers, container start, alert, restart, no repeat. Prints each step."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.botapi import FakeBotAPI  # noqa: E402
from tests.fakes.feeds import FeedServer, rss  # noqa: E402

NAME = "watcher-smoke"
VOLUME = "watcher-smoke-data"
USER = 777001
OLD = {"title": "Council adopts fisheries conclusions", "link": "https://e.org/old", "guid": "old"}
NEW = {"title": "Council agrees mandate on countering migrant smuggling", "link": "https://e.org/new", "guid": "new"}


def step(text: str) -> None:
    print(f"[smoke] {text}", flush=True)


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    logs = docker("logs", NAME, check=False)
    raise SystemExit(f"[smoke] FAILED: {what} within {timeout:.0f}s\n{logs.stdout}{logs.stderr}")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def start(tag: str, config: Path, port: int, api: FakeBotAPI) -> None:
    docker(
        "run",
        "-d",
        "--name",
        NAME,
        "--network=host",
        "-v",
        f"{VOLUME}:/data",
        "-v",
        f"{config}:/app/config:ro",
        "-e",
        f"WATCHER_TELEGRAM_TOKEN={api.token}",
        "-e",
        f"WATCHER_TELEGRAM_API_URL={api.base_url}",
        "-e",
        f"WATCHER_HTTP_PORT={port}",
        tag,
    )


def main(tag: str) -> int:
    docker("rm", "-f", NAME, check=False)
    docker("volume", "rm", "-f", VOLUME, check=False)
    port = free_port()
    config = Path(tempfile.mkdtemp(prefix="watcher-smoke-"))
    config.chmod(0o755)
    with FeedServer() as feeds, FakeBotAPI() as api:
        feeds.set("/feed.xml", rss([OLD]))
        (config / "sources.toml").write_text(
            f'[[source]]\nname = "smoke-feed"\nkind = "rss"\nurl = "{feeds.url("/feed.xml")}"\nevery = "2s"\n'
        )
        for name in ("topics.toml", "relevance-model.json"):  # the topics and the weights their `relevance` keys use
            shutil.copy(ROOT / "config" / name, config / name)
        for f in config.iterdir():
            f.chmod(0o644)
        step(f"feed server {feeds.base_url}, fake Bot API {api.url}, health port {port}")
        start(tag, config, port, api)
        step("container started; waiting for /readyz")
        wait(lambda: http_status(f"http://127.0.0.1:{port}/readyz") == 200, "/readyz answered 200")
        step(f"/readyz 200; /healthz {http_status(f'http://127.0.0.1:{port}/healthz')}")
        wait(lambda: len(api.calls("setMyCommands")) >= 1, "the bot set its commands")
        api.send_user_message(USER, "/start")
        api.wait_for_messages(1, chat_id=USER, timeout=30)
        step("subscriber sent /start and got the welcome message")
        feeds.set("/feed.xml", rss([OLD, NEW]))
        alerts = api.wait_for_messages(2, chat_id=USER, timeout=60)
        assert NEW["title"] in alerts[1]["text"], alerts[1]["text"]
        step(f"alert received: {alerts[1]['plain_text'].splitlines()[0]!r}")

        def health() -> str:
            return docker("inspect", NAME, "--format", "{{.State.Health.Status}}", check=False).stdout.strip()

        wait(lambda: health() == "healthy", "Docker's HEALTHCHECK reported healthy", timeout=120)
        step(f"docker health status: {health()}")

        docker("restart", "-t", "20", NAME)
        step("container restarted")
        wait(lambda: http_status(f"http://127.0.0.1:{port}/readyz") == 200, "/readyz after restart")
        wait(lambda: len(api.calls("setMyCommands")) >= 2, "the bot came back")
        before = feeds.count("/feed.xml")
        wait(lambda: feeds.count("/feed.xml") >= before + 3, "three more polls after restart")
        count = len(api.sent_messages(USER))
        assert count == 2, f"expected 2 messages after restart, got {count}"
        step(f"after restart: {count} messages in the chat, nothing repeated")
        files = docker("run", "--rm", "-v", f"{VOLUME}:/data", "--entrypoint", "ls", tag, "-la", "/data").stdout
        assert "watcher.db" in files, files
        step(
            "database survived on the volume: "
            + " ".join(line.split()[-1] for line in files.splitlines() if "watcher.db" in line)
        )
        logs = docker("logs", NAME)
        assert api.token not in logs.stdout + logs.stderr, "the token appeared in the container logs"
        step("the token does not appear in the container logs")
        user = docker("exec", NAME, "id", "-u").stdout.strip()
        step(f"process runs as uid {user}")
        docker("stop", "-t", "20", NAME)
        code = docker("inspect", NAME, "--format", "{{.State.ExitCode}}").stdout.strip()
        step(f"stopped; exit code {code}")
    docker("rm", "-f", NAME, check=False)
    docker("volume", "rm", "-f", VOLUME, check=False)
    shutil.rmtree(config, ignore_errors=True)
    step("PASSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "watcher:smoke"))
