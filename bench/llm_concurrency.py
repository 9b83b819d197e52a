"""Bench: blog runs through the daemon against a local model server that answers after 1 s.

For each ``max_concurrent_tasks`` (default 1, 3 and 10) it makes a fresh home with 30
blog tasks pointed at a fake OpenAI-compatible server on 127.0.0.1 (``tests/openai_server``)
whose every chat completion takes ``--delay`` seconds, lets the daemon run them all, and
prints the wall time next to the ideal::

    ideal = ceil(runs / concurrency) × calls per run × delay

Target (issue 5): wall time within 15 % of the ideal. The blog runs make their text only
(``AMGR_VISUALS=none``) unless ``--visuals``: drawing each post's featured image is CPU
work that no concurrency hides on 2 cores, and ``bench/visuals.py`` measures it.
Run it from the repository root::

    .venv/bin/python bench/llm_concurrency.py                 # warm daemon, 1 3 10
    .venv/bin/python bench/llm_concurrency.py --cold --concurrency 10
    .venv/bin/python bench/llm_concurrency.py --runs 30 --delay 1 --json

"Warm" (default) measures a daemon that is already up: ``llm.prewarm`` has imported
``openai`` (~0.5 s, once per process) before the timed pass. ``--cold`` leaves that
one-off cost inside the first runs; only the first concurrency measured in a process is
really cold. "1st call" is the seconds from the start of the timed pass to the first
request reaching the server.

How it drives the engine (only its public API):

* ``AutomationManager(home, clock=...).run_scheduler(run_once=True)`` runs every task due
  at ``clock()`` (catch-up included, ``"misfire": "once"``), at most
  ``max_concurrent_tasks`` at a time, and returns when they are done.
* A task first seen by the daemon is not due for a time before it was added (no
  stampede), so a first, untimed pass at the real time registers the tasks and a second
  pass with the clock 1 h 1 min ahead finds each ``{"interval": "1h"}`` task due once. If
  the engine ran new interval tasks at once, the first pass is the one measured.
* Each attempt is one line in ``.mp/automation/logs/*.jsonl`` with ``status``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from openai_server import FakeOpenAI  # noqa: E402

from automation_manager import AutomationManager  # noqa: E402
from automation_manager.config.defaults import default_config, default_schedules  # noqa: E402
from automation_manager.llm import prewarm  # noqa: E402

SHIFT = timedelta(hours=1, minutes=1)


def make_home(root: Path, server_url: str, runs: int, concurrency: int) -> Path:
    """A home with ``runs`` hourly blog tasks and the model at ``server_url``."""
    config = default_config()
    config.update(
        timezone="UTC",
        max_concurrent_tasks=concurrency,
        max_daily_content=runs * 10,
        max_retries=0,
    )
    config["llm"] = {
        "provider": "openai",
        "base_url": server_url,
        "model": "llama3.1",
        "timeout_s": 60,
        "max_retries": 0,
    }
    schedule = {"interval": "1h", "misfire": "once", "grace": "1d"}
    blogs = [
        {
            "id": f"bench-blog-{i:02d}",
            "type": "blog",
            "topic": f"focus technique number {i}",
            "schedule": schedule,
            "timeout_s": 120,
        }
        for i in range(1, runs + 1)
    ]
    tasks = {"content_creation": blogs, "publishing": [], "monetization": [], "maintenance": []}
    for name, data in (
        ("config.json", config),
        ("tasks.json", tasks),
        ("schedules.json", default_schedules()),
    ):
        (root / name).write_text(json.dumps(data, indent=2), encoding="utf-8")
    return root


def records(home: Path) -> list[dict[str, Any]]:
    """Every run record in the home's logs (torn lines skipped)."""
    out: list[dict[str, Any]] = []
    for path in sorted((home / ".mp" / "automation" / "logs").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return [r for r in out if str(r.get("task_id", "")).startswith("bench-blog-")]


def timed_pass(home: Path, clock: Callable[[], datetime] | None) -> tuple[float, float]:
    """Run the daemon once; returns (wall seconds, ``time.time()`` at its start)."""
    started_at = time.time()
    start = time.perf_counter()
    AutomationManager(home, clock=clock).run_scheduler(run_once=True)
    return time.perf_counter() - start, started_at


def bench(runs: int, concurrency: int, delay: float, *, cold: bool = False) -> dict[str, Any]:
    """One measurement at one concurrency.

    Warm (the default) measures a daemon that has been running: ``openai`` is imported
    and its pool built before the timed pass (``llm.prewarm``, what a daemon does at
    start). Cold includes that one-off ~0.5 s in the first runs.
    """
    with FakeOpenAI(delay=delay) as server, tempfile.TemporaryDirectory() as tmp:
        home = make_home(Path(tmp), server.url, runs, concurrency)
        if not cold:
            prewarm(AutomationManager(home).workspace.config.llm)
        wall, started_at = timed_pass(home, None)
        calls_before = 0
        if len(records(home)) < runs:
            calls_before = len(server.chat_requests())
            before = len(records(home))
            wall, started_at = timed_pass(home, lambda: datetime.now(UTC) + SHIFT)
            made = records(home)[before:]
        else:
            made = records(home)
        requests = server.chat_requests()[calls_before:]
        calls = len(requests)
        first_call = min((r.at for r in requests), default=started_at) - started_at
    ok = sum(1 for r in made if r.get("status") == "success")
    per_run = calls / ok if ok else 0.0
    ideal = math.ceil(runs / concurrency) * per_run * delay
    return {
        "concurrency": concurrency,
        "runs": len(made),
        "succeeded": ok,
        "calls": calls,
        "calls_per_run": round(per_run, 2),
        "wall_s": round(wall, 2),
        "ideal_s": round(ideal, 2),
        "ratio": round(wall / ideal, 3) if ideal else None,
        "first_call_after_s": round(first_call, 3),
        "statuses": sorted({str(r.get("status")) for r in made}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per model call")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--cold", action="store_true", help="include importing openai in the timed runs"
    )
    parser.add_argument(
        "--visuals", action="store_true", help="the runs draw their images too (AMGR_VISUALS=all)"
    )
    args = parser.parse_args(argv)
    os.environ["AMGR_VISUALS"] = "all" if args.visuals else "none"
    # Never send a real key to the fake server.
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AMGR_HOME"):
        os.environ.pop(name, None)

    results = [bench(args.runs, c, args.delay, cold=args.cold) for c in args.concurrency]
    if args.json:
        doc = {
            "delay_s": args.delay,
            "warm": not args.cold,
            "visuals": args.visuals,
            "results": results,
        }
        print(json.dumps(doc, indent=2))
    else:
        state = "cold process" if args.cold else "warm daemon"
        drawn = "text and images" if args.visuals else "text only"
        print(
            f"{args.runs} blog runs ({drawn}), each model call answered after "
            f"{args.delay:g} s ({state})"
        )
        print(
            f"{'conc':>4} {'ok':>4} {'calls':>5} {'c/run':>5} {'wall s':>8} "
            f"{'ideal s':>8} {'ratio':>6} {'1st call':>8}  verdict"
        )
        for r in results:
            ratio = r["ratio"]
            verdict = "ok" if ratio is not None and ratio <= 1.15 else "MISSES 15 % target"
            print(
                f"{r['concurrency']:>4} {r['succeeded']:>4} {r['calls']:>5} "
                f"{r['calls_per_run']:>5} {r['wall_s']:>8.2f} {r['ideal_s']:>8.2f} "
                f"{ratio if ratio is not None else '-':>6} "
                f"{r['first_call_after_s']:>8.2f}  {verdict}"
            )
    failed = any(r["succeeded"] < args.runs for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
