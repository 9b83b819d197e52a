"""The built-in maintenance tasks: pending report, health check, log archiving."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.config import TaskSpec, load_workspace
from automation_manager.config.base import validate
from automation_manager.config.tasks import Task
from automation_manager.content import ContentStore
from automation_manager.engine.runner import RunRequest, perform_run
from automation_manager.enums import Category, ContentStatus, RunStatus, Trigger
from automation_manager.home import Home

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    return Home(tmp_path / "home")


def set_llm(home: Home, **llm: Any) -> None:
    cfg = json.loads(home.config_path.read_text())
    cfg["llm"].update(llm)
    home.config_path.write_text(json.dumps(cfg))


def attempt(home: Home, type_: str, **fields: Any) -> Any:
    ws = load_workspace(home)
    spec = TaskSpec(
        Category.MAINTENANCE,
        0,
        validate(Task, {"type": type_, "id": f"m-{type_}", **fields}),
        f"m-{type_}",
        None,
    )
    return perform_run(ws, RunRequest(spec=spec, trigger=Trigger.SCHEDULED), clock=lambda: NOW)


def test_every_init_home_has_the_maintenance_tasks_enabled(home: Home) -> None:
    ws = load_workspace(home)
    maintenance = {s.type: s for s in ws.tasks if s.category is Category.MAINTENANCE}
    assert set(maintenance) == {"archive_logs", "pending_report", "health_check"}
    assert all(s.enabled and s.schedule is not None for s in maintenance.values())


def test_pending_report_counts_by_status_and_lists_what_waits(home: Home) -> None:
    store = ContentStore(home)
    store.create(
        "blog",
        "Old one",
        {"markdown": ("post.md", "# Old")},
        now=NOW - timedelta(days=3),
        status=ContentStatus.PENDING,
    )
    store.create(
        "blog",
        "Fresh one",
        {"markdown": ("post.md", "# Fresh")},
        now=NOW - timedelta(hours=1),
        status=ContentStatus.PENDING,
    )
    store.create(
        "shorts",
        "Done",
        {"script": ("s.md", "x")},
        now=NOW - timedelta(days=5),
        status=ContentStatus.PUBLISHED,
    )
    result = attempt(home, "pending_report").record
    assert result.status is RunStatus.SUCCESS
    assert result.result["counts"] == {"pending": 2, "published": 1}
    assert [w["title"] for w in result.result["waiting"]] == ["Old one"]
    assert "1 waiting more than 24 h" in result.result["summary"]


def test_health_check_offline(home: Home) -> None:
    set_llm(home, provider="offline")
    record = attempt(home, "health_check").record
    assert record.status is RunStatus.SUCCESS, record.error
    checks = record.result["checks"]
    assert checks["llm"] == {"provider": "offline", "ok": True}
    assert checks["home"]["ok"] and checks["disk"]["ok"]
    assert record.provider == "offline"


def test_health_check_fails_naming_low_disk(home: Home) -> None:
    set_llm(home, provider="offline")
    done = attempt(home, "health_check", min_free_mb=10**12)
    assert done.record.status is RunStatus.FAILED and not done.retryable
    assert "min_free_mb" in done.record.error


class Models(http.server.BaseHTTPRequestHandler):
    status = 200
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Models.seen.append(f"{self.path} {self.headers.get('Authorization')}")
        body = json.dumps({"data": [{"id": "m"}]}).encode()
        self.send_response(Models.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Models)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    Models.seen = []
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


@pytest.mark.parametrize(
    ("status", "outcome", "retryable"),
    [
        (200, RunStatus.SUCCESS, False),
        (401, RunStatus.FAILED, False),
        (503, RunStatus.FAILED, True),
    ],
)
def test_health_check_asks_a_real_provider_for_models(
    home: Home,
    server: str,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    outcome: RunStatus,
    retryable: bool,
) -> None:
    monkeypatch.setenv("AMGR_TEST_KEY", "sk-test-123456")
    set_llm(home, provider="openai", base_url=server, api_key_env="AMGR_TEST_KEY")
    Models.status = status
    done = attempt(home, "health_check")
    assert done.record.status is outcome, done.record.error
    assert done.retryable is retryable
    assert Models.seen == ["/v1/models Bearer sk-test-123456"]
    assert "sk-test-123456" not in json.dumps(done.record.to_json())


def test_health_check_unreachable_provider_is_transient(home: Home) -> None:
    set_llm(home, provider="openai", base_url="http://127.0.0.1:9/v1")
    done = attempt(home, "health_check", provider_timeout_s=1)
    assert done.record.status is RunStatus.FAILED and done.retryable
    assert "unreachable" in done.record.error


def test_health_check_sleep_stops_when_cancelled(home: Home) -> None:
    set_llm(home, provider="offline")
    ws = load_workspace(home)
    spec = TaskSpec(
        Category.MAINTENANCE,
        0,
        validate(Task, {"type": "health_check", "id": "s", "sleep_s": 30}),
        "s",
        None,
    )
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    done = perform_run(ws, RunRequest(spec=spec), cancel=cancel)
    assert done.record.status is RunStatus.FAILED and "cancelled" in done.record.error
    assert done.record.duration_ms < 5000


def test_archive_logs_compresses_logs_past_retention(home: Home) -> None:
    home.logs_dir.mkdir(parents=True)
    old = NOW.date() - timedelta(days=40)
    recent = NOW.date() - timedelta(days=3)
    for day in (old, recent):
        (home.logs_dir / f"{day.isoformat()}.jsonl").write_text('{"id": "r"}\n')
    record = attempt(home, "archive_logs").record
    assert record.status is RunStatus.SUCCESS, record.error
    assert record.result["count"] == 1 and record.result["retention_days"] == 30
    assert record.result["archived"][0].startswith(old.isoformat())
    assert not (home.logs_dir / f"{old.isoformat()}.jsonl").exists()
    assert (home.logs_dir / f"{recent.isoformat()}.jsonl").exists()
    assert list(home.archive_dir.iterdir())


def test_health_check_checks_every_platform_like_amgr_check(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_llm(home, provider="offline")
    monkeypatch.setenv("HOOK_SECRET", "s3cret-value")
    cfg = json.loads(home.config_path.read_text())
    cfg["platforms"]["hook"] = {
        "kind": "webhook",
        "url": "http://127.0.0.1:9/hook",
        "secret_env": "HOOK_SECRET",
        "timeout_s": 1,
    }
    home.config_path.write_text(json.dumps(cfg))

    done = attempt(home, "health_check")

    assert done.record.status is RunStatus.FAILED
    assert "hook" in done.record.error
    assert done.retryable  # an unreachable receiver may come back
    checks = json.loads((home.publish_dir / "checks.json").read_text())
    assert checks["hook"]["ok"] is False and checks["site"]["ok"] is True
    assert "s3cret-value" not in json.dumps(done.record.to_json())


def test_health_check_reports_platforms_when_healthy(home: Home) -> None:
    set_llm(home, provider="offline")
    record = attempt(home, "health_check").record
    assert record.status is RunStatus.SUCCESS, record.error
    assert set(record.result["checks"]["platforms"]) == {"site", "youtube", "twitter", "instagram"}
    assert "4 platforms ok" in record.result["summary"]
