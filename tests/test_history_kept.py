"""The daemon keeps the closed days' history indexes (``logs/kept.py``): at start-up and
after each midnight a niced child builds the missing ones, so the first ``history``
over a long log reads kept indexes instead of decoding every record."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.config.defaults import default_config, default_schedules
from automation_manager.engine.daemon import Daemon
from automation_manager.home import Home
from automation_manager.logs.index import load_index
from automation_manager.logs.kept import VERSION, index_path, stale_days

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def make_home(root: Path) -> Home:
    root.mkdir(parents=True, exist_ok=True)
    cfg = default_config() | {"log_level": "error", "timezone": "UTC"}
    cfg["llm"] = cfg["llm"] | {"provider": "offline"}
    (root / "config.json").write_text(json.dumps(cfg))
    (root / "schedules.json").write_text(json.dumps(default_schedules()))
    # a task every second keeps the loop turning, so it sees the injected clock move
    tick = {"id": "tick", "type": "pending_report", "schedule": {"interval": "1s"}}
    (root / "tasks.json").write_text(json.dumps({"maintenance": [tick]}))
    return Home(root)


def plant_day(home: Home, day: date, n: int = 50) -> Path:
    """``n`` records in ``day``'s log file, written as the recorder writes them."""
    path = home.logs_dir / f"{day}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        for i in range(n):
            at = datetime(day.year, day.month, day.day, 1, tzinfo=UTC) + timedelta(minutes=i)
            rec = {
                "id": f"r{day:%Y%m%d}{i:04d}",
                "timestamp": at.isoformat(),
                "task_id": "daily-blog",
                "category": "content_creation",
                "type": "blog",
                "trigger": "scheduled",
                "attempt": 1,
                "status": "failed" if i % 7 == 0 else "success",
                "success": i % 7 != 0,
                "error": "HTTP 429 from the provider" if i % 7 == 0 else None,
                "duration_ms": 100 + i,
            }
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
    return path


def wait_for(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def kept(home: Home, log: Path) -> bool:
    where = index_path(home.logs_dir, log)
    return where.exists() and load_index(where, log) is not None


class Running:
    """A daemon serving in a thread on an injected clock the test moves."""

    def __init__(self, home: Home, now: datetime) -> None:
        self.now = now
        self.daemon = Daemon(home, clock=lambda: self.now)
        self.codes: list[int] = []
        self.thread = threading.Thread(target=lambda: self.codes.append(self.daemon.run_forever()))

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.daemon.stop()
        self.thread.join(30)
        assert self.codes == [0]


def test_the_daemon_keeps_closed_days_at_start_and_after_midnight(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    today = NOON.date()
    closed = [plant_day(home, today - timedelta(days=d)) for d in (1, 2, 5)]
    live = plant_day(home, today)
    with Running(home, NOON) as running:
        wait_for(lambda: all(kept(home, log) for log in closed))
        assert not index_path(home.logs_dir, live).exists()  # today's file is still open
        # 23:50, then 00:20 the next day: the day that just closed is kept
        running.now = datetime(2026, 3, 2, 23, 50, tzinfo=UTC)
        time.sleep(1.5)
        assert not index_path(home.logs_dir, live).exists()
        running.now = datetime(2026, 3, 3, 0, 20, tzinfo=UTC)
        wait_for(lambda: kept(home, live))
    # the kept indexes answer as the log does
    result = CliRunner().invoke(
        cli, ["--home", str(home.root), "history", "--since", "2026-02-20", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    planted = [r for r in data["records"] if r["task_id"] == "daily-blog"]
    assert len(planted) == 4 * 50
    assert data["summary"]["by_status"]["failed"] == 4 * 8


def test_nothing_stale_starts_no_keeper(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    plant_day(home, NOON.date())  # only today's, open
    with Running(home, NOON) as running:
        info = home.root / ".mp" / "state" / "daemon.json"
        wait_for(lambda: info.exists() and bool(json.loads(info.read_text()).get("ready_at")))
        time.sleep(1.2)  # a loop turn or two
        assert running.daemon._keeper is None
    assert not (home.logs_dir / ".index").exists()


def test_stale_days_are_the_missing_the_older_and_the_other_version(tmp_path: Path) -> None:
    from automation_manager.logs.reader import build_kept_index, log_file

    home = Home(tmp_path)
    logs = home.logs_dir
    paths = [plant_day(home, date(2026, 3, d)) for d in (1, 2, 3, 4)]
    for path in paths:
        file = log_file(path)
        assert file is not None
        build_kept_index(logs, file)
    assert stale_days(home, date(2026, 3, 5)) == []
    assert stale_days(home, date(2026, 3, 3)) == []  # the later days are not closed yet
    # appended after it was kept: its index is older than the file
    later = time.time() + 5
    with paths[0].open("a") as fh:
        fh.write("\n")
    os.utime(paths[0], (later, later))
    # of another version
    idx = index_path(logs, paths[1])
    idx.write_bytes(idx.read_bytes().replace(b'{"v":%d,' % VERSION, b'{"v":%d,' % (VERSION - 1)))
    # missing
    index_path(logs, paths[2]).unlink()
    assert stale_days(home, date(2026, 3, 5)) == [paths[2], paths[1], paths[0]]  # newest first


def test_a_keeper_that_cannot_write_says_so_once_and_stops(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = Home(tmp_path)
    for d in (1, 2, 3):
        plant_day(home, date(2026, 3, d))
    # a file where the index folder goes: nothing can be written there, even by root
    (home.logs_dir / ".index").write_text("not a folder")
    done = subprocess.run(
        [sys.executable, "-m", "automation_manager.logs.kept", str(tmp_path), "2026-03-05"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not keep the history index" in lines[0], done.stderr
    assert "2026-03-03.jsonl" in lines[0]  # the newest first, then it stopped
