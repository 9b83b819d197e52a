"""Bench: how exact, how light and how fast to start the daemon is (issue 4, item 14).

Each scenario runs the real daemon (``python -m automation_manager --home H run``) in a
fresh temporary home, lets it fire, stops it with SIGTERM, and reads the run log:
lateness = record ``timestamp`` (the run's start) − (``scheduled_for`` + the task's
deterministic jitter). The task is ``maintenance pending_report`` (cheap, offline).

1. three tasks every second for ``--seconds`` (30): lateness p50/p99/max;
2. 1,000 tasks every 10 s with 10 s jitter (~100 firings/s) for ``--seconds``: lateness,
   and the daemon's RSS right after start;
3. one hourly task: the idle daemon's CPU per minute (on-CPU ns of all its threads from
   ``/proc/PID/task/*/schedstat`` over ``--idle-seconds`` (65: the idle daemon wakes at
   most once a minute, so a shorter window can show 0), scaled to a minute;
4. 10,000 tasks: time to load and validate the home, and to register every task;
5. with ``--burst``: 1,000 tasks due at the same instant (no jitter), for information:
   how long until the last one starts (no target; runs queue for the workers).

Targets: p99 ≤ 10 ms (3 tasks), ≤ 50 ms (1,000); RSS ≤ 60 MiB; idle < 2 ms CPU/min;
10,000 registered in < 2 s. Run from the repository root::

    .venv/bin/python bench/daemon.py
    .venv/bin/python bench/daemon.py --seconds 10 --idle-seconds 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_home(root: Path, tasks: list[dict[str, Any]], **config: Any) -> Path:
    """A home with the default config (plus ``config``) and only ``tasks``."""
    from automation_manager.config.defaults import default_config, default_schedules

    root.mkdir(parents=True, exist_ok=True)
    cfg = default_config() | {"log_level": "warning", "max_daily_content": 1_000_000} | config
    (root / "config.json").write_text(json.dumps(cfg))
    (root / "schedules.json").write_text(json.dumps(default_schedules()))
    (root / "tasks.json").write_text(json.dumps({"maintenance": tasks}))
    return root


def start_daemon(home: Path, stderr: Any = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "automation_manager", "--home", str(home), "run"],
        cwd=ROOT,
        stderr=stderr,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )


def _ready(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text()).get("ready_at"))
    except (OSError, ValueError):
        return False


def wait_started(home: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Until the daemon says in daemon.json that it registered its tasks (``ready_at``)."""
    deadline = time.monotonic() + timeout
    path = home / ".mp" / "state" / "daemon.json"
    while not _ready(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"daemon did not start: {err}")
        time.sleep(0.02)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"daemon exited {proc.returncode}:\n{err}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_ns(pid: int) -> int:
    """Nanoseconds on CPU, summed over every thread of ``pid``."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def lateness_ms(home: Path) -> list[float]:
    """Start minus intended start, per scheduled run, from the run log."""
    from automation_manager.config import load_workspace
    from automation_manager.home import Home
    from automation_manager.scheduling import jitter_offset

    ws = load_workspace(Home(home))
    schedules = {s.id: s.schedule for s in ws.tasks}
    out: list[float] = []
    for path in sorted((home / ".mp" / "automation" / "logs").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            if rec.get("trigger") != "scheduled" or rec.get("status") == "skipped":
                continue
            due = datetime.fromisoformat(rec["scheduled_for"])
            sched = schedules[rec["task_id"]]
            intended = due + jitter_offset(sched, rec["task_id"], due) if sched else due
            started = datetime.fromisoformat(rec["timestamp"])
            out.append((started - intended).total_seconds() * 1000)
    return out


def summary(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    if not values:
        return {"n": 0}
    p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(values[-1], 2),
        "min_ms": round(values[0], 2),
    }


def firing_scenario(
    tmp: Path, name: str, tasks: list[dict[str, Any]], seconds: float, **config: Any
) -> dict[str, Any]:
    home = make_home(tmp / name, tasks, **config)
    proc = start_daemon(home)
    wait_started(home, proc)
    time.sleep(0.5)
    rss_start = rss_mib(proc.pid)
    time.sleep(seconds)
    rss_end = rss_mib(proc.pid)
    stop(proc)
    late = lateness_ms(home)
    return {
        "tasks": len(tasks),
        "seconds": seconds,
        "lateness": summary(late),
        "never_early": all(v >= 0 for v in late),
        "rss_start_mib": round(rss_start, 1),
        "rss_end_mib": round(rss_end, 1),
    }


def idle_scenario(tmp: Path, seconds: float) -> dict[str, Any]:
    home = make_home(
        tmp / "idle", [{"id": "hourly", "type": "pending_report", "schedule": "hourly"}]
    )
    proc = start_daemon(home)
    wait_started(home, proc)
    time.sleep(2)  # let start-up work settle
    before = cpu_ns(proc.pid)
    time.sleep(seconds)
    used = cpu_ns(proc.pid) - before
    stop(proc)
    return {
        "seconds": seconds,
        "cpu_ms": round(used / 1e6, 3),
        "cpu_ms_per_minute": round(used / 1e6 * 60 / seconds, 3),
    }


def register_scenario(tmp: Path, count: int) -> dict[str, Any]:
    from automation_manager.config import load_workspace
    from automation_manager.engine.daemon import Daemon
    from automation_manager.home import Home

    forms: list[Any] = [
        "hourly",
        "daily",
        {"interval": "15m"},
        {"every": "week", "days": ["mon", "thu"], "at": "07:15"},
        {"cron": "*/5 9-17 * * 1-5"},
        {"every": "month", "day": 31},
    ]
    tasks = [
        {"id": f"t{i}", "type": "pending_report", "schedule": forms[i % len(forms)]}
        for i in range(count)
    ]
    home = Home(make_home(tmp / "register", tasks))
    t0 = time.perf_counter()
    load_workspace(home)
    t1 = time.perf_counter()
    daemon = Daemon(home)
    daemon.setup()  # what a start does: load and validate the home, register every task
    t2 = time.perf_counter()
    assert len(daemon.scheduler.task_jobs()) == count
    return {
        "tasks": count,
        "load_s": round(t1 - t0, 3),
        "register_s": round(t2 - t1 - (t1 - t0), 3),
        "total_s": round(t2 - t1, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--idle-seconds", type=float, default=65)
    parser.add_argument("--burst", action="store_true", help="also run scenario 5")
    parser.add_argument("--many", type=int, default=1000)
    parser.add_argument("--register", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="amgr-bench-") as tmp_name:
        tmp = Path(tmp_name)
        three = [
            {"id": f"every-second-{i}", "type": "pending_report", "schedule": {"interval": "1s"}}
            for i in range(3)
        ]
        results["three_tasks"] = firing_scenario(tmp, "three", three, args.seconds)
        many = [
            {
                "id": f"task-{i:04d}",
                "type": "pending_report",
                "schedule": {"interval": "10s", "jitter": "10s"},
            }
            for i in range(args.many)
        ]
        results["many_tasks"] = firing_scenario(
            tmp, "many", many, args.seconds, max_concurrent_tasks=8
        )
        results["idle"] = idle_scenario(tmp, args.idle_seconds)
        if args.burst:
            burst = [
                {"id": f"burst-{i:04d}", "type": "pending_report", "schedule": {"interval": "10s"}}
                for i in range(args.many)
            ]
            results["burst"] = firing_scenario(tmp, "burst", burst, 12, max_concurrent_tasks=16)
        results["register"] = register_scenario(tmp, args.register)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    three_r, many_r = results["three_tasks"], results["many_tasks"]
    for label, r, target in (
        ("3 tasks every 1 s", three_r, 10),
        (f"{args.many} tasks every 10 s (+10 s jitter)", many_r, 50),
    ):
        lat = r["lateness"]
        print(
            f"{label}, {r['seconds']:g} s: {lat['n']} firings, lateness p50 {lat['p50_ms']} ms, "
            f"p99 {lat['p99_ms']} ms (target ≤ {target}), max {lat['max_ms']} ms, "
            f"never early: {r['never_early']}"
        )
    print(
        f"RSS with {args.many} tasks: {many_r['rss_start_mib']} MiB after start, "
        f"{many_r['rss_end_mib']} MiB after {args.seconds:g} s of firing (target ≤ 60)"
    )
    idle = results["idle"]
    print(
        f"idle CPU, one hourly task: {idle['cpu_ms_per_minute']} ms per minute "
        f"(measured {idle['cpu_ms']} ms over {idle['seconds']:g} s; target < 2)"
    )
    if "burst" in results:
        lat = results["burst"]["lateness"]
        print(
            f"burst, {args.many} tasks due at one instant (16 workers): {lat['n']} firings, "
            f"lateness p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms"
        )
    reg = results["register"]
    print(
        f"{reg['tasks']} tasks: load+validate {reg['load_s']} s, the rest of the start "
        f"{reg['register_s']} s, a start in all {reg['total_s']} s (target < 2)"
    )


if __name__ == "__main__":
    main()
