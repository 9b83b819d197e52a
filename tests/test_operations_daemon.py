"""With a real daemon: a backup taken while it writes records restores to a home that
validates and holds a whole-line prefix of its log; its metrics endpoint is scraped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from automation_manager.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def records(home: Path) -> list[bytes]:
    logs = home / ".mp" / "automation" / "logs"
    return [line for p in sorted(logs.glob("*.jsonl")) for line in p.read_bytes().splitlines()]


def wait_for(check: object, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert proc.poll() is None, "the daemon exited"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_backup_of_a_running_daemon_and_its_metrics(home: Path, tmp_path: Path) -> None:
    tasks = {
        "maintenance": [
            {"id": "tick", "type": "pending_report", "schedule": {"interval": "1s"}},
        ]
    }
    (home / "tasks.json").write_text(json.dumps(tasks))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "AMGR_HOME"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automation_manager",
            "--home",
            str(home),
            "run",
            "--metrics",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: len(records(home)) >= 2, 30, proc)
        made = CliRunner().invoke(
            cli, ["--home", str(home), "backup", "create", str(tmp_path / "b"), "--json"]
        )
        assert made.exit_code == 0, made.output
        at_backup = len(records(home))
        wait_for(lambda: len(records(home)) >= at_backup + 2, 30, proc)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    ticks = [
        s.value
        for s in families["amgr_runs"].samples
        if s.name == "amgr_runs_total" and s.labels == {"task": "tick", "status": "success"}
    ]
    assert ticks and ticks[0] >= at_backup + 2
    lateness = [
        s for s in families["amgr_run_lateness_seconds"].samples if s.name.endswith("_count")
    ]
    assert lateness[0].value >= 2  # scheduled runs measured against their due time
    assert families["amgr_task_period_seconds"].samples[0].value == 1.0

    backup = json.loads(made.stdout)["path"]
    target = tmp_path / "restored"
    out = CliRunner().invoke(
        cli, ["--home", str(home), "backup", "restore", backup, "--to", str(target)]
    )
    assert out.exit_code == 0, out.output
    assert CliRunner().invoke(cli, ["--home", str(target), "validate"]).exit_code == 0
    restored, source = records(target), records(home)
    assert 2 <= len(restored) < len(source)
    assert source[: len(restored)] == restored  # the log as it was at the snapshot
    history = CliRunner().invoke(cli, ["--home", str(target), "history", "--json"])
    assert len(json.loads(history.stdout)["records"]) == len(restored)
