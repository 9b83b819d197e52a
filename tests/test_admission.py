"""Admission decided from one state and reserved atomically, across processes.

Runs are real ``amgr`` processes against a slow OpenAI-compatible server on 127.0.0.1,
so that they overlap: each holds its quota slot and budget estimate while it works.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openai_server import FakeOpenAI

from automation_manager.config.defaults import default_config, default_schedules
from automation_manager.llm.budget import estimate_cost

ROOT = Path(__file__).resolve().parent.parent


def make_home(
    root: Path, server: FakeOpenAI, tasks: list[dict[str, Any]] | None = None, **config: Any
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    llm = {
        "provider": "openai",
        "base_url": server.url,
        "model": "gpt-4o-mini",
        "max_retries": 0,
    } | config.pop("llm", {})
    cfg = default_config() | {"log_level": "info", "llm": llm} | config
    (root / "config.json").write_text(json.dumps(cfg))
    (root / "schedules.json").write_text(json.dumps(default_schedules()))
    (root / "tasks.json").write_text(json.dumps({"content_creation": tasks or []}))
    return root


def amgr(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    return subprocess.Popen(
        [sys.executable, "-m", "automation_manager", "--home", str(home), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def records(home: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted((home / ".mp" / "automation" / "logs").glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out


def blog(*extra: str) -> list[str]:
    return ["exec-now", "content_creation", "blog", "-p", "topic=deep work", "--json", *extra]


def test_four_concurrent_exec_now_with_a_quota_of_one_run_exactly_one(tmp_path: Path) -> None:
    with FakeOpenAI(delay=1.0) as server:
        home = make_home(tmp_path / "h", server, max_daily_content=1)
        procs = [amgr(home, *blog()) for _ in range(4)]
        results = [finish(p) for p in procs]
    assert all(code == 0 for code, _, _ in results), results
    statuses = Counter(json.loads(out)["status"] for _, out, _ in results)
    assert statuses == {"success": 1, "skipped": 3}, results
    reasons = [r["error"] for r in records(home) if r["status"] == "skipped"]
    assert len(reasons) == 3 and all("max_daily_content reached: 1 of 1" in r for r in reasons)


def test_four_concurrent_exec_now_never_pass_the_budget_together(tmp_path: Path) -> None:
    from automation_manager.config.models import LLMConfig

    one_blog = estimate_cost(LLMConfig(model="gpt-4o-mini"), "blog")
    with FakeOpenAI(delay=1.0) as server:
        home = make_home(tmp_path / "h", server, llm={"daily_budget_usd": 1.5 * one_blog})
        procs = [amgr(home, *blog()) for _ in range(4)]
        results = [finish(p) for p in procs]
    statuses = Counter(json.loads(out)["status"] for _, out, _ in results)
    assert statuses == {"success": 1, "skipped": 3}, results
    skipped = [r for r in records(home) if r["status"] == "skipped"]
    assert all("daily_budget_usd" in r["error"] for r in skipped)


def test_three_tasks_due_at_once_with_a_quota_of_two(tmp_path: Path) -> None:
    tasks = [
        {
            "id": f"blog-{n}",
            "type": "blog",
            "topic": f"topic {n}",
            "schedule": {"interval": "1h", "misfire": "once"},
        }
        for n in range(3)
    ]
    with FakeOpenAI(delay=1.0) as server:
        home = make_home(tmp_path / "h", server, tasks, max_daily_content=2)
        # Each task's last due time is 90 minutes ago: a start now owes one run of each.
        state = home / ".mp" / "state"
        state.mkdir(parents=True)
        ago = (datetime.now().astimezone() - timedelta(minutes=90)).isoformat()
        (state / "schedule.json").write_text(
            json.dumps({"version": 1, "tasks": {t["id"]: {"last_due": ago} for t in tasks}})
        )
        code, _, err = finish(amgr(home, "run", "--once"))
    assert code == 0, err
    by_status = Counter(r["status"] for r in records(home))
    assert by_status == {"success": 2, "skipped": 1}, records(home)
    [skip] = [r for r in records(home) if r["status"] == "skipped"]
    assert skip["trigger"] == "catch-up"
    assert "max_daily_content reached: 2 of 2" in skip["error"]


def test_a_stored_task_never_runs_twice_at_once_across_processes(tmp_path: Path) -> None:
    tasks = [{"id": "the-blog", "type": "blog", "topic": "focus"}]
    with FakeOpenAI(delay=1.5) as server:
        home = make_home(tmp_path / "h", server, tasks)
        first = amgr(home, "exec-now", "content_creation", "blog", "--task", "the-blog", "--json")
        wait_until(lambda: len(server.requests) >= 1)
        second = finish(
            amgr(home, "exec-now", "content_creation", "blog", "--task", "the-blog", "--json")
        )
        done = finish(first)
    assert json.loads(done[1])["status"] == "success"
    skipped = json.loads(second[1])
    assert skipped["status"] == "skipped"
    assert "already running: the-blog" in skipped["error"]


def wait_until(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_exec_now_is_recorded_once_with_what_it_spent(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """An ebook makes several model calls; the run is stopped after the first answered."""
    with FakeOpenAI() as server:
        home = make_home(tmp_path / "h", server, llm={"daily_budget_usd": 5.0})
        server.delay = 0.0
        proc = amgr(
            home, "exec-now", "content_creation", "ebook", "-p", "topic=focus", "-p", "chapters=3"
        )
        # Let the outline answer at once, then hold the chapters.
        wait_until(lambda: len(server.requests) >= 1)
        server.delay = 30.0
        wait_until(lambda: len(server.requests) >= 2)
        proc.send_signal(sig)
        proc.wait(20)
        server.delay = 0.0
        assert proc.returncode == {signal.SIGKILL: -9, signal.SIGTERM: 143, signal.SIGINT: 130}[sig]
        if sig != signal.SIGKILL:
            assert "the run is recorded as interrupted" in (
                proc.stderr.read() if proc.stderr else ""
            )
        # The next command that starts a run records a killed one (a signalled one
        # recorded itself already); either way there is exactly one record of it.
        later = finish(amgr(home, "exec-now", "maintenance", "pending_report", "--json"))
        assert later[0] == 0, later
        again = finish(amgr(home, "exec-now", "maintenance", "pending_report", "--json"))
        assert again[0] == 0, again
    ebooks = [r for r in records(home) if r["type"] == "ebook"]
    assert len(ebooks) == 1, ebooks
    [rec] = ebooks
    assert rec["status"] == "interrupted"
    name = sig.name
    assert ("exec-now stopped" in rec["error"]) if sig == signal.SIGKILL else (name in rec["error"])
    assert rec["usage"]["calls"] >= 1 and rec["usage"]["cost_usd"] > 0
    assert not list((home / ".mp" / "state" / "inflight").glob("*.json"))
    status = json.loads(finish(amgr(home, "status", "--json"))[1])
    assert status["llm"]["spent_today_usd"] == pytest.approx(rec["usage"]["cost_usd"])


def test_the_state_is_rebuilt_from_the_log_when_missing_or_damaged(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        home = make_home(tmp_path / "h", server, max_daily_content=2)
        for _ in range(2):
            code, out, err = finish(amgr(home, *blog()))
            assert code == 0 and json.loads(out)["status"] == "success", err
        db = home / ".mp" / "state" / "amgr.db"
        assert db.exists() and (db.stat().st_mode & 0o777) == 0o600
        for damage in ("delete", "garbage"):
            for path in db.parent.glob("amgr.db*"):
                path.unlink()
            if damage == "garbage":
                db.write_bytes(b"this is not a database" * 100)
            code, out, err = finish(amgr(home, *blog()))
            rec = json.loads(out)
            assert code == 0 and rec["status"] == "skipped", (damage, rec, err)
            assert "max_daily_content reached: 2 of 2" in rec["error"]
        status = json.loads(finish(amgr(home, "status", "--json"))[1])
    assert status["quota"]["content"] == {"used": 2, "limit": 2}


def test_a_running_daemon_records_an_exec_now_killed_beside_it(tmp_path: Path) -> None:
    """The daemon's next run records the dead run once, with its spend, and the quota
    slot it held is free again."""
    tick = {"id": "tick", "type": "pending_report", "schedule": {"interval": "1s"}}
    with FakeOpenAI() as server:
        home = make_home(tmp_path / "h", server, llm={"daily_budget_usd": 5.0})
        tasks = json.loads((home / "tasks.json").read_text())
        tasks["maintenance"] = [tick]
        (home / "tasks.json").write_text(json.dumps(tasks))
        daemon = amgr(home, "run")
        try:
            proc = amgr(
                home,
                "exec-now",
                "content_creation",
                "ebook",
                "-p",
                "topic=focus",
                "-p",
                "chapters=3",
            )
            wait_until(lambda: len(server.requests) >= 1)
            server.delay = 30.0
            wait_until(lambda: len(server.requests) >= 2)
            proc.kill()
            proc.wait(10)
            server.delay = 0.0

            def recorded() -> bool:
                return any(r["type"] == "ebook" for r in records(home))

            wait_until(recorded, 20)
        finally:
            daemon.terminate()
            daemon.wait(20)
    [rec] = [r for r in records(home) if r["type"] == "ebook"]
    assert rec["status"] == "interrupted" and "amgr exec-now stopped" in rec["error"]
    assert rec["usage"]["cost_usd"] > 0
    status = json.loads(finish(amgr(home, "status", "--json"))[1])
    assert status["quota"]["in_progress"] == {"content": 0, "ebooks": 0}
    assert status["llm"]["spent_today_usd"] == pytest.approx(rec["usage"]["cost_usd"])
