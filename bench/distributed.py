"""Bench: runs on Celery workers over Redis (issue 18). Prints figures; not a timed test.

Against Debian's ``redis-server`` on 127.0.0.1 and real ``amgr worker`` processes, with
the fake OpenAI server (``tests/openai_server``) answering every model call after 1 s:

1. ``--runs`` (200) runs of ``content_creation/blog`` (one model call each) with 1, 2 and
   4 workers of ``--concurrency`` 4: wall time against the ideal (runs × 1 s / slots),
   and the dispatch overhead per run (send → start on a worker) p50/p99;
   each size starts with one untimed warm-up run per slot (a worker's pool processes
   pay their first model call's imports once, as on a worker that has been up a while);
2. the same runs on 2 workers while one worker is killed with -9 every ``--kill-every``
   (10) s and started again: runs lost (no record), runs doubled (a second record for a
   firing, or a second model call for one), runs recorded ``interrupted``.

The blog runs make their text only (``AMGR_VISUALS=none`` for the workers, unless
``--visuals``): the figure is the distributed path's overhead on runs that wait for a
model; drawing a featured image is CPU work (bench/visuals.py) that 16 slots on 2 cores
could not run in parallel anyway.

The scheduler side is amgr's own (:class:`~automation_manager.distributed.remote.
RemoteRuns`: admission, send, wait, lost-worker detection) on one thread per run in
flight, as the daemon's pool drives it; every record goes through a ``Recorder``. Run
from the repository root::

    .venv/bin/python bench/distributed.py
    .venv/bin/python bench/distributed.py --runs 100 --sizes 1,2 --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from openai_server import FakeOpenAI  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("redis-server is not installed: apt-get install -y redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port).ping():
                return proc, port
        except redis.RedisError:
            time.sleep(0.05)
    sys.exit("redis-server did not start")


def make_home(folder: Path, url: str, llm_url: str, runs: int) -> Path:
    from automation_manager.config.defaults import default_config

    home = folder / "home"
    home.mkdir()
    config = default_config()
    config.update(
        max_daily_content=100_000,
        llm={"provider": "openai", "base_url": llm_url, "max_retries": 0},
        executor={
            "kind": "celery",
            "broker_url": url,
            "heartbeat_s": 1.0,
            "max_in_flight": 64,
            "visibility_timeout_s": 10,
        },
    )
    (home / "config.json").write_text(json.dumps(config))
    tasks = [{"id": f"b{i:04d}", "type": "blog", "topic": f"topic-{i:04d}"} for i in range(runs)]
    (home / "tasks.json").write_text(json.dumps({"content_creation": tasks}))
    (home / "schedules.json").write_text("{}")
    return home


VISUALS = False
"""Whether the workers' blog runs draw images (``--visuals``)."""


class Workers:
    def __init__(self, home: Path, folder: Path, concurrency: int, pool: str) -> None:
        self.home, self.folder, self.concurrency, self.pool = home, folder, concurrency, pool
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {**os.environ, "OPENAI_API_KEY": "sk-bench-0123456789abcdef"}
        if not VISUALS:
            self.env["AMGR_VISUALS"] = "none"

    def start(self, name: str) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [
                *(sys.executable, "-m", "automation_manager", "--home", str(self.home)),
                *("worker", "--name", name, "--concurrency", str(self.concurrency)),
                *("--pool", self.pool, "--loglevel", "WARNING"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )

    def wait_ready(self, client: Any, names: list[str]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(client.exists(f"amgr:worker:{n}") for n in names):
                time.sleep(1.0)  # the consumer is up shortly after the beat
                return
            time.sleep(0.1)
        sys.exit(f"workers {names} did not start; see {self.folder}")

    def kill9(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()


def run_batch(
    home: Path, runs: int, in_flight: int, *, first: int = 0
) -> tuple[float, list[Any], list[float]]:
    """Send ``runs`` runs (``in_flight`` at once) and record each. Returns the wall
    time, the records and the dispatch overheads."""
    from automation_manager.config import load_workspace
    from automation_manager.distributed.remote import RemoteRuns
    from automation_manager.engine.clock import system_clock
    from automation_manager.engine.pool import Ticket
    from automation_manager.engine.runner import command_recorder
    from automation_manager.enums import Trigger
    from automation_manager.home import Home
    from automation_manager.logs.records import new_record_id

    ws = load_workspace(Home(home))
    clock = system_clock("UTC")
    recorder = command_recorder(ws, clock)
    remote = RemoteRuns(lambda: ws, recorder, clock)
    out: list[Any] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        spec = ws.tasks[first + i]
        attempt = remote.perform(
            Ticket(spec, Trigger.SCHEDULED, clock()), new_record_id(), threading.Event()
        )
        recorder.write(attempt.record)
        with lock:
            out.append(attempt.record)

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(one, range(runs)))
    wall = time.monotonic() - t0
    remote.close()
    return wall, out, list(remote.dispatch_s)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--sizes", default="1,2,4", help="worker counts (comma-separated)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--pool", default="prefork", choices=("prefork", "threads"))
    parser.add_argument("--delay", type=float, default=1.0, help="model answer delay (s)")
    parser.add_argument("--kill-every", type=float, default=10.0)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--visuals", action="store_true", help="the blog runs draw their images too"
    )
    args = parser.parse_args()
    global VISUALS
    VISUALS = args.visuals
    import redis

    figures: dict[str, Any] = {"runs": args.runs, "concurrency": args.concurrency, "sizes": []}
    with (
        tempfile.TemporaryDirectory(prefix="amgr-bench-dist-") as tmp,
        FakeOpenAI(delay=args.delay) as llm,
    ):
        folder = Path(tmp)
        server, port = start_redis(folder)
        client = redis.Redis(port=port)
        try:
            for size in [int(s) for s in args.sizes.split(",")]:
                client.flushall()
                sub = folder / f"size{size}"
                sub.mkdir()
                slots = size * args.concurrency
                home = make_home(sub, f"redis://127.0.0.1:{port}/0", llm.url, args.runs + slots)
                workers = Workers(home, sub, args.concurrency, args.pool)
                names = [f"w{i}" for i in range(size)]
                for name in names:
                    workers.start(name)
                try:
                    workers.wait_ready(client, names)
                    # warm: one run per slot first (each pool process pays its first model
                    # call's imports once), as a worker that has been up for a while
                    run_batch(home, slots, in_flight=slots, first=args.runs)
                    wall, recs, overhead = run_batch(home, args.runs, in_flight=slots)
                finally:
                    workers.stop_all()
                ideal = args.runs * args.delay / slots
                row = {
                    "workers": size,
                    "slots": slots,
                    "wall_s": round(wall, 2),
                    "ideal_s": round(ideal, 2),
                    "over_ideal_pct": round(100 * (wall / ideal - 1), 1),
                    "success": sum(r.status == "success" for r in recs),
                    "dispatch_p50_ms": round(1000 * pct(overhead, 0.5), 1),
                    "dispatch_p99_ms": round(1000 * pct(overhead, 0.99), 1),
                    "run_p50_ms": pct([float(r.duration_ms) for r in recs], 0.5),
                }
                figures["sizes"].append(row)
                if not args.json:
                    print(
                        f"{size} worker(s) x {args.concurrency}: {args.runs} runs in "
                        f"{wall:.1f}s (ideal {ideal:.1f}s, {row['over_ideal_pct']:+.1f}%), "
                        f"{row['success']} success; dispatch p50 {row['dispatch_p50_ms']} ms, "
                        f"p99 {row['dispatch_p99_ms']} ms; run p50 {row['run_p50_ms']:.0f} ms",
                        flush=True,
                    )
            if not args.no_kill:
                figures["kill"] = kill_run(args, folder, port, client, llm)
                k = figures["kill"]
                if not args.json:
                    print(
                        f"kill -9 every {args.kill_every:g}s on 2 workers: {k['runs']} runs in "
                        f"{k['wall_s']}s, {k['kills']} kills: {k['lost']} lost, "
                        f"{k['doubled']} doubled, {k['interrupted']} interrupted, "
                        f"{k['success']} success",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait(10)
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


def kill_run(
    args: argparse.Namespace, folder: Path, port: int, client: Any, llm: FakeOpenAI
) -> dict[str, Any]:
    client.flushall()
    sub = folder / "kill"
    sub.mkdir()
    home = make_home(sub, f"redis://127.0.0.1:{port}/0", llm.url, args.runs)
    workers = Workers(home, sub, args.concurrency, args.pool)
    for name in ("k0", "k1"):
        workers.start(name)
    stop = threading.Event()
    kills = 0

    def killer() -> None:
        nonlocal kills
        generation = 0
        while not stop.wait(args.kill_every):
            victim = next(iter(sorted(workers.procs)))
            workers.kill9(victim)
            kills += 1
            generation += 1
            workers.start(f"k{generation + 1}")

    thread = threading.Thread(target=killer, daemon=True)
    try:
        workers.wait_ready(client, ["k0", "k1"])
        seen = len(llm.chat_requests())
        thread.start()
        wall, recs, _ = run_batch(home, args.runs, in_flight=16)
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
        workers.stop_all()
    logged: list[dict[str, Any]] = []
    for day in (home / ".mp" / "automation" / "logs").glob("*.jsonl"):
        logged += [json.loads(line) for line in day.read_text().splitlines() if line]
    per_task = Counter(r["task_id"] for r in logged)
    calls = Counter(
        m.group(0)
        for r in llm.chat_requests()[seen:]
        if (m := re.search(r"topic-\d{4}", json.dumps(r.body)))
    )
    return {
        "runs": args.runs,
        "wall_s": round(wall, 1),
        "kills": kills,
        "lost": args.runs - len(per_task),
        "doubled": sum(1 for n in per_task.values() if n > 1)
        + sum(1 for n in calls.values() if n > 1),
        "interrupted": sum(r["status"] == "interrupted" for r in logged),
        "success": sum(r["status"] == "success" for r in logged),
        "records": len(recs),
    }


if __name__ == "__main__":
    raise SystemExit(main())
