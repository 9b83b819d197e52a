"""The column index behind `history`: order, odd lines, and agreement with plain decoding."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from automation_manager.enums import RunStatus
from automation_manager.home import Home
from automation_manager.logs.history import HistoryQuery, query_records, summarize
from automation_manager.logs.index import build_index
from automation_manager.logs.reader import decode_line
from automation_manager.logs.records import RunRecord, Usage
from automation_manager.logs.writer import append_record

BERLIN = ZoneInfo("Europe/Berlin")


def record(when: datetime, rid: str, **fields: Any) -> RunRecord:
    status = RunStatus(fields.pop("status", "success"))
    values: dict[str, Any] = {
        "id": rid,
        "timestamp": when,
        "task_id": "t",
        "category": "content_creation",
        "type": "blog",
        "status": status,
        "success": status is RunStatus.SUCCESS,
    }
    values.update(fields)
    return RunRecord(**values)


def test_a_fall_back_day_is_ordered_by_instant_not_by_wall_clock(tmp_path: Path) -> None:
    home = Home(tmp_path)
    first = datetime(2025, 10, 26, 2, 30, tzinfo=timezone(timedelta(hours=2)))
    second = datetime(2025, 10, 26, 2, 10, tzinfo=timezone(timedelta(hours=1)))  # later
    assert second > first
    for rec in (record(first, "a"), record(second, "b")):
        append_record(home, rec)
    now = datetime(2025, 10, 27, 12, tzinfo=BERLIN)
    assert [r["id"] for r in query_records(home, HistoryQuery(days=3), now)] == ["b", "a"]


def test_runs_with_the_same_start_keep_log_order_later_line_first(tmp_path: Path) -> None:
    home = Home(tmp_path)
    when = datetime(2025, 3, 3, 9, tzinfo=BERLIN)
    for rid in ("x1", "x2", "x3"):
        append_record(home, record(when, rid))
    now = when + timedelta(hours=1)
    assert [r["id"] for r in query_records(home, HistoryQuery(days=1), now)] == ["x3", "x2", "x1"]


def test_lines_in_place_and_decoded_lines_give_the_same_columns() -> None:
    when = datetime(2025, 3, 3, 9, tzinfo=BERLIN)
    odd = [
        record(when, "q1", task_id='with "quote"', status="failed", error="bad\nline ünïcode"),
        record(
            when + timedelta(minutes=1),
            "q2",
            duration_ms=1500,
            usage=Usage(prompt_tokens=10, completion_tokens=20, cost_usd=0.5, calls=1),
        ),
        record(when + timedelta(minutes=2), "q3", status="interrupted", run_id="run-1"),
    ]
    written = "\n".join(r.to_line() for r in odd).encode()
    spaced = "\n".join(json.dumps(r.model_dump(mode="json")) for r in odd).encode()
    a, b = build_index(written, decode_line), build_index(spaced, decode_line)
    assert len(b.col("decoded_rows")) == 3  # not the writer's compact shape: all decoded
    for idx in (a, b):
        assert idx.rows == 3 and idx.unreadable == 0
        assert [idx.statuses[c] for c in idx.col("status")] == ["interrupted", "success", "failed"]
        assert idx.tasks[idx.col("task")[2]] == 'with "quote"'
        assert list(idx.col("duration")) == [0, 1500, 0]
        assert (list(idx.col("usage_rows")), list(idx.col("prompt")), list(idx.col("cost"))) == (
            [1],
            [10],
            [0.5],
        )
        assert sorted(idx.errors) == ["bad\nline ünïcode", "failed (no error recorded)"]
        assert [s[1] for s in idx.error_stats] == [1, 1]


def test_summary_is_the_same_from_a_kept_index(tmp_path: Path) -> None:
    home = Home(tmp_path)
    start = datetime(2025, 3, 1, 9, tzinfo=BERLIN)
    for i in range(40):
        status = "failed" if i % 4 == 0 else "skipped" if i % 9 == 0 else "success"
        append_record(
            home,
            record(
                start + timedelta(hours=7 * i),
                f"r{i:03d}",
                status=status,
                duration_ms=37 * i,
                error=None if status == "success" else f"err {i}",
            ),
        )
    now = start + timedelta(days=14)
    query = HistoryQuery(days=30)
    fresh = summarize(home, query, now)
    assert (home.logs_dir / ".index").is_dir()
    assert summarize(home, query, now) == fresh  # now from the kept indexes
    failed = summarize(home, HistoryQuery(days=30, failed_only=True), now)
    assert failed["runs"] == fresh["by_status"]["failed"]
    assert failed["errors"][0]["pattern"] == "err <n>"


def test_many_unindexed_days_built_in_worker_processes_give_the_same_answer(
    tmp_path: Path,
) -> None:
    """With 8+ closed days lacking an index they are built in a process pool: same answer."""
    from automation_manager.logs.reader import BUILD_IN_PROCESSES

    home = Home(tmp_path)
    start = datetime(2025, 3, 1, 9, tzinfo=BERLIN)
    days = BUILD_IN_PROCESSES + 4
    for i in range(days * 5):
        status = "failed" if i % 5 == 0 else "success"
        usage = Usage(prompt_tokens=100 + i, completion_tokens=50, cost_usd=0.001, calls=1)
        append_record(
            home,
            record(
                start + timedelta(hours=24 * (i // 5), minutes=i % 5),
                f"r{i:04d}",
                status=status,
                duration_ms=11 * i,
                usage=usage,
                error=None if status == "success" else f"err {i}",
            ),
        )
    now = start + timedelta(days=days + 1)
    query = HistoryQuery(days=30)
    cold_records = [r["id"] for r in query_records(home, query, now)]
    built = list((home.logs_dir / ".index").glob("*.idx"))
    assert len(built) >= BUILD_IN_PROCESSES
    cold = summarize(home, query, now)
    assert cold["runs"] == days * 5
    assert cold["by_status"]["failed"] == days
    for idx in built:  # rebuild everything in this process and compare
        idx.unlink()
    from automation_manager.logs import reader

    reader.BUILD_IN_PROCESSES = 10**6
    try:
        assert summarize(home, query, now) == cold
        assert [r["id"] for r in query_records(home, query, now)] == cold_records
    finally:
        reader.BUILD_IN_PROCESSES = BUILD_IN_PROCESSES
