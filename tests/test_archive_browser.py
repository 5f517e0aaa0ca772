"""The archive in a real browser (headless Chromium from Debian's packages, driven by Selenium): search, a result,
its item page and the topic's Atom feed; hostile titles stay inert; screenshots at 390 px and 1280 px."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest

from watcher.models import Item, Match
from watcher.store.archive import Reader
from watcher.store.sqlite import Store
from watcher.web.archive import ArchiveSite, routes
from watcher.web.site import Served, build_app

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or not DRIVER.exists(),
    reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
    "/usr/bin/chromedriver): apt-get install -y chromium chromium-driver",
)
HOSTILE = (
    "<script>document.title='owned'</script><img src=x onerror=\"document.title='owned'\"> "
    "\"quoted\" 'single' \u202eevil\u202c"
)
TOPICS = {"smuggling": "Migrant smuggling", "borders": "Borders and Schengen"}
ARTIFACTS = Path(tempfile.gettempdir()) / "watcher-archive-browser"


def fill(store: Store) -> None:
    items = [
        Item(
            "council",
            f"ST {n} 2024 INIT",
            f"Note {n} on the external borders",
            f"https://docs.example/{n}",
            summary="Schengen evaluation",
            body="The external borders and Frontex.",
            extra={"family": f"ST {n} 2024", "public": True, "doc_type": "NOTE", "subjects": ["FRONT"]},
        )
        for n in range(1, 8)
    ]
    items.append(
        Item(
            "council",
            "ST 9 2024 INIT",
            "Action plan against migrant smuggling networks",
            "https://docs.example/9",
            summary="On 2023/0439(COD), the migrant smuggling directive",
            body="Member States agreed on the fight against migrant smuggling along the routes.",
            extra={
                "family": "ST 9 2024",
                "public": True,
                "doc_type": "NOTE",
                "marking": "LIMITE",
                "subjects": ["MIGR", "CRIMORG"],
                "procedures": ["2023/0439(COD)"],
            },
        )
    )
    items.append(Item("feed", "hostile", HOSTILE + " migrant smuggling", "https://e.org/hostile", summary=HOSTILE))
    found = {
        ("council", "ST 9 2024 INIT"): [Match("smuggling", ("migrant smuggling",), "[migrant smuggling]")],
        ("feed", "hostile"): [Match("smuggling", ("migrant smuggling",), HOSTILE)],
    }
    found |= {("council", f"ST {n} 2024 INIT"): [Match("borders", ("external borders",), "")] for n in range(1, 8)}
    store.record_poll("feed", items[-1:], found)
    store.record_poll("council", items[:-1], {})
    for item in items[:-1]:
        store.db.execute(
            "INSERT OR IGNORE INTO matches (source, item_id, topic, terms, matched_at) SELECT ?, ?, ?, ?, ?",
            (item.source, item.id, found[item.key][0].topic, '["' + found[item.key][0].terms[0] + '"]', store.now()),
        )


def browser(width: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="watcher-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={width},900",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(DRIVER), env={"TZ": "Europe/Brussels"})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_window_size(width, 900)
    return driver, profile


@pytest.fixture
async def site(tmp_path):
    path = tmp_path / "watcher.db"
    store = Store(path)
    fill(store)
    store.close()
    archive = ArchiveSite(reader=Reader(path), topics=TOPICS)
    served = Served(build_app(routes(), state={"archive": archive}), "127.0.0.1", 0)
    await served.start()
    yield f"http://127.0.0.1:{served.port}"
    await served.stop()
    await asyncio.to_thread(archive.reader.close)


def shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(driver.get_window_size()["width"], min(max(int(height), 600), 2400))
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def journey(base: str, width: int) -> dict:
    """Search, follow the first result, open its topic's feed; returns what the test checks."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    def gone(element) -> bool:
        """Whether ``element``'s page has been replaced. Chromium reports a node of the page it is leaving either as
        stale or, while the next page is being built, as a node that "does not belong to the document"."""
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in (exc.msg or ""):
                return True
            raise
        return False

    def left(element) -> None:
        """Wait until the page that held ``element`` has been replaced by the next one and that one has loaded:
        reading elements before would read the old page, or elements it drops while it goes."""
        wait = WebDriverWait(driver, 30)
        wait.until(lambda _: gone(element))
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    driver, profile = browser(width)
    seen: dict = {}
    try:
        driver.get(base + "/")
        box = driver.find_element(By.ID, "q")
        box.send_keys("migrant smuggling", Keys.ENTER)
        left(box)
        seen["results"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".hit h2")]
        seen["marks"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".hit mark")]
        seen["title_after_search"] = driver.title
        seen["injected"] = len(driver.find_elements(By.CSS_SELECTOR, ".hit img, .hit script"))
        seen["time_text"] = driver.find_element(By.CSS_SELECTOR, ".hit time").text
        seen["time_title"] = driver.find_element(By.CSS_SELECTOR, ".hit time").get_attribute("title")
        seen["search_shot"] = shot(driver, f"archive-{width}.png")
        result = driver.find_element(By.PARTIAL_LINK_TEXT, "Action plan against")
        result.click()
        left(result)
        seen["item_h1"] = driver.find_element(By.TAG_NAME, "h1").text
        seen["procedure_links"] = [
            a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".procedure a")
        ]
        seen["item_shot"] = shot(driver, f"item-{width}.png")
        feed = driver.find_element(By.CSS_SELECTOR, ".matches a.feed")
        feed.click()
        left(feed)
        seen["feed_source"] = driver.page_source
        seen["console"] = [entry["message"] for entry in driver.get_log("browser")]
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return seen


@pytest.mark.parametrize("width", [390, 1280])
async def test_search_result_item_and_feed_in_chromium(site, width):
    """A reader types a search, follows a result to its item page and opens the topic's feed; hostile titles show
    as text, times are localised by the script the CSP allows, and nothing breaks the policy."""
    seen = await asyncio.to_thread(journey, site, width)
    assert any("Action plan against migrant smuggling" in r for r in seen["results"])
    assert any("<script>document.title='owned'</script>" in r for r in seen["results"])
    assert seen["injected"] == 0 and "owned" not in seen["title_after_search"]
    assert {"migrant", "smuggling"} <= {m.lower() for m in seen["marks"]}
    assert seen["time_title"].endswith("UTC") and not seen["time_text"].endswith("UTC")  # localised by time.js
    assert seen["item_h1"] == "Action plan against migrant smuggling networks"
    assert any("oeil.secure.europarl.europa.eu" in h and "2023/0439(COD)" in h for h in seen["procedure_links"])
    assert any(h == "https://eur-lex.europa.eu/procedure/EN/2023_439" for h in seen["procedure_links"])
    assert "tag:watcher.invalid,2025:item/council/ST%209%202024%20INIT" in seen["feed_source"]
    assert not [m for m in seen["console"] if "Content Security Policy" in m or "Refused" in m], seen["console"]
    assert seen["search_shot"].stat().st_size > 10_000
