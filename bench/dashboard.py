"""Bench: the dashboard's cost (issue 17).

1. Scheduler lateness with and without ``amgr run --dashboard``: three tasks every second
   for ``--seconds`` (20) each way (bench/daemon.py's scenario and lateness measure); with
   the dashboard a client reads the overview and the tasks page twice a second the whole
   time, so the pages really are served beside the scheduler thread.
2. The History page over ``--records`` (1,000,000) records over 365 days (bench/
   history_scale.py's generator): the first query (column indexes built), then the next
   ``--repeat`` queries (median, max), for the default page (7 days), a 365-day page
   with a status filter, 365-day pages filtered by category, task and text, and page 50
   of 30 days. Target: < 300 ms after the first query, for every filter.

Run from the repository root::

    .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --seconds 10 --records 200000
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from daemon import lateness_ms, make_home, stop, summary, wait_started  # noqa: E402
from history_scale import TZ  # noqa: E402
from history_scale import write_home as write_history  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def poll_pages(
    home: Path, port: int, paths: tuple[str, ...], done: threading.Event, served: list[int]
) -> None:
    """Read ``paths`` from the dashboard on ``port`` twice a second (on a thread) until
    ``done``; ``served[0]`` counts the pages."""
    token = (home / ".mp" / "dashboard" / "token").read_text().strip()

    def poll() -> None:
        while not done.is_set():
            for path in paths:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}{path}",
                    headers={"Authorization": f"Bearer {token}"},
                )
                with urllib.request.urlopen(req, timeout=30) as resp:
                    resp.read()
                served[0] += 1
            done.wait(0.5)

    threading.Thread(target=poll, daemon=True).start()


def lateness(tmp: Path, seconds: float, dashboard: bool) -> dict[str, Any]:
    tasks = [
        {"id": f"every-second-{i}", "type": "pending_report", "schedule": {"interval": "1s"}}
        for i in range(3)
    ]
    home = make_home(tmp / ("with" if dashboard else "without"), tasks)
    port = free_port()
    cmd = [sys.executable, "-m", "automation_manager", "--home", str(home), "run"]
    if dashboard:
        cmd += ["--dashboard", "--listen", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    wait_started(home, proc)
    served = [0]
    done = threading.Event()
    if dashboard:
        poll_pages(home, port, ("/", "/tasks", "/api/status"), done, served)
    time.sleep(seconds)
    done.set()
    stop(proc)
    return {"dashboard": dashboard, "pages_served": served[0], **summary(lateness_ms(home))}


def history_timing(
    tmp: Path, records: int, repeat: int, reuse: Path | None = None
) -> list[dict[str, Any]]:
    from starlette.testclient import TestClient

    from automation_manager.dashboard.app import create_app
    from automation_manager.home import Home

    home = reuse or tmp / "history"
    now = datetime.now(TZ)
    if reuse is None or not (home / ".mp" / "automation" / "logs").is_dir():
        write_history(home, records, 365, now)
    app = create_app(Home(home), "t" * 64, hosts=None)
    client = TestClient(app, base_url="http://127.0.0.1:8765")
    auth = {"Authorization": "Bearer " + "t" * 64}
    out = []
    for label, query in (
        ("default page (7 days)", ""),
        ("365 days, failed only", "?days=365&status=failed"),
        ("365 days, one category", "?days=365&category=publishing"),
        ("365 days, one task", "?days=365&task=content_creation-blog-1"),
        ("365 days, text 'timeout'", "?days=365&text=timeout"),
        ("365 days, text 'morning' (1 in 7 records)", "?days=365&text=morning"),
        ("365 days, failed, text '429', page 3", "?days=365&status=failed&text=429&page=3"),
        ("30 days, page 50", "?days=30&page=50"),
    ):
        times = []
        for _ in range(repeat + 1):
            start = time.perf_counter()
            resp = client.get("/history" + query, headers=auth)
            times.append((time.perf_counter() - start) * 1000)
            assert resp.status_code == 200, resp.text[:200]
        out.append(
            {
                "page": label,
                "first_ms": round(times[0], 1),
                "next_median_ms": round(statistics.median(times[1:]), 1),
                "next_max_ms": round(max(times[1:]), 1),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pages-only", action="store_true", help="only the History page")
    parser.add_argument(
        "--history-home",
        type=Path,
        metavar="DIR",
        help="the History page's home: written there once, then reused (saves a minute)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="amgr-bench-dash-") as name:
        tmp = Path(name)
        for dashboard in () if args.pages_only else (False, True):
            r = lateness(tmp, args.seconds, dashboard)
            what = (
                f"with the dashboard ({r['pages_served']} pages served)"
                if dashboard
                else ("without the dashboard")
            )
            print(
                f"3 tasks every 1 s for {args.seconds:g} s, {what}: {r['n']} firings, "
                f"lateness p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms"
            )
        for row in history_timing(tmp, args.records, args.repeat, args.history_home):
            print(
                f"history page over {args.records:,} records, {row['page']}: first "
                f"{row['first_ms']} ms, then median {row['next_median_ms']} ms, "
                f"max {row['next_max_ms']} ms (target < 300; load {os.getloadavg()[0]:.2f})"
            )


if __name__ == "__main__":
    main()
