"""Bench: how long the everyday commands take to start and finish, as a user runs them.

Median wall time of ``--runs`` runs (default 10) each of ``amgr --help``, ``amgr validate``
and ``amgr history`` in a fresh home made by ``amgr init`` (history with a few hundred
records), and whether any of them imported ``openai`` (they must not: it costs ~0.8 s).
Target (issue 3): ``amgr --help`` under 150 ms. Run from the repository root::

    .venv/bin/python bench/startup.py
    .venv/bin/python bench/startup.py --runs 20 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS_MS = {"--help": 150.0}
PROBE = (
    "import runpy, sys\n"
    "sys.argv = ['amgr', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('automation_manager', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "sys.stderr.write('\\nopenai imported: %s\\n' % ('openai' in sys.modules))\n"
)


def plant_records(home: Path, count: int) -> None:
    """A few hundred records of the last days through the real writer."""
    from datetime import UTC, datetime, timedelta

    from automation_manager.enums import RunStatus
    from automation_manager.home import Home
    from automation_manager.logs.records import RunRecord, new_record_id
    from automation_manager.logs.writer import append_record

    now = datetime.now(UTC)
    for i in range(count):
        ts = now - timedelta(minutes=17 * i)
        ok = i % 10 != 0
        append_record(
            Home(home),
            RunRecord(
                id=new_record_id(ts),
                timestamp=ts,
                task_id="daily-blog",
                category="content_creation",
                type="blog",
                status=RunStatus.SUCCESS if ok else RunStatus.FAILED,
                success=ok,
                params={"topic": "deep work"},
                result={"summary": "ok"} if ok else None,
                error=None if ok else f"timeout after {30 + i % 7} s",
                duration_ms=100 + i,
            ),
        )


def time_command(amgr: str, args: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [amgr, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        out.append((time.perf_counter() - t) * 1000)
    return out


def imports_openai(args: list[str]) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return done.stderr.rstrip().endswith("openai imported: True")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    amgr = str(Path(sys.executable).with_name("amgr"))
    env_home = os.environ.pop("AMGR_HOME", None)
    results = []
    with tempfile.TemporaryDirectory(prefix="amgr-startup-") as tmp:
        home = Path(tmp) / "home"
        subprocess.run([amgr, "init", str(home)], check=True, stdout=subprocess.DEVNULL)
        plant_records(home, 300)
        for label, cmd in (
            ("--help", ["--help"]),
            ("validate", ["--home", str(home), "validate"]),
            ("history", ["--home", str(home), "history"]),
        ):
            time_command(amgr, cmd, 1)  # warm the page cache and .pyc files
            times = time_command(amgr, cmd, args.runs)
            median = statistics.median(times)
            target = TARGETS_MS.get(label)
            verdict = "" if target is None else ("ok" if median < target else "OVER TARGET")
            openai = imports_openai(cmd)
            print(
                f"amgr {label:<10} median {median:7.1f} ms  (min {min(times):6.1f}, "
                f"max {max(times):6.1f}; {args.runs} runs)  openai imported: {openai}"
                f"  {verdict}"
            )
            results.append(
                {
                    "command": f"amgr {label}",
                    "median_ms": round(median, 1),
                    "min_ms": round(min(times), 1),
                    "max_ms": round(max(times), 1),
                    "imports_openai": openai,
                    "target_ms": target,
                }
            )
    if env_home is not None:
        os.environ["AMGR_HOME"] = env_home
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
