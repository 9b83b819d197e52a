"""Multi-action tasks: validation (exit 2, nothing written), order, on_error, per-action
outcomes, http_check, command under limits, and the reference's create_task."""

from __future__ import annotations

import hashlib
import http.server
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.enums import ProcessType, ScheduleType
from automation_manager.errors import ConfigError
from automation_manager.manager import AutomationManager


def add_task(home: Path, task: dict[str, Any], category: str = "maintenance") -> None:
    data = json.loads((home / "tasks.json").read_text())
    data.setdefault(category, []).append(task)
    (home / "tasks.json").write_text(json.dumps(data))


def set_config(home: Path, **values: Any) -> None:
    cfg = json.loads((home / "config.json").read_text())
    cfg.update(values)
    (home / "config.json").write_text(json.dumps(cfg))


def snapshot(home: Path) -> dict[str, str]:
    """Every file of the home with its hash: 'nothing modified' is this staying equal."""
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


def run_json(home: Path, *args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    try:
        doc = json.loads(result.stdout)
    except ValueError:
        doc = None
    return result.exit_code, doc, result.output


class Status(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = int(self.path.strip("/") or 200)
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Status)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


BAD_INPUTS = [
    ({"type": "bakup", "params": {}}, 'did you mean "backup"'),
    ({"type": "backup", "params": {"backup_dir": ".mp/backups"}}, "inside .mp"),
    ({"type": "backup", "params": {"backup_dir": "config.json/backups"}}, "not a writable folder"),
    ({"type": "backup", "params": {"backup_dir": "../b", "retention": "often"}}, "retention"),
    ({"type": "backup", "params": {"backup_dir": "../b", "retention": 0}}, "retention"),
    ({"type": "cleanup", "params": {"older_than": "soon"}}, "older_than"),
    ({"type": "cleanup", "params": {"older_than": "3d", "folders": ["logs"]}}, "folders"),
    ({"type": "command", "params": {"argv": ["true"]}}, "allow_commands"),
    ({"type": "http_check", "params": {"url": "ftp://x"}}, "http(s) URL"),
    ({"type": "cleanup", "params": {"older_than": "3d", "olderthan": "1d"}}, "did you mean"),
]


@pytest.mark.parametrize(("action", "needle"), BAD_INPUTS)
def test_bad_action_is_exit_2_at_validation_and_changes_nothing(
    home: Path, action: dict[str, Any], needle: str
) -> None:
    add_task(home, {"id": "ops", "type": "actions", "actions": [action]})
    before = snapshot(home)
    result = CliRunner().invoke(cli, ["--home", str(home), "exec-now", "--task", "ops"])
    assert result.exit_code == 2, result.output
    assert "tasks.json: maintenance[" in result.output and needle in result.output
    assert snapshot(home) == before  # no record, no state database, nothing


@pytest.mark.parametrize(
    "resources", [{"cpu": 120.0}, {"memory": -1}, {"storage": 101}, {"memory_mb": 0}]
)
def test_resources_out_of_range_are_refused(home: Path, resources: dict[str, Any]) -> None:
    add_task(home, {"id": "ops", "type": "actions", "actions": [], "resources": resources})
    result = CliRunner().invoke(cli, ["--home", str(home), "validate"])
    assert result.exit_code == 2
    assert "resources" in result.output


def test_actions_on_a_non_actions_task_are_refused(home: Path) -> None:
    add_task(home, {"id": "hc", "type": "health_check", "actions": [{"type": "report"}]})
    result = CliRunner().invoke(cli, ["--home", str(home), "validate"])
    assert result.exit_code == 2 and "only an actions task runs actions" in result.output


def test_actions_run_in_order_and_each_outcome_is_recorded(home: Path, server: str) -> None:
    add_task(
        home,
        {
            "id": "ops",
            "type": "actions",
            "process_type": "monitoring",
            "actions": [
                {"type": "http_check", "params": {"url": f"{server}/204", "expect": 204}},
                {"type": "report", "params": {"period": "month"}},
            ],
        },
    )
    code, rec, out = run_json(home, "exec-now", "--task", "ops", "--json")
    assert code == 0, out
    assert rec["status"] == "success" and rec["process_type"] == "monitoring"
    actions = rec["result"]["actions"]
    assert [a["type"] for a in actions] == ["http_check", "report"]
    assert all(a["status"] == "success" and a["duration_ms"] >= 0 for a in actions)
    assert actions[0]["result"]["status_code"] == 204
    md, js = (Path(f) for f in actions[1]["result"]["files"])
    assert md.read_text().startswith("# amgr monthly report")
    assert json.loads(js.read_text())["period"] == "month"
    assert set(rec["resources_used"]) == {"cpu_s", "peak_rss_mb"}


@pytest.mark.parametrize(("on_error", "last"), [("stop", "not_run"), ("continue", "success")])
def test_a_failed_action_fails_the_run_and_on_error_decides_the_rest(
    home: Path, server: str, on_error: str, last: str
) -> None:
    add_task(
        home,
        {
            "id": "ops",
            "type": "actions",
            "on_error": on_error,
            "actions": [
                {"type": "http_check", "params": {"url": f"{server}/500"}},
                {"type": "http_check", "params": {"url": f"{server}/200"}},
            ],
        },
    )
    code, rec, out = run_json(home, "exec-now", "--task", "ops", "--json")
    assert code == 1, out
    assert rec["status"] == "failed"
    assert "answered HTTP 500, expected 200" in rec["error"]
    first, second = rec["result"]["actions"]
    assert first["status"] == "failed" and "HTTP 500" in first["error"]
    assert second["status"] == last


def test_command_runs_without_a_shell_and_over_its_memory_limit_fails_alone(
    home: Path,
) -> None:
    set_config(home, allow_commands=True)
    hog = "x = bytearray(400 * 1024 * 1024); print(len(x))"
    add_task(
        home,
        {
            "id": "ops",
            "type": "actions",
            "on_error": "continue",
            "actions": [
                {
                    "type": "command",
                    "params": {"argv": [sys.executable, "-c", hog], "memory_mb": 200},
                },
                {"type": "command", "params": {"argv": ["echo", "$HOME; rm -rf /"]}},
            ],
        },
    )
    code, rec, out = run_json(home, "exec-now", "--task", "ops", "--json")
    assert code == 1, out
    hogged, echoed = rec["result"]["actions"]
    assert hogged["status"] == "failed"
    assert "went past its memory limit (200 MB, RLIMIT_AS)" in hogged["error"]
    assert echoed["status"] == "success"
    assert echoed["result"]["stdout"] == "$HOME; rm -rf /\n"  # literal: no shell
    assert rec["resources_used"]["cpu_s"] >= 0


def test_command_past_its_timeout_is_killed(home: Path) -> None:
    set_config(home, allow_commands=True)
    add_task(
        home,
        {
            "id": "ops",
            "type": "actions",
            "actions": [{"type": "command", "params": {"argv": ["sleep", "30"], "timeout_s": 0.3}}],
        },
    )
    code, rec, _ = run_json(home, "exec-now", "--task", "ops", "--json")
    assert code == 1 and "ran past its timeout_s (0.3 s)" in rec["error"]
    assert rec["duration_ms"] < 10_000


def test_create_task_maps_the_reference_api(home: Path, tmp_path: Path) -> None:
    mgr = AutomationManager(home)
    task = mgr.create_task(
        name="Daily Backup",
        type=ProcessType.MAINTENANCE,
        schedule=ScheduleType.DAILY,
        schedule_config={"hour": 2, "minute": 0},
        actions=[
            {
                "type": "backup",
                "params": {"backup_dir": str(tmp_path / "bk"), "retention": "7days"},
            },
            {"type": "cleanup", "params": {"older_than": "30days"}},
        ],
        resources={"cpu": 20.0, "memory": 30.0, "storage": 50.0},
    )
    assert task.id == "daily-backup" and task.category.value == "maintenance"
    assert task.type == "actions" and task.task.process_type is ProcessType.MAINTENANCE
    assert str(task.schedule).startswith("every day at 02:00")
    stored = json.loads((home / "tasks.json").read_text())["maintenance"][-1]
    assert stored["schedule"] == {"every": "day", "at": "02:00"}
    assert stored["resources"] == {"cpu": 20.0, "memory": 30.0, "storage": 50.0}
    with pytest.raises(ConfigError, match="did you mean"):
        mgr.create_task(name="x", actions=[{"type": "clenup", "params": {}}])
    mon = mgr.create_task(
        name="Probe",
        type="monitoring",
        schedule=ScheduleType.INTERVAL,
        schedule_config={"minutes": 15},
        actions=[{"type": "report"}],
    )
    assert mon.task.process_type is ProcessType.MONITORING and mon.schedule is not None
