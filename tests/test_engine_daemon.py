"""The daemon in-process with an injected clock: catch-up, fresh installs, retries, reloads.

(Real processes, signals and kill -9 are in test_daemon.py.)
"""

from __future__ import annotations

import http.server
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from automation_manager.config import load_workspace
from automation_manager.config.defaults import default_config, default_schedules, default_tasks
from automation_manager.engine.daemon import Daemon
from automation_manager.engine.state import InflightRun, StateStore
from automation_manager.home import Home
from automation_manager.manager import AutomationManager

NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)


def make_home(root: Path, maintenance: list[dict[str, Any]], **config: Any) -> Home:
    root.mkdir(parents=True, exist_ok=True)
    cfg = default_config() | {"log_level": "error"} | config
    cfg["llm"] = cfg["llm"] | {"provider": "offline"}
    (root / "config.json").write_text(json.dumps(cfg))
    (root / "schedules.json").write_text(json.dumps(default_schedules()))
    (root / "tasks.json").write_text(json.dumps({"maintenance": maintenance}))
    return Home(root)


def records(home: Home) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(home.logs_dir.glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def save_last_due(home: Home, **last: datetime) -> None:
    state = StateStore(home)
    for task_id, when in last.items():
        state.advance(task_id, when)
    state.flush()


def task(task_id: str, schedule: Any, **fields: Any) -> dict[str, Any]:
    return {"id": task_id, "type": "pending_report", "schedule": schedule, **fields}


def test_run_once_catches_up_by_misfire_policy(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        [
            task("skip", {"interval": "1h", "misfire": "skip"}),
            task("once", {"interval": "1h", "misfire": "once"}),
            task("all", {"interval": "1h", "misfire": "all"}),
            task("graced", {"interval": "1h", "misfire": "all", "grace": "90m"}),
        ],
    )
    before = NOW - timedelta(hours=3, minutes=30)  # 09:00; missed 10:00, 11:00, 12:00
    save_last_due(home, skip=before, once=before, all=before, graced=before)
    assert Daemon(home, clock=lambda: NOW).run_once() == 0
    got = [(r["task_id"], r["trigger"], r["scheduled_for"][11:16]) for r in records(home)]
    assert sorted(got) == sorted(
        [
            ("once", "catch-up", "12:00"),
            ("all", "catch-up", "10:00"),
            ("all", "catch-up", "11:00"),
            ("all", "catch-up", "12:00"),
            ("graced", "catch-up", "11:00"),
            ("graced", "catch-up", "12:00"),
        ]
    )
    all_runs = [r["scheduled_for"] for r in records(home) if r["task_id"] == "all"]
    assert all_runs == sorted(all_runs)  # in order
    # a second --once at the same instant finds nothing left to do
    assert Daemon(home, clock=lambda: NOW).run_once() == 0
    assert len(records(home)) == 6
    assert StateStore(home).load()["skip"] == NOW


def test_a_fresh_install_runs_nothing_at_start(tmp_path: Path) -> None:
    home = Home(tmp_path)
    for path, data in (
        (home.config_path, default_config()),
        (home.tasks_path, default_tasks()),
        (home.schedules_path, default_schedules()),
    ):
        path.write_text(json.dumps(data))
    assert Daemon(home, clock=lambda: NOW).run_once() == 0
    assert records(home) == []
    saved = StateStore(home).load()
    enabled = {s.id for s in load_workspace(home).tasks if s.enabled}
    assert set(saved) == enabled and set(saved.values()) == {NOW}
    # an hour later, --once runs what fell due in that hour, once each
    assert Daemon(home, clock=lambda: NOW + timedelta(hours=1)).run_once() == 0
    assert [r["task_id"] for r in records(home)] == ["publish-pending"]


def test_library_face_runs_once_like_the_cli(tmp_path: Path) -> None:
    home = make_home(tmp_path, [task("a", {"interval": "1h"})])
    save_last_due(home, a=NOW - timedelta(hours=2))
    manager = AutomationManager(home.root, clock=lambda: NOW)
    assert manager.run_scheduler(run_once=True) == 0
    assert [r["trigger"] for r in records(home)] == ["catch-up"]
    daemon = manager.setup_schedules()
    assert set(daemon.scheduler.task_jobs()) == {"a"}


def test_transient_failures_retry_each_as_its_own_record(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        [
            {
                "id": "hc",
                "type": "health_check",
                "provider_timeout_s": 1,
                "max_retries": 2,
                "schedule": {"interval": "1h"},
            },
        ],
        retry_base_delay_s=0.05,
        retry_max_delay_s=0.1,
    )
    cfg = json.loads(home.config_path.read_text())
    cfg["llm"] = cfg["llm"] | {"provider": "openai", "base_url": "http://127.0.0.1:9/v1"}
    home.config_path.write_text(json.dumps(cfg))
    save_last_due(home, hc=NOW - timedelta(hours=2))
    assert Daemon(home, clock=lambda: NOW).run_once() == 1
    got = [(r["trigger"], r["attempt"], r["status"]) for r in records(home)]
    assert got == [("catch-up", 1, "failed"), ("retry", 2, "failed"), ("retry", 3, "failed")]
    assert len({r["scheduled_for"] for r in records(home)}) == 1


def test_permanent_failures_do_not_retry(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        [
            {
                "id": "hc",
                "type": "health_check",
                "min_free_mb": 10**12,
                "schedule": {"interval": "1h"},
            }
        ],
        retry_base_delay_s=0.01,
    )
    save_last_due(home, hc=NOW - timedelta(hours=2))
    assert Daemon(home, clock=lambda: NOW).run_once() == 1
    assert [r["attempt"] for r in records(home)] == [1]


def test_unmet_dependency_is_skipped_with_the_reason(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        [
            task("first", {"interval": "1h"}, enabled=False),
            task("second", {"interval": "1h"}, depends_on=["first"]),
        ],
    )
    save_last_due(home, second=NOW - timedelta(hours=2))
    assert Daemon(home, clock=lambda: NOW).run_once() == 0
    (rec,) = records(home)
    assert rec["status"] == "skipped" and "dependency first not met" in rec["error"]


def test_reload_re_registers_changed_schedules_and_starts_new_tasks_fresh(
    tmp_path: Path,
) -> None:
    home = make_home(
        tmp_path, [task("keep", "hourly"), task("change", "hourly"), task("drop", "hourly")]
    )
    daemon = Daemon(home, clock=lambda: NOW)
    daemon.setup()
    keep = daemon.scheduler.job("keep")
    tasks = json.loads(home.tasks_path.read_text())
    tasks["maintenance"] = [
        task("keep", "hourly", priority=3),
        task("change", "daily"),
        task("new", {"interval": "15m"}),
    ]
    home.tasks_path.write_text(json.dumps(tasks))
    later = NOW + timedelta(minutes=1)
    # "keep" changed its priority only: counted as changed, its job and firing kept
    assert daemon.apply(load_workspace(home), later) == (1, 2, 1)
    jobs = daemon.scheduler.task_jobs()
    assert set(jobs) == {"keep", "change", "new"}
    assert jobs["keep"] is keep and keep.spec.task.priority == 3
    assert jobs["change"].fire_at == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert jobs["new"].fire_at == datetime(2026, 3, 2, 12, 45, tzinfo=UTC)
    assert daemon.state.last_due("new") == later  # added now: nothing before it is owed


@pytest.mark.parametrize("broken", ["{", '{"maintenance": [{"type": "nope"}]}'])
def test_a_broken_edit_keeps_the_last_good_configuration(tmp_path: Path, broken: str) -> None:
    home = make_home(tmp_path, [task("a", "hourly")])
    daemon = Daemon(home, clock=lambda: NOW)
    daemon.setup()
    home.tasks_path.write_text(broken)
    daemon.reload_if_changed()
    assert set(daemon.scheduler.task_jobs()) == {"a"}
    assert daemon.workspace.task("a") is not None


class Hooks(http.server.BaseHTTPRequestHandler):
    events: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Hooks.events.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_final_failure_and_an_interrupted_run_are_notified_once(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hooks.events = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        home = make_home(
            tmp_path,
            [{"id": "hc", "type": "health_check", "min_free_mb": 10**12, "schedule": "hourly"}],
            notification_webhook={"url": url},
        )
        save_last_due(home, hc=NOW - timedelta(hours=2))
        StateStore(home).add_inflight(
            InflightRun(
                record_id="r-left",
                pid=4242,
                task_id="hc",
                category="maintenance",
                type="health_check",
                trigger="scheduled",
                started_at=NOW,
            )
        )
        assert Daemon(home, clock=lambda: NOW).run_once() == 1
    finally:
        server.shutdown()
    keys = sorted(str(e.get("key")) for e in Hooks.events)
    assert keys == ["interrupted:r-left", "task:hc"], Hooks.events
