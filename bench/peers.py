"""Bench: amgr side by side with APScheduler 3.x and ``schedule`` (issue 19), one run.

Each scheduler runs in its own child process, one after the other, alternating the
order every round (``--rounds``). The peers are installed by this script into a
throwaway virtualenv (``--peers-venv DIR`` keeps and reuses one); amgr runs from this
checkout with the current interpreter.

What is measured, the same way for all three:

1. **lateness** for 3 tasks every second for ``--seconds`` (30): a run's start minus
   its due time. amgr: the record's ``timestamp`` minus ``scheduled_for`` (+ jitter,
   none here), the whole path (admission, in-flight note, the run's start). APScheduler:
   the job's start minus its slot on the trigger's grid (``start_date + k s``).
   ``schedule``: the job's start minus the ``next_run`` it was due at; ``schedule``
   plans each next run from the previous run's end, so its runs also drift off the
   grid: that drift (planned time − grid time at the end) is printed beside it.
2. **idle CPU** with one hourly task over ``--idle-seconds`` (65: amgr wakes at most
   once a minute, so a shorter window can show 0), per minute (on-CPU
   time of every thread, ``/proc/PID/task/*/schedstat``).
3. **RSS** of the idle process (one hourly task) and with 1,000 hourly tasks, 2 s after
   it said it was ready.
4. **start-up**: from spawning the process to its first firing of a task due every
   second (each scheduler's own first due time, at most 1 s after it started), and to
   "ready" (tasks registered).
5. **memory after 24 simulated hours** of 3 tasks every second (259,200 firings) with
   an injected clock: each scheduler's own loop driven by a fake clock, firings doing
   nothing (amgr: ``TaskScheduler`` with the daemon's jobs; APScheduler: its
   ``_process_jobs`` with a patched ``datetime`` and the inline debug executor;
   ``schedule``: ``run_pending`` with a patched clock). RSS before and after.

Targets (issue 19): amgr lateness p99 ≤ 1 ms and ≤ 0.6× APScheduler's; idle CPU ≤
APScheduler's; idle RSS ≤ 30 MiB and ≤ 1.25× APScheduler's; RSS with 1,000 tasks ≤ 45
MiB; growth over 24 simulated hours ≤ 1 MiB. Run from the repository root::

    .venv/bin/python bench/peers.py
    .venv/bin/python bench/peers.py --seconds 10 --idle-seconds 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import daemon as amgr_bench  # noqa: E402  (bench/daemon.py: the amgr side)

PEER_SPECS = ["apscheduler>=3.10,<4", "schedule>=1.2"]

# The peers' child process: argv[1] is a JSON object of what to do.
PEER_CHILD = textwrap.dedent(
    """
    import json, os, sys, time, threading
    from datetime import datetime, timedelta, timezone

    ARGS = json.loads(sys.argv[1])
    LIB, N, EVERY = ARGS["lib"], ARGS["tasks"], ARGS["interval"]
    OUT = open(ARGS["out"], "w", buffering=1)
    lines = []
    lock = threading.Lock()

    def ready():
        OUT.write(json.dumps({"ready": time.time()}) + "\\n")

    if LIB == "apscheduler":
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.triggers.interval import IntervalTrigger

        sched = BackgroundScheduler(
            timezone="UTC",
            executors={"default": ThreadPoolExecutor(3)},
            job_defaults={"misfire_grace_time": 30, "coalesce": False, "max_instances": 3},
        )
        start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
        start_s = start.timestamp()

        def job(i):
            now = time.time()
            k = round((now - start_s) / EVERY - 0.5)  # the slot this run belongs to
            due = start_s + max(k, 0) * EVERY
            with lock:
                lines.append((i, due, now))

        for i in range(N):
            sched.add_job(job, IntervalTrigger(seconds=EVERY, start_date=start), args=[i])
        sched.start()
        ready()
        time.sleep(ARGS["seconds"])
        sched.shutdown(wait=True)
    else:
        import schedule

        jobs = []
        first = {}

        def make(i):
            def job():
                now = time.time()
                due = jobs[i].next_run.timestamp()  # naive local: what it was due at
                first.setdefault(i, due)
                lines.append((i, due, now))
            return job

        for i in range(N):
            jobs.append(schedule.every(EVERY).seconds.do(make(i)))
        ready()
        end = time.monotonic() + ARGS["seconds"]
        while time.monotonic() < end:
            schedule.run_pending()
            wait = schedule.idle_seconds()
            time.sleep(min(max(wait or 0, 0), max(0.0, end - time.monotonic())))
    for i, due, now in lines:
        OUT.write(json.dumps({"task": i, "due": due, "start": now}) + "\\n")
    OUT.close()
    """
)

# 24 simulated hours for a peer: argv[1] is the library.
PEER_SIMULATED = textwrap.dedent(
    '''
    import datetime as _dt, json, sys

    def rss():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    LIB, HOURS = sys.argv[1], float(sys.argv[2])
    T0 = _dt.datetime(2026, 3, 2, 0, 0, 0, tzinfo=_dt.timezone.utc)
    now = [T0]
    fired = [0]

    def job():
        fired[0] += 1

    if LIB == "apscheduler":
        import apscheduler.executors.base as executors_base
        import apscheduler.schedulers.base as base
        from apscheduler.triggers.interval import IntervalTrigger

        class FakeDT(_dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return now[0].astimezone(tz) if tz else now[0].replace(tzinfo=None)

        base.datetime = FakeDT
        executors_base.datetime = FakeDT

        class Manual(base.BaseScheduler):
            """Jobs processed only when this script says so (no thread of its own)."""

            def wakeup(self):
                pass

            def shutdown(self, wait=True):
                super().shutdown(wait)

        sched = Manual(timezone="UTC", executors={"default": {"type": "debug"}})
        for i in range(3):
            sched.add_job(job, IntervalTrigger(seconds=1, start_date=T0), id=f"j{i}")
        sched.start()
        step = sched._process_jobs
    else:
        import schedule

        class FakeDT(_dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return now[0].replace(tzinfo=None)

        class Mod:
            datetime = FakeDT
            timedelta = _dt.timedelta
            time = _dt.time
            date = _dt.date

        schedule.datetime = Mod
        for i in range(3):
            schedule.every(1).seconds.do(job)
        step = schedule.run_pending

    def run(seconds):
        for _ in range(int(seconds)):
            now[0] = now[0] + _dt.timedelta(seconds=1)
            step()

    run(3600)  # warm up one hour
    before = rss()
    run(HOURS * 3600 - 3600)
    print(json.dumps({"rss_before_mib": before, "rss_after_mib": rss(), "firings": fired[0]}))
    '''
)

AMGR_SIMULATED = textwrap.dedent(
    """
    import json, sys, tempfile
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    sys.path.insert(0, sys.argv[3] + "/bench")
    import daemon as amgr_bench
    from automation_manager.config import load_workspace
    from automation_manager.engine.jobs import TaskScheduler
    from automation_manager.home import Home

    def rss():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    HOURS = float(sys.argv[2])
    tmp = Path(tempfile.mkdtemp(prefix="amgr-sim-"))
    tasks = [{"id": f"s{i}", "type": "pending_report", "schedule": {"interval": "1s"}}
             for i in range(3)]
    ws = load_workspace(Home(amgr_bench.make_home(tmp / "home", tasks)))
    T0 = datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC)
    now = [T0]
    sched = TaskScheduler(lambda: now[0])
    fired = [0]
    def fire(job):
        fired[0] += 1
    for spec in ws.tasks:
        if spec.schedule is not None:
            sched.add(spec, T0, fire)
    def run(seconds):
        for _ in range(int(seconds)):
            now[0] = now[0] + timedelta(seconds=1)
            sched.run_pending(now[0])
    run(3600)
    before = rss()
    run(HOURS * 3600 - 3600)
    print(json.dumps({"rss_before_mib": before, "rss_after_mib": rss(), "firings": fired[0]}))
    """
)


# -- the peers' virtualenv ------------------------------------------------------------------


def peers_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *PEER_SPECS], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"cannot install the peers: {done.stderr.strip()[-2000:]}")
    return python


def peer_versions(python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({p: m.version(p) for p in ('APScheduler', 'schedule')}))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    versions: dict[str, str] = json.loads(out.stdout)
    return versions


# -- one peer child ----------------------------------------------------------------------------


def _wait_line(path: Path, key: str, proc: subprocess.Popen[bytes], timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for line in path.read_text().splitlines():
                data = json.loads(line)
                if key in data:
                    return float(data[key])
        except (OSError, ValueError):
            pass
        if proc.poll() is not None:
            raise SystemExit(
                f"peer exited early: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        time.sleep(0.01)
    raise SystemExit(f"peer did not report {key!r}")


def run_peer(
    python: Path,
    tmp: Path,
    lib: str,
    *,
    tasks: int,
    interval: float,
    seconds: float,
    probe: Any = None,
) -> tuple[list[dict[str, float]], float, float, Any]:
    """Run a peer child; (its runs, spawn time, ready time, what ``probe(pid)`` returned)."""
    script = tmp / "peer_child.py"
    script.write_text(PEER_CHILD)
    out = tmp / f"{lib}-{time.monotonic_ns()}.jsonl"
    args = {"lib": lib, "tasks": tasks, "interval": interval, "seconds": seconds, "out": str(out)}
    spawned = time.time()
    proc = subprocess.Popen(
        [str(python), str(script), json.dumps(args)], stderr=subprocess.PIPE, env=_clean_env()
    )
    ready = _wait_line(out, "ready", proc, 60)
    probed = probe(proc.pid) if probe else None
    if proc.wait(timeout=seconds + 60) != 0:
        raise SystemExit(
            f"{lib} child failed: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    runs = [json.loads(line) for line in out.read_text().splitlines()]
    return [r for r in runs if "task" in r], spawned, ready, probed


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


# -- scenarios ---------------------------------------------------------------------------------


def lateness(tmp: Path, python: Path, who: str, seconds: float) -> dict[str, Any]:
    if who == "amgr":
        three = [
            {"id": f"every-second-{i}", "type": "pending_report", "schedule": {"interval": "1s"}}
            for i in range(3)
        ]
        r = amgr_bench.firing_scenario(tmp, f"late-{time.monotonic_ns()}", three, seconds)
        return {"lateness": r["lateness"]}
    runs, *_ = run_peer(python, tmp, who, tasks=3, interval=1, seconds=seconds)
    late = [(r["start"] - r["due"]) * 1000 for r in runs]
    result: dict[str, Any] = {"lateness": amgr_bench.summary(late)}
    if who == "schedule" and runs:
        drift = []
        for task in {r["task"] for r in runs}:
            mine = [r for r in runs if r["task"] == task]
            drift.append((mine[-1]["due"] - mine[0]["due"] - (len(mine) - 1)) * 1000)
        result["drift_ms"] = round(max(drift), 1)
    return result


def _amgr_probe(tmp: Path, name: str, tasks: list[dict[str, Any]], probe: Any) -> Any:
    home = amgr_bench.make_home(tmp / f"{name}-{time.monotonic_ns()}", tasks)
    proc = amgr_bench.start_daemon(home, stderr=subprocess.PIPE)
    amgr_bench.wait_started(home, proc)
    try:
        return probe(proc.pid)
    finally:
        amgr_bench.stop(proc)


def idle_cpu(tmp: Path, python: Path, who: str, seconds: float) -> float:
    def probe(pid: int) -> float:
        time.sleep(2)
        before = amgr_bench.cpu_ns(pid)
        time.sleep(seconds)
        return (amgr_bench.cpu_ns(pid) - before) / 1e6 * 60 / seconds

    if who == "amgr":
        # every hour from its start, as the peers' interval=3600 (not "hourly", on the
        # hour: a round near the top of an hour would measure a run, not an idle daemon)
        hourly = [{"id": "hourly", "type": "pending_report", "schedule": {"interval": "1h"}}]
        return float(_amgr_probe(tmp, "idle", hourly, probe))
    *_, used = run_peer(python, tmp, who, tasks=1, interval=3600, seconds=seconds + 3, probe=probe)
    return float(used)


def rss(tmp: Path, python: Path, who: str, tasks: int) -> float:
    def probe(pid: int) -> float:
        time.sleep(2)
        return amgr_bench.rss_mib(pid)

    if who == "amgr":
        many = [
            {"id": f"t{i:04d}", "type": "pending_report", "schedule": {"interval": "1h"}}
            for i in range(tasks)
        ]
        return float(_amgr_probe(tmp, "rss", many, probe))
    *_, value = run_peer(python, tmp, who, tasks=tasks, interval=3600, seconds=3, probe=probe)
    return float(value)


def startup(tmp: Path, python: Path, who: str) -> dict[str, float]:
    if who == "amgr":
        task = [{"id": "first", "type": "pending_report", "schedule": {"interval": "1s"}}]
        home = amgr_bench.make_home(tmp / f"start-{time.monotonic_ns()}", task)
        spawned = time.time()
        proc = amgr_bench.start_daemon(home, stderr=subprocess.PIPE)
        amgr_bench.wait_started(home, proc)
        info = json.loads((home / ".mp" / "state" / "daemon.json").read_text())
        from datetime import datetime

        ready = datetime.fromisoformat(info["ready_at"]).timestamp()
        logs = home / ".mp" / "automation" / "logs"
        deadline = time.monotonic() + 10
        first = None
        while first is None and time.monotonic() < deadline:
            for path in logs.glob("*.jsonl"):
                line = path.read_text().splitlines()[:1]
                if line:
                    first = datetime.fromisoformat(json.loads(line[0])["timestamp"]).timestamp()
            time.sleep(0.01)
        amgr_bench.stop(proc)
        assert first is not None, "amgr never fired"
        return {"ready_s": round(ready - spawned, 3), "first_firing_s": round(first - spawned, 3)}
    runs, spawned, ready, _ = run_peer(python, tmp, who, tasks=1, interval=1, seconds=2.5)
    first = min(r["start"] for r in runs)
    return {"ready_s": round(ready - spawned, 3), "first_firing_s": round(first - spawned, 3)}


def simulated(tmp: Path, python: Path, who: str, hours: float) -> dict[str, float]:
    if who == "amgr":
        script = tmp / "amgr_sim.py"
        script.write_text(AMGR_SIMULATED)
        cmd = [sys.executable, str(script), "amgr", str(hours), str(ROOT)]
        env = dict(os.environ) | {"PYTHONPATH": str(ROOT)}
    else:
        script = tmp / "peer_sim.py"
        script.write_text(PEER_SIMULATED)
        cmd, env = [str(python), str(script), who, str(hours)], _clean_env()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{who} simulation failed: {done.stderr[-2000:]}")
    data: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    data["growth_mib"] = round(data["rss_after_mib"] - data["rss_before_mib"], 2)
    return data


# -- the run ------------------------------------------------------------------------------------

WHO = ("amgr", "apscheduler", "schedule")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--idle-seconds", type=float, default=65)
    parser.add_argument("--hours", type=float, default=24, help="simulated hours (scenario 5)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--peers-venv", type=Path, help="reuse (or make) the peers' venv here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="amgr-peers-") as tmp_name:
        tmp = Path(tmp_name)
        python = peers_python(args.peers_venv or tmp / "peers-venv")
        versions = peer_versions(python)
        rounds: list[dict[str, dict[str, Any]]] = []
        for n in range(args.rounds):
            order = WHO[n % 3 :] + WHO[: n % 3]  # alternate who goes first
            row: dict[str, dict[str, Any]] = {w: {} for w in WHO}
            for who in order:
                row[who].update(lateness(tmp, python, who, args.seconds))
            for who in order:
                row[who]["idle_cpu_ms_per_min"] = round(
                    idle_cpu(tmp, python, who, args.idle_seconds), 3
                )
            for who in order:
                row[who]["rss_idle_mib"] = round(rss(tmp, python, who, 1), 1)
                row[who]["rss_1000_mib"] = round(rss(tmp, python, who, 1000), 1)
            for who in order:
                row[who]["startup"] = startup(tmp, python, who)
            for who in order:
                row[who]["simulated"] = simulated(tmp, python, who, args.hours)
            rounds.append(row)
    result = {"versions": versions, "rounds": rounds, "importtime": importtime_top()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print_table(result, args)


def importtime_top(n: int = 10) -> list[tuple[str, float]]:
    """The ``n`` slowest top-level packages besides amgr (cumulative ms) the daemon imports
    (``python -X importtime``): what a running daemon pays for before its first run."""
    code = "import automation_manager.engine.daemon, automation_manager.cli.daemon"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ) | {"PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    rows: list[tuple[str, float]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # the header line
        name = parts[2].strip()
        if "." not in name and not name.startswith("_"):  # packages, ours and others
            rows.append((name, int(parts[1]) / 1000))
    rows.sort(key=lambda r: -r[1])
    return rows[:n]


def print_table(result: dict[str, Any], args: argparse.Namespace) -> None:
    v = result["versions"]
    print(
        f"amgr vs APScheduler {v['APScheduler']} vs schedule {v['schedule']} — "
        f"{args.rounds} round(s), {args.seconds:g} s of firing, {args.idle_seconds:g} s idle"
    )
    for n, row in enumerate(result["rounds"], 1):
        print(f"\nround {n}")
        header = f"{'':34}" + "".join(f"{w:>16}" for w in WHO)
        print(header)

        def line(label: str, get: Any, row: dict[str, dict[str, Any]] = row) -> None:
            print(f"{label:34}" + "".join(f"{get(row[w]):>16}" for w in WHO))

        line("lateness p50 ms (3 tasks / 1 s)", lambda r: r["lateness"].get("p50_ms", "-"))
        line("lateness p99 ms", lambda r: r["lateness"].get("p99_ms", "-"))
        line("lateness max ms", lambda r: r["lateness"].get("max_ms", "-"))
        line("firings", lambda r: r["lateness"].get("n", 0))
        line("drift off the grid ms (end)", lambda r: r.get("drift_ms", 0))
        line("idle CPU ms/min (1 hourly)", lambda r: r["idle_cpu_ms_per_min"])
        line("RSS idle MiB", lambda r: r["rss_idle_mib"])
        line("RSS 1,000 tasks MiB", lambda r: r["rss_1000_mib"])
        line("start-up to ready s", lambda r: r["startup"]["ready_s"])
        line("start-up to first firing s", lambda r: r["startup"]["first_firing_s"])
        line(f"RSS growth {args.hours:g} simulated h MiB", lambda r: r["simulated"]["growth_mib"])
        a, p = row["amgr"], row["apscheduler"]
        checks = {
            "lateness p99 ≤ 1 ms": a["lateness"]["p99_ms"] <= 1,
            "lateness p99 ≤ 0.6× APScheduler": a["lateness"]["p99_ms"]
            <= 0.6 * p["lateness"]["p99_ms"],
            "idle CPU ≤ APScheduler": a["idle_cpu_ms_per_min"] <= p["idle_cpu_ms_per_min"],
            "idle RSS ≤ 30 MiB": a["rss_idle_mib"] <= 30,
            "idle RSS ≤ 1.25× APScheduler": a["rss_idle_mib"] <= 1.25 * p["rss_idle_mib"],
            "RSS 1,000 tasks ≤ 45 MiB": a["rss_1000_mib"] <= 45,
            "growth over simulated hours ≤ 1 MiB": a["simulated"]["growth_mib"] <= 1,
        }
        print(
            "targets: "
            + "; ".join(f"{k}: {'met' if ok else 'NOT met'}" for k, ok in checks.items())
        )
    print("\nslowest imports of the daemon (cumulative ms, python -X importtime):")
    for name, ms in result["importtime"]:
        print(f"  {ms:8.1f}  {name}")


if __name__ == "__main__":
    main()
