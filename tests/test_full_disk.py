"""A full disk under a running amgr: nothing torn, nothing lost, the daemon keeps running.

The home lives on a small tmpfs (mounting one needs root; CI runs as root) that the test
fills to the last byte and then frees again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from small_disk import fill, mounted_tmpfs

from automation_manager.config.defaults import default_config, default_schedules

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs mounted at a fresh folder (skipped when mounting is not allowed)."""
    with mounted_tmpfs(tmp_path, "16m") as mount:
        yield mount


def make_home(root: Path, tasks: list[dict[str, Any]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    cfg = default_config() | {"log_level": "info"}
    cfg["llm"] = cfg["llm"] | {"provider": "offline"}
    (root / "config.json").write_text(json.dumps(cfg))
    (root / "schedules.json").write_text(json.dumps(default_schedules()))
    (root / "tasks.json").write_text(json.dumps({"maintenance": tasks}))
    return root


def lines(home: Path) -> list[bytes]:
    out: list[bytes] = []
    for path in sorted((home / ".mp" / "automation" / "logs").glob("*.jsonl")):
        out += path.read_bytes().splitlines(keepends=True)
    return out


def start_daemon(home: Path, err_path: Path) -> subprocess.Popen[bytes]:
    """``amgr run`` on ``home``, its stderr to ``err_path`` (off the small disk)."""
    return subprocess.Popen(
        [sys.executable, "-m", "automation_manager", "--home", str(home), "run"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=err_path.open("wb"),
    )


def wait_for(check: Any, timeout: float, why: Any = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; {why()}")
        time.sleep(0.05)


def test_the_daemon_waits_out_a_full_disk_and_writes_every_record_after(
    small_disk: Path,
) -> None:
    home = make_home(
        small_disk / "home",
        [{"id": "tick", "type": "pending_report", "schedule": {"interval": "1s"}}],
    )
    err_path = small_disk.parent / "daemon.err"
    proc = start_daemon(home, err_path)
    try:
        wait_for(lambda: len(lines(home)) >= 2, 20, err_path.read_text)
        filler = fill(small_disk)
        # A line that still fits the log file's last page is written; the first that
        # needs a new page waits (tmpfs counts whole pages).
        wait_for(lambda: "records waiting" in err_path.read_text(), 30, err_path.read_text)
        time.sleep(2.5)  # a few more firings while full
        assert proc.poll() is None, err_path.read_text()
        full_lines = lines(home)
        assert all(line.endswith(b"\n") for line in full_lines)  # nothing torn
        filler.unlink()
        wait_for(lambda: "disk space is back" in err_path.read_text(), 20, err_path.read_text)
        wait_for(lambda: len(lines(home)) >= len(full_lines) + 3, 20, err_path.read_text)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(20)
    stderr = err_path.read_text()
    assert stderr.count("records waiting") == 1, stderr  # one clear line, not one per run
    assert proc.returncode == 0, stderr
    records = [json.loads(line) for line in lines(home)]
    assert len({r["id"] for r in records}) == len(records)  # nothing doubled
    # The firings that came while the disk was full are on record, with the reason.
    waited = [r for r in records if "not started" in (r.get("error") or "")]
    assert waited and all(r["status"] == "failed" for r in waited)
    assert "Traceback" not in stderr


def test_run_once_on_a_full_disk_ends_with_exit_1_and_says_why(small_disk: Path) -> None:
    home = make_home(
        small_disk / "home",
        [{"id": "tick", "type": "pending_report", "schedule": {"interval": "1h"}}],
    )
    state = home / ".mp" / "state"
    state.mkdir(parents=True)
    past = "2020-01-01T00:00:00+00:00"
    (state / "schedule.json").write_text(json.dumps({"tasks": {"tick": {"last_due": past}}}))
    filler = fill(small_disk)
    done = subprocess.run(
        [sys.executable, "-m", "automation_manager", "--home", str(home), "run", "--once"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "could not be written (disk full under" in done.stderr
    assert "Traceback" not in done.stderr
    filler.unlink()
    # Space is back: the next command records what is owed, once.
    again = subprocess.run(
        [sys.executable, "-m", "automation_manager", "--home", str(home), "run", "--once"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert all(line.endswith(b"\n") for line in lines(home))


def test_the_daemon_starts_on_a_full_disk_and_says_so(small_disk: Path) -> None:
    home = make_home(
        small_disk / "home",
        [{"id": "tick", "type": "pending_report", "schedule": {"interval": "1s"}}],
    )
    filler = fill(small_disk)
    err_path = small_disk.parent / "start.err"
    proc = start_daemon(home, err_path)
    try:
        wait_for(lambda: "records waiting" in err_path.read_text(), 20, err_path.read_text)
        assert proc.poll() is None, err_path.read_text()
        filler.unlink()
        wait_for(lambda: "disk space is back" in err_path.read_text(), 20, err_path.read_text)
    finally:
        proc.terminate()
        proc.wait(20)
    stderr = err_path.read_text()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert "may be full" in stderr  # daemon.json could not be written: said, not fatal
    assert lines(home) and all(line.endswith(b"\n") for line in lines(home))
