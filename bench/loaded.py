"""Bench: the scheduler's lateness while a video render, a pipeline run and the dashboard
are busy in the same daemon at once (issue 19, item 4). Prints figures; not a timed test.

One ``amgr run --dashboard`` process, offline (no key), ``AMGR_VISUALS=all``:

- three ``pending_report`` tasks every second: their lateness is the measure (a record's
  start minus its due time, as in bench/daemon.py);
- ``render``: a 30 s short (``shorts``), which renders a real H.264 video (Pillow frames
  piped to ffmpeg) — fires every 15 s, so a render is under way most of the window;
- ``site-plan``: a pipeline over 18 keywords (stages 1–7, images on) — fires every 15 s;
- a client reads the overview, the runs page and the tasks page twice a second.

The lateness is printed for the firings that fell while a render or a pipeline run was in
progress (from their records' start and duration), and for the rest, next to the same
daemon idle (no render, pipeline or dashboard). Run from the repository root::

    .venv/bin/python bench/loaded.py
    .venv/bin/python bench/loaded.py --seconds 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from daemon import stop, summary, wait_started  # noqa: E402
from dashboard import free_port, poll_pages  # noqa: E402

PARTS = {"render", "pipeline", "dashboard"}

TICKERS = [
    {"id": f"every-second-{i}", "type": "pending_report", "schedule": {"interval": "1s"}}
    for i in range(3)
]


def make_home(root: Path, busy: bool) -> Path:
    from click.testing import CliRunner
    from pipeline_home import KEYWORDS

    from automation_manager.cli import cli

    home = root / ("busy" if busy else "idle")
    result = CliRunner().invoke(cli, ["init", str(home)])
    assert result.exit_code == 0, result.output
    config = json.loads((home / "config.json").read_text())
    config.update(log_level="warning", max_concurrent_tasks=6, max_daily_content=1_000_000)
    config["llm"] = config["llm"] | {"provider": "offline"}
    (home / "config.json").write_text(json.dumps(config))
    tasks: dict[str, list[dict[str, Any]]] = {"maintenance": list(TICKERS)}
    if busy and "render" in PARTS:
        tasks["content_creation"] = [
            {"id": "render", "type": "shorts", "topic": "focus", "length": 30,
             "schedule": {"interval": "15s"}},
        ]  # fmt: skip
    if busy and "pipeline" in PARTS:
        tasks.setdefault("content_creation", []).append(
            {"id": "site-plan", "type": "pipeline", "ideas_per_cluster": 1,
             "images_per_article": 1, "image_size": "640x360",
             "schedule": {"interval": "15s"}},
        )  # fmt: skip
    (home / "tasks.json").write_text(json.dumps(tasks))
    if busy and "pipeline" in PARTS:
        words = home / "kw.txt"
        words.write_text("\n".join(KEYWORDS) + "\n")
        done = CliRunner().invoke(cli, ["--home", str(home), "keywords", "import", "site-plan",
                                        str(words)])  # fmt: skip
        assert done.exit_code == 0, done.output
    return home


def records(home: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted((home / ".mp" / "automation" / "logs").glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out


def run(tmp: Path, seconds: float, busy: bool) -> dict[str, Any]:
    home = make_home(tmp, busy)
    port = free_port()
    cmd = [sys.executable, "-m", "automation_manager", "--home", str(home), "run"]
    if busy and "dashboard" in PARTS:
        cmd += ["--dashboard", "--listen", f"127.0.0.1:{port}"]
    env = os.environ | {"PYTHONPATH": str(ROOT), "AMGR_VISUALS": "all" if busy else "none"}
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, env=env)
    wait_started(home, proc)
    served = [0]
    done = threading.Event()
    if busy and "dashboard" in PARTS:
        poll_pages(home, port, ("/", "/runs", "/tasks"), done, served)
    time.sleep(seconds)
    done.set()
    stop(proc)
    recs = records(home)
    heavy = [
        (datetime.fromisoformat(r["timestamp"]), r)
        for r in recs
        if r["task_id"] in ("render", "site-plan") and r["status"] != "skipped"
    ]
    spans = [(t, t + timedelta(milliseconds=r.get("duration_ms") or 0)) for t, r in heavy]
    during: list[float] = []
    other: list[float] = []
    for r in recs:
        if not r["task_id"].startswith("every-second") or r["trigger"] != "scheduled":
            continue
        if r["status"] == "skipped":
            continue
        due = datetime.fromisoformat(r["scheduled_for"])
        late = (datetime.fromisoformat(r["timestamp"]) - due).total_seconds() * 1000
        (during if any(a <= due <= b for a, b in spans) else other).append(late)
    return {
        "busy": busy,
        "pages_served": served[0],
        "heavy_runs": {
            r["task_id"] + " " + r["status"]: round((r.get("duration_ms") or 0) / 1000, 1)
            for _, r in heavy
        },
        "during": summary(during) if during else None,
        "other": summary(other) if other else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--only", default="render,pipeline,dashboard", help="what keeps the daemon busy"
    )
    args = parser.parse_args()
    PARTS.intersection_update(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="amgr-bench-loaded-") as name:
        results = [run(Path(name), args.seconds, busy) for busy in (False, True)]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    idle, busy = results
    print(f"3 tasks every 1 s, one daemon, {args.seconds:g} s each way")
    print(f"  idle daemon:            {fmt(idle['other'])}")
    print(
        f"  busy daemon, firings while a render or pipeline ran: {fmt(busy['during'])}"
        f"\n  busy daemon, other firings: {fmt(busy['other'])}"
    )
    print(f"  dashboard pages served meanwhile: {busy['pages_served']}")
    runs = ", ".join(f"{k} {v} s" for k, v in busy["heavy_runs"].items())
    print(f"  heavy runs (duration): {runs or 'none'}")


def fmt(s: dict[str, float] | None) -> str:
    if not s:
        return "no firings"
    return (
        f"{s['n']} firings, lateness p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, "
        f"max {s['max_ms']} ms"
    )


if __name__ == "__main__":
    main()
