"""Typed results and reports: the models the CLI renders are exactly the JSON it prints.

``status``, ``plan`` and ``history`` build typed reports; their ``to_json()`` is the
``--json`` document byte for byte, and the text views render from their attributes.
An executor's :class:`RunResult` keeps the record's ``result`` JSON in its key order.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from automation_manager.cli import cli
from automation_manager.config import load_workspace
from automation_manager.engine.overview import PlanReport, StatusReport, plan_report, status_report
from automation_manager.engine.state import DaemonInfo, InflightRun, StateStore
from automation_manager.enums import Trigger
from automation_manager.home import Home
from automation_manager.logs.history import HistoryQuery, summarize
from automation_manager.logs.summary import HistorySummary
from automation_manager.manager import AutomationManager
from automation_manager.results import RunResult

NOW = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


def amgr(home: Path, *args: str, now: datetime | None = None) -> Result:
    """``amgr --home HOME ARGS``; with ``now``, the manager's clock is stopped there."""
    obj: dict[str, Any] = {}
    if now is not None:
        fixed = now
        obj["manager"] = AutomationManager(home, clock=lambda: fixed)
    return CliRunner().invoke(cli, ["--home", str(home), *args], obj=obj)


def printed(report: StatusReport | PlanReport | HistorySummary) -> str:
    """What ``print_json`` writes for ``report``."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def write_tasks(home: Path, tasks: list[dict[str, Any]]) -> None:
    """Only these maintenance tasks, and no default schedules for their types."""
    (home / "tasks.json").write_text(json.dumps({"maintenance": tasks}))
    (home / "schedules.json").write_text("{}")


def test_status_with_a_run_in_progress_prints_its_typed_report(home: Path) -> None:
    state = StateStore(Home(home))
    state.write_daemon(DaemonInfo(pid=999_999, started_at=NOW - timedelta(hours=1)))
    state.add_inflight(
        InflightRun(
            record_id="r1",
            pid=999_999,
            task_id="weekly-blog",
            category="content_creation",
            type="blog",
            trigger=Trigger.SCHEDULED,
            started_at=NOW - timedelta(seconds=90),
        )
    )
    report = status_report(load_workspace(Home(home)), NOW)
    (run,) = report.in_progress
    assert run.task_id == "weekly-blog" and run.stale is True and run.running_s == 90.0
    assert report.daemon.running is False and report.daemon.stale_pid == 999_999
    assert [t.fire_at.utc for t in report.tasks] == sorted(t.fire_at.utc for t in report.tasks)

    shown = amgr(home, "status", "--json", now=NOW)
    assert shown.exit_code == 0, shown.output
    assert shown.output == printed(report)
    data = json.loads(shown.output)
    assert report == data  # the report reads as its JSON, key by key
    assert list(data["daemon"]) == ["running", "pid", "started_at", "mode", "stale_pid"]
    assert report["in_progress"][0]["running_s"] == 90.0

    text = amgr(home, "status", now=NOW)
    assert text.exit_code == 0, text.output
    assert "pid 999999 left state behind" in text.output
    assert "weekly-blog (stale: its daemon is gone)" in text.output and "90 s" in text.output
    q = report.quota
    assert f"content {q.content.used}/{q.content.limit}" in text.output


def test_a_home_without_daemon_state_has_no_stale_pid_key(home: Path) -> None:
    report = status_report(load_workspace(Home(home)), NOW)
    assert "stale_pid" not in report.daemon and report.daemon.stale_pid is None
    assert report.daemon.to_json() == {
        "running": False,
        "pid": None,
        "started_at": None,
        "mode": None,
    }


def test_plan_with_catch_up_prints_its_typed_report(home: Path) -> None:
    write_tasks(
        home,
        [
            {
                "id": "hourly",
                "type": "pending_report",
                "schedule": {"interval": "1h", "jitter": "5m", "misfire": "all"},
            },
            {"id": "by-hand", "type": "health_check"},
        ],
    )
    state = StateStore(Home(home))
    state.advance("hourly", NOW - timedelta(hours=3, minutes=30))
    state.flush()
    report = plan_report(load_workspace(Home(home)), NOW, days=1)
    hourly, by_hand = report.tasks
    assert hourly.timing is not None and hourly.timing.misfire == "all"
    assert hourly.timing.jitter == "5m" and hourly.timing.jitter_s == 300
    assert len(hourly.catch_up) == 4 and hourly.catch_up_note == "misfire all: 4 catch-up runs"
    assert all(f.due.utc <= f.fire_at.utc <= f.latest.utc for f in hourly.firings)
    # an unscheduled row has no timing keys at all, not nulls
    assert by_hand.timing is None and "jitter" not in by_hand and "timezone" not in by_hand
    assert list(by_hand.to_json()) == [
        "id",
        "category",
        "type",
        "enabled",
        "priority",
        "schedule",
        "firings",
        "more",
        "catch_up",
        "catch_up_note",
    ]
    assert list(hourly.to_json())[6:12] == [
        "timezone",
        "jitter_s",
        "jitter",
        "misfire",
        "grace_s",
        "last_due",
    ]

    shown = amgr(home, "plan", "--days", "1", "--json", now=NOW)
    assert shown.exit_code == 0, shown.output
    # click hands --days over as a float: the library call above passed the int 1
    assert shown.output == printed(plan_report(load_workspace(Home(home)), NOW, days=1.0))
    assert report == json.loads(shown.output)

    text = amgr(home, "plan", "--days", "1", now=NOW)
    assert text.exit_code == 0, text.output
    assert "catch-up at start: misfire all: 4 catch-up runs" in text.output
    first = datetime.fromisoformat(hourly.catch_up[0].utc).strftime("%Y-%m-%d %H:%M:%SZ")
    assert f"({first})" in text.output
    assert "(up to +5m)" in text.output
    assert "by-hand — maintenance/health_check: no schedule" in text.output


def test_history_summary_with_errors_prints_its_typed_report(home: Path) -> None:
    # a blog without a topic is refused at validation (no record): an unknown ebook fails
    blog, promote = ("content_creation", "blog"), ("monetization", "ebook_promotion")
    for args in (
        (*blog, "-p", "topic=one"),
        (*blog, "-p", "topic=two"),
        *[(*promote, "-p", "ebook_id=nope")] * 2,
    ):
        amgr(home, "exec-now", *args)
    now = datetime.now(UTC) + timedelta(seconds=1)
    summary = summarize(Home(home), HistoryQuery(days=7), now)
    assert summary.runs == 4 and summary.by_status == {"failed": 2, "success": 2}
    assert summary.success_rate == 0.5
    (error,) = summary.errors
    assert error.count == 2 and "is not a content item" in error.pattern
    (day,) = summary.per_day.values()
    assert day.runs == 4 and day.failed == 2
    assert summary.filters.status is None and summary.filters.described() == ""

    shown = amgr(home, "history", "--json", now=now)
    assert shown.exit_code == 0, shown.output
    tail = shown.output[shown.output.index('\n"summary": ') + len('\n"summary": ') :]
    assert tail == json.dumps(summary.to_json(), indent=2, ensure_ascii=False) + "}\n"
    assert summary == json.loads(shown.output)["summary"]

    text = amgr(home, "history", now=now)
    assert text.exit_code == 0, text.output
    assert "4 runs since" in text.output and "2 failed · 2 success" in text.output
    assert "success rate 50.0%" in text.output
    assert f"        2  {error.pattern}" in text.output

    failed = summarize(Home(home), HistoryQuery(days=7, failed_only=True), now)
    assert failed.filters.described() == " matching status failed"
    only = amgr(home, "history", "--failed-only", now=now)
    assert "2 runs since" in only.output and "matching status failed: 2 failed" in only.output


def exec_json(home: Path, *args: str) -> dict[str, Any]:
    shown = amgr(home, "exec-now", *args, "--json")
    assert shown.exit_code == 0, shown.output
    record: dict[str, Any] = json.loads(shown.output)
    return record


def logged(home: Path, record_id: str) -> dict[str, Any]:
    """The record as the run log holds it (the line's own key order)."""
    for path in sorted(Home(home).logs_dir.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            rec: dict[str, Any] = json.loads(line)
            if rec["id"] == record_id:
                return rec
    raise AssertionError(f"{record_id} is not in the run log")


def test_run_results_keep_their_key_order_in_the_record(home: Path) -> None:
    blog = exec_json(home, "content_creation", "blog", "-p", "topic=order")
    common = ["items", "content_id", "title", "status", "files", "summary", "provider"]
    assert list(blog["result"]) == common
    assert list(logged(home, blog["id"])["result"]) == common

    ebook = exec_json(home, "content_creation", "ebook", "-p", "topic=order", "-p", "chapters=2")
    assert list(ebook["result"]) == [*common, "chapters", "chapters_reused", "ebook_id"]
    assert ebook["result"]["ebook_id"] == ebook["result"]["content_id"]

    bundle = exec_json(home, "monetization", "bundle_creation")
    assert list(bundle["result"]) == ["items", "reason", "summary", "files", "ebooks"]
    assert bundle["result"]["items"] == 0 and bundle["result"]["ebooks"] == 1


def test_exec_now_prints_the_summary_and_files_of_its_result(home: Path) -> None:
    shown = amgr(home, "exec-now", "content_creation", "blog", "-p", "topic=describe")
    assert shown.exit_code == 0, shown.output
    (path,) = Home(home).logs_dir.glob("*.jsonl")
    record = json.loads(path.read_text().splitlines()[-1])
    made = RunResult.of(record["result"])
    assert made.summary and made.files
    lines = shown.output.splitlines()
    assert f"  {made.summary}" in lines
    assert all(f"  {file}" in lines for file in made.files)


def test_run_result_orders_keys_like_a_dict_and_reads_any_record() -> None:
    made = RunResult(summary="s", items=0, checks={"disk": True}, files=[])
    made.add(bundle_id="b1")
    made.summary = "s2"
    assert made.to_json() == {
        "summary": "s2",
        "items": 0,
        "checks": {"disk": True},
        "files": [],
    } | {"bundle_id": "b1"}
    assert list(made.to_json()) == ["summary", "items", "checks", "files", "bundle_id"]
    assert "content_id" not in made.to_json()  # unset common fields are not invented
    again = RunResult.model_validate(made.to_json())
    assert again.to_json() == made.to_json() and list(again.to_json()) == list(made.to_json())
    # a record's result that does not fit is read as empty, never a traceback
    odd = RunResult.of({"files": "not a list", "summary": 5})
    assert odd.files == [] and odd.summary is None
    assert RunResult.of(None).to_json() == {}
