"""The dashboard in a real browser: headless Chromium driven by Selenium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``scripts/test.sh`` installs them
when it runs as root); skipped, saying so, without them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import add_item, write_home
from openai_server import FakeOpenAI, content

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="needs Debian's chromium and chromium-driver (scripts/test.sh installs them as root)",
)
OUTLINE = {
    "title": "Deep Work for Busy People",
    "subtitle": "Focus in a noisy week",
    "description": "A short, practical guide to protecting focus.",
    "chapters": [
        {"title": f"Habit {n}", "summary": "What it is and why it helps.", "key_points": ["a"]}
        for n in range(1, 7)
    ],
}


CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Flags that work here: no sandbox (root), nothing reaching the network."""


def chrome_options(profile: Path, size: str) -> Any:
    """Headless Chromium options with a fresh profile folder and a window ``W,H``."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROME_FLAGS, f"--window-size={size}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return options


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def non_blank(png: bytes) -> bool:
    """Whether a PNG screenshot shows more than one flat colour (decoded with zlib)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return len(set(raw[:: max(1, len(raw) // 5000)])) > 8


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, FakeOpenAI]]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-browser-test-0123456789")
    monkeypatch.delenv("AMGR_HOME", raising=False)
    with FakeOpenAI(delay=1.5) as server:
        server.push(content(json.dumps(OUTLINE)))
        root = write_home(
            tmp_path / "home",
            {"site": {"kind": "filesystem", "path": "site/posts"}},
            tasks={
                "content_creation": [
                    {"id": "book", "type": "ebook", "topic": "deep work", "chapters": 6}
                ],
                "publishing": [{"id": "pub", "type": "pending"}],
            },
            llm={"provider": "openai", "base_url": server.url, "model": "gpt-4o-mini"},
        )
        yield root, server


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = chrome_options(tmp_path / "chrome", "1280,1000")
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def dashboard(site: tuple[Path, FakeOpenAI]) -> Iterator[str]:
    from automation_manager.dashboard.server import Background, Listen, make_server
    from automation_manager.home import Home

    root, _ = site
    server, url = make_server(Home.resolve(root), Listen("127.0.0.1", free_port()))
    web = Background(server)
    web.start()
    try:
        yield url
    finally:
        web.stop()


def wait_for(driver: Any, check: Any, timeout: float = 30) -> Any:
    """Until ``check(driver)`` is true; an element the page's live refresh replaced while
    it was being read (stale) is looked up again at the next poll."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        driver,
        timeout,
        poll_frequency=0.1,
        ignored_exceptions=(StaleElementReferenceException, NoSuchElementException),
    )
    try:
        return wait.until(lambda d: check(d))
    except TimeoutException:
        pytest.fail(f"timed out on {driver.current_url}:\n{driver.page_source[:4000]}")


def click(driver: Any, label: str) -> None:
    from selenium.webdriver.common.by import By

    def press(d: Any) -> bool:  # found and clicked in one go (a refresh may replace it)
        d.find_element(By.CSS_SELECTOR, f'button[data-action="{label}"]').click()
        return True

    wait_for(driver, press)


def text_of(driver: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    try:
        return str(driver.find_element(By.ID, element_id).text)
    except Exception:
        return ""


def test_browser_runs_pauses_resumes_and_publishes(
    site: tuple[Path, FakeOpenAI], dashboard: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    root, _ = site
    base = dashboard.split("/login")[0]
    browser.get(dashboard)  # the token URL signs in and lands on the overview
    wait_for(browser, lambda d: "Overview" in d.find_element(By.TAG_NAME, "h1").text)
    assert "daemon not running" in text_of(browser, "daemon-state")
    overview_png = browser.get_screenshot_as_png()
    assert non_blank(overview_png)

    # Run now the ebook task: a multi-stage run; its page streams progress and activity
    browser.get(base + "/tasks")
    browser.find_element(By.CSS_SELECTOR, 'form[action="/tasks/book/run"] button').click()

    def run_link(d: Any) -> Any:
        links = d.find_elements(By.CSS_SELECTOR, "#runs a")
        if not links:
            d.get(base + "/runs")
        return links

    wait_for(browser, run_link)[0].click()
    wait_for(browser, lambda d: "chapters" in text_of(d, "run-where"))
    bar = browser.find_element(By.ID, "run-progress")
    first = int(bar.get_attribute("value"))
    wait_for(
        browser, lambda d: int(d.find_element(By.ID, "run-progress").get_attribute("value")) > first
    )
    assert "chapters" in text_of(browser, "activity")

    click(browser, "pause")
    wait_for(browser, lambda d: text_of(d, "run-status") == "paused", timeout=60)
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, 'button[data-action="resume"]'))
    run_png = browser.get_screenshot_as_png()
    assert non_blank(run_png)
    click(browser, "resume")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, 'button[data-action="pause"]'))

    # the resumed run goes on with the task's next run: Run now again, it completes. Until
    # the paused run's thread has written its record, Run now is refused (and says so)
    def run_now(d: Any) -> bool:
        d.get(base + "/tasks")
        d.find_element(By.CSS_SELECTOR, 'form[action="/tasks/book/run"] button').click()
        return "already running from this dashboard" not in d.page_source

    wait_for(browser, run_now, timeout=60)
    browser.get(base + "/runs")
    browser.find_element(By.CSS_SELECTOR, "#runs a").click()
    wait_for(browser, lambda d: text_of(d, "run-status") == "completed", timeout=90)

    # approve an item and see it published on the filesystem platform
    item = add_item(root, status="review")
    browser.get(f"{base}/content/{item}")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "article.article h2"))
    preview_png = browser.get_screenshot_as_png()
    assert non_blank(preview_png)
    click(browser, "approve")
    wait_for(browser, lambda d: "pending" in d.find_element(By.TAG_NAME, "main").text)
    browser.get(base + "/tasks")
    browser.find_element(By.CSS_SELECTOR, 'form[action="/tasks/pub/run"] button').click()

    def published(d: Any) -> bool:
        d.get(f"{base}/content/{item}")
        return "site: published" in d.find_element(By.ID, "where").text

    wait_for(browser, published, timeout=60)
    assert list((root / "site" / "posts").glob("*.md"))
    record = json.loads((root / ".mp" / "content" / item / "item.json").read_text())
    assert record["status"] == "published"
    shots = Path(os.environ.get("AMGR_SCREENSHOTS") or tmp_path)  # docs/img for the README
    shots.mkdir(parents=True, exist_ok=True)
    (shots / "dashboard-overview.png").write_bytes(overview_png)
    (shots / "dashboard-item-preview.png").write_bytes(preview_png)
    (shots / "dashboard-run.png").write_bytes(run_png)
