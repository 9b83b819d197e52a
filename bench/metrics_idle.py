"""Bench: the idle daemon's CPU with ``--metrics`` on and no scrapes (issue 15).

Runs the real daemon (``python -m automation_manager --home H run``) in a fresh home
with one hourly task, twice: without metrics and with ``--metrics 127.0.0.1:PORT``.
After a settling pause it reads the on-CPU nanoseconds of all the daemon's threads from
``/proc/PID/task/*/schedstat`` over ``--seconds`` and scales them to a minute. Then one
scrape shows the endpoint answers. Target: the metrics server adds < 1 ms CPU/min
(its thread sleeps in one ``select()`` with no timeout). Run from the repository root::

    .venv/bin/python bench/metrics_idle.py
    .venv/bin/python bench/metrics_idle.py --seconds 20 --json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from daemon import cpu_ns as on_cpu_ns  # noqa: E402  (all threads' on-CPU ns)
from dashboard import free_port  # noqa: E402


def make_home(root: Path) -> Path:
    home = root / "home"
    subprocess.run(
        [sys.executable, "-m", "automation_manager", "init", str(home)],
        check=True,
        capture_output=True,
    )
    tasks = {"maintenance": [{"id": "idle", "type": "pending_report", "schedule": "hourly"}]}
    (home / "tasks.json").write_text(json.dumps(tasks))
    return home


def idle_ms_per_min(home: Path, seconds: float, metrics: str | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "automation_manager", "--home", str(home), "run"]
    if metrics:
        cmd += ["--metrics", metrics]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd=ROOT)
    try:
        time.sleep(3.0)  # start-up done
        before = on_cpu_ns(proc.pid)
        time.sleep(seconds)
        used = on_cpu_ns(proc.pid) - before
        scrape_ok = None
        if metrics:
            with urllib.request.urlopen(f"http://{metrics}/metrics", timeout=5) as r:
                scrape_ok = b"amgr_up 1.0" in r.read()
        return {"ms_per_min": round(used / 1e6 * 60 / seconds, 3), "scrape_ok": scrape_ok}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.pop("AMGR_HOME", None)
    with tempfile.TemporaryDirectory() as tmp:
        home = make_home(Path(tmp))
        plain = idle_ms_per_min(home, args.seconds, None)
        listen = f"127.0.0.1:{free_port()}"
        with_metrics = idle_ms_per_min(home, args.seconds, listen)
    extra = round(with_metrics["ms_per_min"] - plain["ms_per_min"], 3)
    result = {
        "seconds": args.seconds,
        "idle_ms_per_min_without_metrics": plain["ms_per_min"],
        "idle_ms_per_min_with_metrics": with_metrics["ms_per_min"],
        "metrics_extra_ms_per_min": extra,
        "scrape_ok": with_metrics["scrape_ok"],
        "target_extra_lt_1ms": extra < 1.0,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
