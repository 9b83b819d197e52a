"""Bench: ``amgr history`` over 1,000,000 run records spread over 365 days.

Writes synthetic records (the writer's exact line format: realistic params and results,
about 10 % failed with a few error patterns, 3 % skipped, LLM usage on a third) straight
into the daily files of a temp home, then times, as subprocesses:

* ``amgr history --days 365 --json > /dev/null``
* ``amgr history --days 365 | cat`` (the table, piped)

first with every day a live ``.jsonl`` file, then after ``archive_old_logs`` has gzipped
all but the last 30 days (the layout the daemon leaves with the default
``log_retention_days``). Each command runs ``--repeat`` times in each of three states
(see :func:`run_suite`): *no index* (the first query after an upgrade or a bulk import),
*cold* (the indexes the daemon keeps, the page cache emptied: as after a reboot) and
*warm* (the steady state). Between the first two the daemon's keeper is timed building
the year's indexes. Prints wall time (median, with the fastest and slowest run), peak
RSS and the load average.
The package's modules are byte-compiled first (as an installed package is), so the
figures do not include compiling them (``PYTHONDONTWRITEBYTECODE`` would otherwise make
every run compile them again).
Targets (issue 19, on 2 cores, the live layout): ``--json`` cold <= 1.5 s, warm <= 0.5 s;
the table warm <= 0.3 s, with no index <= 3 s (the bench's own); all under 300 MiB.
Run from the repository root::

    .venv/bin/python bench/history_scale.py
    .venv/bin/python bench/history_scale.py --records 200000 --repeat 1 --keep /tmp/h
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TZ = ZoneInfo("Europe/Berlin")
KINDS = [
    ("content_creation", "blog", 0.5),
    ("content_creation", "shorts", 0.5),
    ("content_creation", "social", 0.5),
    ("content_creation", "ebook", 0.5),
    ("publishing", "pending", 0.0),
    ("publishing", "blog", 0.0),
    ("monetization", "affiliate_content", 0.5),
    ("monetization", "sales_report", 0.0),
    ("maintenance", "archive_logs", 0.0),
    ("maintenance", "health_check", 0.0),
]
TOPICS = [
    "morning routines",
    "deep work",
    "home office setup",
    "budget travel",
    "meal prep for busy people",
    "learning Python",
    "minimalist wardrobe",
]
ERRORS = [
    lambda r: (
        f"HTTP 429 from https://api.openai.com/v1/chat/completions: rate limited, "
        f"retry after {r.randint(1, 60)}s"
    ),
    lambda r: f"timeout after {r.randint(30, 300)} s",
    lambda r: (
        f"platform site: cannot write /srv/site/content/post-{r.randint(1, 99999)}.md: "
        "Permission denied"
    ),
    lambda r: "platform masto: 401 Unauthorized — check MASTODON_TOKEN",
    lambda r: f'internal error: KeyError: "chapter_{r.randint(1, 12)}"',
]


def record_line(rnd: random.Random, ts: datetime, seq: int) -> tuple[str, int]:
    """One record as ``RunRecord.to_line()`` writes it (same keys, order and format), and
    its duration in ms."""
    category, type_, llm_share = KINDS[seq % len(KINDS)]
    topic = TOPICS[seq % len(TOPICS)]
    roll = rnd.random()
    status = "failed" if roll < 0.10 else "skipped" if roll < 0.13 else "success"
    usage = None
    if status != "skipped" and rnd.random() < llm_share * 1.3:
        pt, ct = rnd.randint(200, 4000), rnd.randint(300, 6000)
        usage = {
            "prompt_tokens": pt,
            "completion_tokens": ct,
            "cost_usd": round(pt * 1.5e-7 + ct * 6e-7, 8),
            "calls": rnd.randint(1, 6),
        }
    result = error = None
    if status == "failed":
        error = rnd.choice(ERRORS)(rnd)
    elif status == "skipped":
        error = (
            "max_daily_content reached: 5 of 5 content items made today; raise "
            "max_daily_content in config.json or wait until tomorrow"
        )
    else:
        title = f"Getting Started with {topic.title()} Without the Overwhelm"
        slug = title.lower().replace(" ", "-")[:40]
        cid = f"{type_}-{ts:%Y%m%d-%H%M%S}-{slug}-{seq % 0xFFFF:04x}"
        folder = f"/srv/amgr/.mp/content/{cid}"
        result = {
            "items": 1,
            "content_id": cid,
            "title": title,
            "status": "pending",
            "files": [f"{folder}/post.md", f"{folder}/post.json"],
            "summary": f'{type_} "{title}": {rnd.randint(3, 9)} sections, about '
            f"{rnd.randint(300, 2500)} words",
            "provider": "openai" if usage else "offline",
        }
    scheduled = ts.replace(second=0, microsecond=0)
    duration_ms = 0 if status == "skipped" else int(rnd.lognormvariate(8.5, 1.2))
    rec = {
        "id": f"r{int(ts.timestamp() * 1000):012x}{seq % 0xFFFF:04x}{rnd.getrandbits(16):04x}",
        "timestamp": ts.isoformat(),
        "task_id": f"{category}-{type_}-{seq % 3}",
        "category": category,
        "type": type_,
        "trigger": "scheduled",
        "attempt": 1,
        "scheduled_for": scheduled.isoformat(),
        "status": status,
        "success": status == "success",
        "params": {
            "type": type_,
            "id": f"{category}-{type_}-{seq % 3}",
            "topic": topic,
            "platform": "site",
            "enabled": True,
            "priority": 0,
        },
        "result": result,
        "error": error,
        "duration_ms": duration_ms,
        "usage": usage,
        "provider": "openai" if usage else "offline",
        "run_id": None,
        "process_type": {"content_creation": "content"}.get(category, category),
        "resources_used": {"cpu_s": round(duration_ms / 4000, 3), "peak_rss_mb": 96.5},
    }
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":")), duration_ms


def check_format(line: str) -> None:
    """The synthetic line must be byte-identical to what the real writer makes."""
    from automation_manager.logs.records import RunRecord

    real = RunRecord.from_line(line).to_line()
    if real != line:
        raise SystemExit(f"synthetic record differs from RunRecord.to_line():\n{line}\n{real}")


def write_home(home: Path, records: int, days: int, now: datetime, seed: int = 7) -> int:
    """``amgr init`` a home and fill its log with ``records`` runs over the ``days`` days
    before ``now``, one file per local day of the start; returns bytes written. As the
    real writer appends a record when its attempt ends, lines are in order of end time, so
    a run that outlasts the start of the next one comes after it."""
    subprocess.run(
        [sys.executable, "-m", "automation_manager", "init", str(home)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    config = json.loads((home / "config.json").read_text())
    config["timezone"] = "Europe/Berlin"
    (home / "config.json").write_text(json.dumps(config, indent=2))
    logs = home / ".mp" / "automation" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    start = now - timedelta(days=days)
    step = days * 86_400 / records
    size = 0
    day: date | None = None
    lines: list[tuple[datetime, str]] = []

    def flush() -> None:
        nonlocal size
        if day is not None and lines:
            lines.sort(key=lambda end_line: end_line[0])
            text = "\n".join(line for _, line in lines) + "\n"
            (logs / f"{day.isoformat()}.jsonl").write_text(text, encoding="utf-8")
            size += len(text)

    for seq in range(records):
        ts = (start + timedelta(seconds=(seq + 0.5 + rnd.random() * 0.4) * step)).astimezone(TZ)
        if ts.date() != day:
            flush()
            day, lines = ts.date(), []
        line, duration_ms = record_line(rnd, ts, seq)
        lines.append((ts + timedelta(milliseconds=duration_ms), line))
        if seq == 0:
            check_format(line)
    flush()
    return size


def measure(cmd: list[str], stdout: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``cmd``, measured in a fresh helper process."""
    helper = (
        "import resource, subprocess, sys, time, json\n"
        "cmd, where = json.loads(sys.argv[1]), sys.argv[2]\n"
        "t = time.perf_counter()\n"
        "if where == 'devnull':\n"
        "    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode\n"
        "else:\n"
        "    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)\n"
        "    while p.stdout.read(1 << 16): pass\n"
        "    rc = p.wait()\n"
        "wall = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps([rc, wall, rss]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", helper, json.dumps(cmd), stdout],
        check=True,
        capture_output=True,
        text=True,
    )
    rc, wall, rss = json.loads(out.stdout)
    if rc != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {rc}")
    return wall, rss


#: (table, state) -> target wall seconds (issue 19), or None for none
TARGETS: dict[tuple[bool, str], float | None] = {
    (False, "no index"): None,
    (False, "cold"): 1.5,
    (False, "warm"): 0.5,
    (True, "no index"): 3.0,
    (True, "cold"): None,
    (True, "warm"): 0.3,
}
STATES = ("no index", "cold", "warm")


def drop_caches() -> bool:
    """Empty the kernel's page cache (as after a reboot), when allowed (root)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
    except OSError:
        return False
    return True


def keep_indexes(home: Path) -> float:
    """What the daemon does at start-up and after midnight (``logs/kept.py``): the niced
    keeper builds every closed day's index (none kept before). Returns its wall seconds."""
    index_dir = home / ".mp" / "automation" / "logs" / ".index"
    for p in index_dir.glob("*.idx"):
        if ".gz." not in p.name:  # archives keep the index written when they were made
            p.unlink()
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "automation_manager.logs.kept", str(home), str(date.today())],
        check=True,
        cwd=ROOT,
    )
    return time.perf_counter() - t


def run_suite(home: Path, amgr: str, repeat: int, label: str) -> list[dict[str, object]]:
    """Each command ``repeat`` times in three states:

    * **no index**: no kept index for the live files (deleted before each run): the
      first query after an upgrade or a bulk import, before the daemon's keeper is done;
    * **cold**: the indexes the daemon keeps, and the kernel's page cache emptied before
      each run (as after a reboot; needs root, else this state is left out);
    * **warm**: the same, with the files in the page cache (the steady state).
    """
    results = []
    index_dir = home / ".mp" / "automation" / "logs" / ".index"
    for name, args, where in (
        ("history --days 365 --json > /dev/null", ["--days", "365", "--json"], "devnull"),
        ("history --days 365 | cat (table)", ["--days", "365"], "pipe"),
    ):
        cmd = [amgr, "--home", str(home), "history", *args]
        for state in STATES:
            if state == "cold" and not drop_caches():
                print(f"  [{label}, cold] left out: emptying the page cache needs root")
                continue
            runs = []
            for _ in range(repeat):
                if state == "no index":
                    kept = [p for p in index_dir.glob("*.idx") if ".gz." not in p.name]
                    for p in kept:  # archives keep the index written when they were made
                        p.unlink()
                elif state == "cold":
                    drop_caches()
                runs.append(measure(cmd, where))
            if state == "no index":
                took = keep_indexes(home)
                print(f"  [{label}] the daemon's keeper indexed the closed days in {took:.1f} s")
            wall = statistics.median(w for w, _ in runs)
            rss = max(r for _, r in runs)
            target = TARGETS[(name.endswith("(table)"), state)]
            if target is None:
                ok = "(no target)" if rss < 300 else "OVER 300 MiB"
            else:
                ok = f"ok (<= {target} s)" if wall <= target and rss < 300 else f"OVER {target} s"
            spread = f"({min(w for w, _ in runs):.2f}–{max(w for w, _ in runs):.2f})"
            print(
                f"  [{label}, {state}] amgr {name:<40} {wall:6.2f} s {spread:>13}"
                f"  {rss:6.1f} MiB  {ok}  (load {os.getloadavg()[0]:.2f})"
            )
            results.append(
                {
                    "layout": label,
                    "state": state,
                    "command": f"amgr {name}",
                    "wall_s": round(wall, 3),
                    "peak_rss_mib": round(rss, 1),
                    "runs": [round(w, 3) for w, _ in runs],
                }
            )
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=5, help="runs per command (median wall)")
    ap.add_argument("--keep", metavar="DIR", help="write the home here and keep it")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    amgr = str(Path(sys.executable).with_name("amgr"))
    import compileall

    compileall.compile_dir(ROOT / "automation_manager", quiet=1)
    with tempfile.TemporaryDirectory(prefix="amgr-history-") as tmp:
        home = Path(args.keep) if args.keep else Path(tmp) / "home"
        t = time.perf_counter()
        size = write_home(home, args.records, args.days, datetime.now(TZ))
        print(
            f"wrote {args.records:,} records over {args.days} days "
            f"({size / 2**20:,.0f} MiB) in {time.perf_counter() - t:.1f} s into {home}"
        )
        results = run_suite(home, amgr, args.repeat, "live .jsonl")
        from automation_manager.home import Home
        from automation_manager.logs.archive import archive_old_logs

        t = time.perf_counter()
        archived = archive_old_logs(Home(home), 30, datetime.now(TZ))
        gz = sum(p.stat().st_size for p in archived)
        print(
            f"archived {len(archived)} days ({gz / 2**20:,.0f} MiB gzip) "
            f"in {time.perf_counter() - t:.1f} s"
        )
        results += run_suite(home, amgr, args.repeat, "archived >30 d")
        if args.json:
            print(json.dumps(results, indent=2))
        if args.keep:
            os.sync()


if __name__ == "__main__":
    main()
