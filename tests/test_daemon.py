"""The daemon as a user runs it: a real process, real signals, kill -9, edits while it runs.

Intervals are one second; the whole file takes well under a minute.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.config.defaults import default_config, default_schedules

ROOT = Path(__file__).resolve().parent.parent


def make_home(root: Path, tasks: list[dict[str, Any]], **config: Any) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    cfg = default_config() | {"log_level": "info"} | config
    cfg["llm"] = cfg["llm"] | {"provider": "offline"}
    (root / "config.json").write_text(json.dumps(cfg))
    (root / "schedules.json").write_text(json.dumps(default_schedules()))
    (root / "tasks.json").write_text(json.dumps({"maintenance": tasks}))
    return root


def every_second(task_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": task_id, "type": "pending_report", "schedule": {"interval": "1s"}} | fields


def slow(task_id: str, seconds: float, **fields: Any) -> dict[str, Any]:
    """A health check that first waits ``seconds`` (its documented ``sleep_s``)."""
    schedule = {"interval": "1s", "misfire": "skip"}
    return {
        "id": task_id,
        "type": "health_check",
        "sleep_s": seconds,
        "schedule": schedule,
    } | fields


def daemon_command(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "automation_manager", "--home", str(home), "run", *args]


def run_daemon(home: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """``amgr --home HOME run ARGS...`` as a process, to the end; its output captured."""
    return subprocess.run(
        daemon_command(home, *args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=check,
    )


class Daemon:
    """``python -m automation_manager --home HOME run`` with stderr captured to a file."""

    def __init__(self, home: Path, *args: str) -> None:
        self.home = home
        self.err_path = home / f"daemon-{time.monotonic_ns()}.err"
        self.proc = subprocess.Popen(
            daemon_command(home, *args),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.err_path.open("wb"),
        )

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def wait_ready(self, timeout: float = 20) -> None:
        path = self.home / ".mp" / "state" / "daemon.json"

        def ready() -> bool:
            try:
                return json.loads(path.read_text()).get("ready_at") is not None
            except (OSError, ValueError):
                return False

        wait_for(
            ready,
            timeout,
            lambda: f"daemon not ready:\n{self.stderr}",
            alive=lambda: self.proc.poll() is None,
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def wait_for(
    check: Callable[[], bool],
    timeout: float,
    why: Callable[[], str] = lambda: "",
    alive: Callable[[], bool] = lambda: True,
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline or not alive():
            raise AssertionError(f"timed out waiting; {why()}")
        time.sleep(0.02)


def records(home: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted((home / ".mp" / "automation" / "logs").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def inflight(home: Path) -> list[Path]:
    folder = home / ".mp" / "state" / "inflight"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def cli_json(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_start_status_second_instance_and_sigterm(tmp_path: Path, daemons: list[Daemon]) -> None:
    home = make_home(tmp_path / "h", [every_second("tick")])
    daemon = Daemon(home)
    daemons.append(daemon)
    daemon.wait_ready()

    status = cli_json("--home", str(home), "status", "--json")
    assert status["daemon"]["running"] is True
    assert status["daemon"]["pid"] == daemon.proc.pid
    assert [t["id"] for t in status["tasks"]] == ["tick"]

    second = run_daemon(home)
    assert second.returncode == 3
    assert f"pid {daemon.proc.pid}" in second.stderr

    wait_for(lambda: len(records(home)) >= 2, 5, lambda: daemon.stderr)
    assert daemon.stop() == 0
    runs = records(home)
    for rec in runs:
        assert rec["trigger"] == "scheduled" and rec["status"] == "success"
        late = datetime.fromisoformat(rec["timestamp"]) - datetime.fromisoformat(
            rec["scheduled_for"]
        )
        assert timedelta(0) <= late < timedelta(milliseconds=200)
    assert "start    tick (scheduled" in daemon.stderr and "success  tick" in daemon.stderr
    assert not (home / ".mp" / "state" / "daemon.json").exists()
    assert cli_json("--home", str(home), "status", "--json")["daemon"]["running"] is False


def test_kill_9_mid_run_then_restart_records_exactly_one_interrupted(
    tmp_path: Path,
    daemons: list[Daemon],
) -> None:
    home = make_home(tmp_path / "h", [slow("long", 30)])
    daemon = Daemon(home)
    daemons.append(daemon)
    daemon.wait_ready()
    wait_for(lambda: bool(inflight(home)), 5, lambda: daemon.stderr)
    noted = json.loads(inflight(home)[0].read_text())
    old_pid = daemon.proc.pid
    assert daemon.stop(signal.SIGKILL) == -signal.SIGKILL
    assert [r for r in records(home) if r["status"] != "skipped"] == []

    # the stale lock of the killed daemon does not block; the run is recorded once
    again = run_daemon(home, "--once")
    assert again.returncode == 0, again.stderr
    interrupted = [r for r in records(home) if r["status"] == "interrupted"]
    assert len(interrupted) == 1
    (rec,) = interrupted
    assert rec["task_id"] == "long" and rec["trigger"] == "scheduled"
    assert rec["error"] == (
        f"interrupted: the daemon stopped (pid {old_pid}) before this run finished"
    )
    assert rec["scheduled_for"] is not None and rec["params"]["sleep_s"] == 30
    # one start instant: the note's (taken by the worker at the firing) is the record's
    assert datetime.fromisoformat(rec["timestamp"]) == datetime.fromisoformat(noted["started_at"])
    assert datetime.fromisoformat(rec["timestamp"]) >= datetime.fromisoformat(rec["scheduled_for"])
    assert inflight(home) == []
    assert "long interrupted" in again.stderr

    run_daemon(home, "--once", check=True)
    assert len([r for r in records(home) if r["status"] == "interrupted"]) == 1


def test_sigterm_lets_short_runs_finish_and_interrupts_the_rest(
    tmp_path: Path,
    daemons: list[Daemon],
) -> None:
    home = make_home(tmp_path / "h", [slow("long", 30), slow("short", 1.0)], shutdown_grace_s=2)
    daemon = Daemon(home)
    daemons.append(daemon)
    daemon.wait_ready()
    wait_for(lambda: len(inflight(home)) == 2, 5, lambda: daemon.stderr)
    t0 = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - t0 < 6
    by_task = {r["task_id"]: r for r in records(home) if r["status"] != "skipped"}
    assert set(by_task) == {"short", "long"}, (records(home), daemon.stderr)
    assert by_task["short"]["status"] == "success"
    assert by_task["long"]["status"] == "interrupted"
    assert "shutdown_grace_s 2" in by_task["long"]["error"]
    assert inflight(home) == []
    assert "stopped" in daemon.stderr


def test_edits_apply_within_2s_and_a_broken_edit_keeps_the_last_good_config(
    tmp_path: Path,
    daemons: list[Daemon],
) -> None:
    home = make_home(tmp_path / "h", [every_second("a")])
    tasks_path = home / "tasks.json"
    daemon = Daemon(home)
    daemons.append(daemon)
    daemon.wait_ready()

    tasks_path.write_text('{"maintenance": [{"id": "a", "type": ')  # broken by hand
    wait_for(lambda: "reload failed" in daemon.stderr, 2, lambda: daemon.stderr)
    assert "tasks.json" in daemon.stderr.split("reload failed", 1)[1]
    count = len(records(home))
    wait_for(lambda: len(records(home)) >= count + 2, 4, lambda: daemon.stderr)  # still firing

    tasks_path.write_text(json.dumps({"maintenance": [every_second("a")]}))
    wait_for(lambda: daemon.stderr.count("reloaded:") >= 1, 2, lambda: daemon.stderr)
    edited = time.time()
    result = CliRunner().invoke(
        cli,
        [
            "--home",
            str(home),
            "tasks",
            "add",
            "maintenance",
            "--type",
            "pending_report",
            "--id",
            "b",
            "--schedule",
            '{"interval": "1s"}',
        ],
    )
    assert result.exit_code == 0, result.output
    wait_for(lambda: any(r["task_id"] == "b" for r in records(home)), 3.5, lambda: daemon.stderr)
    first_b = min(
        datetime.fromisoformat(r["timestamp"]).timestamp()
        for r in records(home)
        if r["task_id"] == "b"
    )
    assert first_b - edited < 3.5  # picked up (< 2 s) and fired on its next second

    result = CliRunner().invoke(cli, ["--home", str(home), "tasks", "disable", "a"])
    assert result.exit_code == 0, result.output
    wait_for(lambda: daemon.stderr.count("reloaded:") >= 3, 2, lambda: daemon.stderr)
    time.sleep(0.2)
    before = len([r for r in records(home) if r["task_id"] == "a"])
    time.sleep(1.5)
    assert len([r for r in records(home) if r["task_id"] == "a"]) == before
    assert daemon.stop() == 0


def test_run_once_catches_up_and_exits_1_when_a_run_failed(tmp_path: Path) -> None:
    home = make_home(
        tmp_path / "h",
        [
            {"id": "ok", "type": "pending_report", "schedule": {"interval": "1h"}},
            {
                "id": "bad",
                "type": "health_check",
                "min_free_mb": 10**12,
                "schedule": {"interval": "1h", "misfire": "all"},
            },
        ],
    )
    last = (datetime.now().astimezone() - timedelta(hours=3)).isoformat()
    state = home / ".mp" / "state"
    state.mkdir(parents=True)
    (state / "schedule.json").write_text(
        json.dumps({"version": 1, "tasks": {"ok": {"last_due": last}, "bad": {"last_due": last}}})
    )
    done = run_daemon(home, "--once")
    assert done.returncode == 1, done.stderr
    got = sorted((r["task_id"], r["trigger"], r["status"]) for r in records(home))
    assert got == [("bad", "catch-up", "failed")] * 3 + [("ok", "catch-up", "success")]
    assert not (home / ".mp" / "state" / "daemon.json").exists()


def test_a_fresh_install_runs_nothing_and_bad_config_exits_2(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    assert CliRunner().invoke(cli, ["init", str(home)]).exit_code == 0
    done = run_daemon(home, "--once")
    assert done.returncode == 0, done.stderr
    assert records(home) == []

    (home / "config.json").write_text('{"max_concurrent_tasks": "many"}')
    bad = run_daemon(home)
    assert bad.returncode == 2
    assert "config.json: max_concurrent_tasks" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert sorted(os.listdir(home / ".mp" / "state")) == [
        "last-good.json",
        "schedule.json",
        "workspace-facts.json",  # kept by the good load, untouched by the bad one
    ]


def test_the_daemon_switches_threads_within_half_a_millisecond(tmp_path: Path) -> None:
    # A worker woken at its run's instant must not wait the interpreter's default 5 ms
    # for another thread: the daemon lowers the switch interval while it serves.
    home = make_home(tmp_path / "h", [every_second("t")])
    code = (
        "import sys\n"
        "from automation_manager import AutomationManager\n"
        "before = sys.getswitchinterval()\n"
        f"AutomationManager({str(home)!r}).run_scheduler(run_once=True)\n"
        "print(before, sys.getswitchinterval())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    before, after = map(float, done.stdout.split())
    assert before == 0.005 and after <= 0.0005
