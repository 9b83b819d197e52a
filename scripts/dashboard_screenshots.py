"""Make the README's dashboard screenshots (docs/img/) from a seeded demo home.

Seeds 30 days of run records (bench/history_scale.py's generator), a few posts in the
publish ledger and a blog item in review with a cover image, serves the dashboard on a
free loopback port and photographs the overview and the item's preview in headless
Chromium. Needs Debian's chromium and chromium-driver. Run from the repository root::

    .venv/bin/python scripts/dashboard_screenshots.py
"""

from __future__ import annotations

import json
import random
import socket
import struct
import sys
import tempfile
import zlib
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

OUT = ROOT / "docs" / "img"


def png(width: int, height: int) -> bytes:
    """A small gradient PNG (no image library)."""
    rows = b"".join(
        b"\x00"
        + bytes(
            v
            for x in range(width)
            for v in (40 + 160 * x // width, 90 + 100 * y // height, 200 - 120 * x // width)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def seed(home: Path) -> str:
    from fake_platforms import BLOG_MD, add_item
    from history_scale import TZ, write_home

    from automation_manager.home import Home
    from automation_manager.publishers.ledger import Ledger

    now = datetime.now(TZ)
    write_home(home, 2400, 30, now)
    config = json.loads((home / "config.json").read_text())
    config["platforms"]["site"] = {"kind": "filesystem", "path": "site/posts"}
    config["llm"] = {"provider": "offline", "daily_budget_usd": 1.0}
    (home / "config.json").write_text(json.dumps(config, indent=2))
    ledger = Ledger(Home(home))
    rnd = random.Random(3)
    for n in range(60):
        at = now - timedelta(days=rnd.random() * 29)
        platform = rnd.choice(sorted(config["platforms"]))
        ledger.record("done", f"demo-{n}", platform, at, url=f"https://example.org/p/{n}")
    return add_item(
        home,
        title="Deep work for remote teams",
        status="review",
        files={
            "markdown": ("post.md", BLOG_MD + "\nShare the calendar; guard the mornings.\n"),
            "image": ("cover.png", png(640, 240)),
        },
        targets=["site"],
    )


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from test_dashboard_browser import chrome_options

    from automation_manager.dashboard.server import Background, Listen, make_server
    from automation_manager.home import Home

    with tempfile.TemporaryDirectory(prefix="amgr-shots-") as name:
        home = Path(name) / "demo"
        item = seed(home)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server, url = make_server(Home(home), Listen("127.0.0.1", port))
        web = Background(server)
        web.start()
        options = chrome_options(Path(name) / "chrome", "1280,1750")
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            OUT.mkdir(parents=True, exist_ok=True)
            driver.get(url)
            driver.save_screenshot(str(OUT / "dashboard-overview.png"))
            driver.get(url.split("/login")[0] + f"/content/{item}")
            driver.save_screenshot(str(OUT / "dashboard-item-preview.png"))
        finally:
            driver.quit()
            web.stop()
    print(f"wrote {OUT / 'dashboard-overview.png'} and {OUT / 'dashboard-item-preview.png'}")


if __name__ == "__main__":
    main()
