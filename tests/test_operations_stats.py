"""amgr stats and the library's get_task_stats / get_execution_stats against a hand-made
log, and the metrics endpoint scraped over HTTP and parsed with prometheus_client."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from automation_manager.cli import cli
from automation_manager.config import load_workspace
from automation_manager.home import Home
from automation_manager.manager import AutomationManager
from automation_manager.operations.metrics import start_metrics

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def rec(n: int, task: str, status: str, ms: int, **extra: Any) -> dict[str, Any]:
    at = NOW - timedelta(hours=n)
    return {
        "id": f"r{n:04d}",
        "timestamp": at.isoformat(),
        "task_id": task,
        "category": extra.pop("category", "content_creation"),
        "type": extra.pop("type", "blog"),
        "trigger": extra.pop("trigger", "scheduled"),
        "attempt": 1,
        "scheduled_for": (at - timedelta(seconds=extra.pop("late", 0))).isoformat(),
        "status": status,
        "success": status == "success",
        "duration_ms": ms,
        **extra,
    }


RECORDS = [
    rec(
        1,
        "blog",
        "success",
        1000,
        result={"items": 1},
        usage={"cost_usd": 0.01, "calls": 1},
        resources_used={"cpu_s": 0.5, "peak_rss_mb": 80.0},
        late=2,
    ),
    rec(
        2,
        "blog",
        "failed",
        3000,
        error="HTTP 500",
        resources_used={"cpu_s": 1.5, "peak_rss_mb": 90.0},
        late=4,
    ),
    rec(
        3,
        "blog",
        "success",
        2000,
        result={"items": 2},
        usage={"cost_usd": 0.02, "calls": 1},
        trigger="retry",
    ),
    rec(4, "blog", "skipped", 0, error="quota"),
    rec(
        5,
        "bk",
        "success",
        500,
        category="maintenance",
        type="actions",
        process_type="monitoring",
        late=6,
    ),
    rec(30 * 24, "blog", "success", 9999),  # outside --days 7
]


def write_log(home: Path) -> None:
    logs = home / ".mp" / "automation" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    by_day: dict[str, list[str]] = {}
    for r in RECORDS:
        by_day.setdefault(r["timestamp"][:10], []).append(json.dumps(r))
    for day, lines in by_day.items():
        (logs / f"{day}.jsonl").write_text("\n".join(lines) + "\n")


def test_stats_figures_against_a_hand_made_log(home: Path) -> None:
    write_log(home)
    mgr = AutomationManager(home, clock=lambda: NOW)
    tasks = {t.task_id: t for t in mgr.get_task_stats(days=7)}
    blog = tasks["blog"]
    assert (blog.runs, blog.succeeded, blog.failed, blog.skipped) == (4, 2, 1, 1)
    assert blog.success_rate == round(2 / 3, 4)
    assert (blog.duration_p50_ms, blog.duration_p95_ms) == (2000, 3000)
    assert blog.last_status == "success" and blog.items == 3 and blog.cost_usd == 0.03
    assert blog.process_type == "content"
    assert tasks["bk"].process_type == "monitoring"
    ex = mgr.get_execution_stats(days=7)
    assert ex.total == 5
    assert ex.by_status == {"failed": 1, "skipped": 1, "success": 3}
    assert ex.by_process_type == {
        "content": {"failed": 1, "skipped": 1, "success": 2},
        "monitoring": {"success": 1},
    }
    assert ex.retries == 1
    assert ex.runs_per_hour == round(4 / (7 * 24), 4)
    assert (ex.queue_wait_p50_s, ex.queue_wait_p95_s) == (2.0, 6.0)
    assert ex.resources.runs == 2 and ex.resources.cpu_s_total == 2.0
    assert ex.resources.peak_rss_mb_max == 90.0

    # the CLI reads the real clock: a window wide enough for every hand-made record
    result = CliRunner().invoke(cli, ["--home", str(home), "stats", "--days", "400", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    runs = {t["task_id"]: t["runs"] for t in doc["tasks"]}
    assert runs == {"blog": 5, "bk": 1}
    assert doc["execution"]["by_status"] == {"failed": 1, "skipped": 1, "success": 4}
    text = CliRunner().invoke(cli, ["--home", str(home), "stats", "--days", "400"])
    assert text.exit_code == 0 and "blog" in text.output and "queue wait" in text.output
    bad = CliRunner().invoke(cli, ["--home", str(home), "stats", "--days", "0"])
    assert bad.exit_code == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_are_scraped_over_http_and_parse(home: Path) -> None:
    write_log(home)
    h = Home(home)
    ws = load_workspace(h)
    server = start_metrics(
        f"127.0.0.1:{free_port()}", h, lambda: ws, lambda: NOW, queue_depth=lambda: 2
    )
    try:
        url = f"http://127.0.0.1:{server.address[1]}/metrics"
        families = {f.name: f for f in text_string_to_metric_families(httpx.get(url).text)}
        runs = {
            (s.labels["task"], s.labels["status"]): s.value
            for s in families["amgr_runs"].samples
            if s.name == "amgr_runs_total"
        }
        assert runs[("blog", "success")] == 3 and runs[("blog", "failed")] == 1
        assert runs[("bk", "success")] == 1
        dur = {
            s.labels.get("le"): s.value
            for s in families["amgr_run_duration_seconds"].samples
            if s.name.endswith("_bucket") and s.labels["task"] == "blog"
        }
        assert dur["1.0"] == 1 and dur["5.0"] == 3 and dur["+Inf"] == 4  # skips not timed
        assert families["amgr_queue_depth"].samples[0].value == 2
        assert families["amgr_up"].samples[0].value == 1
        assert "amgr_last_success_timestamp_seconds" in families
        assert "amgr_spend_today_usd" in families and "amgr_quota_used" in families
        assert "amgr_items_published" in families and "amgr_run_lateness_seconds" in families
        # a record appended after the first scrape is counted at the next one
        logs = home / ".mp" / "automation" / "logs"
        day = sorted(logs.glob("*.jsonl"))[-1]
        with day.open("a") as f:
            f.write(json.dumps(rec(0, "blog", "failed", 10)) + "\n")
        again = {f.name: f for f in text_string_to_metric_families(httpx.get(url).text)}
        value = next(
            s.value
            for s in again["amgr_runs"].samples
            if s.name == "amgr_runs_total" and s.labels == {"task": "blog", "status": "failed"}
        )
        assert value == 2
    finally:
        server.close()


def test_metrics_on_a_port_in_use_is_one_clear_message(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["--home", str(home), "run", "--metrics", f"127.0.0.1:{port}"]
        )
    assert result.exit_code == 2
    assert (
        f"--metrics: 127.0.0.1:{port}: cannot listen there: Address already in use" in result.output
    )
    assert not (home / ".mp" / "state" / "daemon.json").exists()


def test_metrics_listen_is_validated_in_config(home: Path) -> None:
    cfg = json.loads((home / "config.json").read_text())
    cfg["metrics"] = {"listen": "localhost"}
    (home / "config.json").write_text(json.dumps(cfg))
    result = CliRunner().invoke(cli, ["--home", str(home), "validate"])
    assert result.exit_code == 2 and "metrics.listen" in result.output


def test_process_type_is_in_status_history_and_every_record(home: Path) -> None:
    data = json.loads((home / "tasks.json").read_text())
    data["maintenance"].append(
        {
            "id": "probe",
            "type": "actions",
            "process_type": "monitoring",
            "schedule": "daily",
            "actions": [{"type": "report"}],
        }
    )
    (home / "tasks.json").write_text(json.dumps(data))
    runner = CliRunner()
    assert runner.invoke(cli, ["--home", str(home), "exec-now", "--task", "probe"]).exit_code == 0
    assert (
        runner.invoke(cli, ["--home", str(home), "exec-now", "--task", "pending-report"]).exit_code
        == 0
    )
    status = json.loads(runner.invoke(cli, ["--home", str(home), "status", "--json"]).stdout)
    kinds = {t["id"]: t["process_type"] for t in status["tasks"]}
    assert kinds["probe"] == "monitoring" and kinds["pending-report"] == "maintenance"
    table = runner.invoke(cli, ["--home", str(home), "status"]).output
    assert "maintenance/actions (monitoring)" in table
    out = runner.invoke(
        cli, ["--home", str(home), "history", "--process-type", "monitoring", "--json"]
    )
    records = json.loads(out.stdout)["records"]
    assert [r["task_id"] for r in records] == ["probe"]
    assert records[0]["process_type"] == "monitoring"
    bad = runner.invoke(cli, ["--home", str(home), "history", "--process-type", "ops"])
    assert bad.exit_code == 2 and "monitoring" in bad.output


def test_config_metrics_listen_is_used_by_run(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = json.loads((home / "config.json").read_text())
        cfg["metrics"] = {"listen": f"127.0.0.1:{port}"}
        (home / "config.json").write_text(json.dumps(cfg))
        result = CliRunner().invoke(cli, ["--home", str(home), "run", "--once"])
    assert result.exit_code == 2
    assert f"127.0.0.1:{port}: cannot listen there" in result.output


def test_help_status_and_history_import_neither_psutil_nor_prometheus(home: Path) -> None:
    import subprocess
    import sys

    for args in (["--help"], ["--home", str(home), "status"], ["--home", str(home), "history"]):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "automation_manager", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()}
        assert not {m for m in imported if m.split(".")[0] in ("psutil", "prometheus_client")}
