"""Archiving old run logs, and the readers the engine uses (`latest_record_for`)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.enums import RunStatus
from automation_manager.home import Home
from automation_manager.logs.archive import archive_old_logs, index_closed_logs
from automation_manager.logs.reader import latest_record_for
from automation_manager.logs.records import RunRecord
from automation_manager.logs.writer import append_record

NOW = datetime(2025, 3, 31, 12, 0, tzinfo=UTC)
_seq = 0


def plant(home: Home, when: datetime, task_id: str = "t1", status: str = "success") -> RunRecord:
    global _seq
    _seq += 1
    record = RunRecord(
        id=f"r{_seq:05d}",
        timestamp=when,
        task_id=task_id,
        category="content_creation",
        type="blog",
        status=RunStatus(status),
        success=status == "success",
        error=None if status == "success" else f"{status} run",
    )
    append_record(home, record)
    return record


@pytest.fixture
def logs(tmp_path: Path) -> Home:
    return Home(tmp_path)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_files_past_retention_move_into_gzip_archives(logs: Home) -> None:
    for days in (0, 1, 30, 31, 45):
        plant(logs, NOW - timedelta(days=days))
    original = (logs.logs_dir / "2025-02-14.jsonl").read_bytes()
    done = archive_old_logs(logs, 30, NOW)
    assert [p.name for p in done] == ["2025-02-14.jsonl.gz", "2025-02-28.jsonl.gz"]
    assert names(logs.logs_dir) == ["2025-03-01.jsonl", "2025-03-30.jsonl", "2025-03-31.jsonl"]
    assert names(logs.archive_dir) == ["2025-02-14.jsonl.gz", "2025-02-28.jsonl.gz"]
    assert gzip.decompress((logs.archive_dir / "2025-02-14.jsonl.gz").read_bytes()) == original
    assert (logs.archive_dir / "2025-02-14.jsonl.gz").stat().st_mode & 0o777 == 0o600
    assert archive_old_logs(logs, 30, NOW) == []  # idempotent


def test_history_still_reads_archived_days(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert CliRunner().invoke(cli, ["init", str(home)]).exit_code == 0
    now = datetime.now(UTC)
    planted = [plant(Home(home), now - timedelta(days=d)).id for d in (1, 40, 50)]
    archive_old_logs(Home(home), 30, now)
    assert len(list(Home(home).archive_dir.iterdir())) == 2
    out = CliRunner().invoke(cli, ["--home", str(home), "history", "--days", "60", "--json"])
    assert out.exit_code == 0, out.output
    assert [r["id"] for r in json.loads(out.stdout)["records"]] == planted


def test_legacy_json_files_are_archived_too(logs: Home) -> None:
    logs.logs_dir.mkdir(parents=True)
    (logs.logs_dir / "2024-12-01.json").write_text("[]")
    assert [p.name for p in archive_old_logs(logs, 30, NOW)] == ["2024-12-01.json.gz"]


def test_a_crash_between_rename_and_removal_is_completed_without_duplicates(logs: Home) -> None:
    plant(logs, NOW - timedelta(days=40))
    source = logs.logs_dir / "2025-02-19.jsonl"
    data = source.read_bytes()
    logs.archive_dir.mkdir(parents=True)
    (logs.archive_dir / "2025-02-19.jsonl.gz").write_bytes(gzip.compress(data))
    archive_old_logs(logs, 30, NOW)
    assert not source.exists()
    assert gzip.decompress((logs.archive_dir / "2025-02-19.jsonl.gz").read_bytes()) == data


def test_a_late_record_for_an_archived_day_is_merged_into_its_archive(logs: Home) -> None:
    first = plant(logs, NOW - timedelta(days=40))
    archive_old_logs(logs, 30, NOW)
    late = plant(logs, NOW - timedelta(days=40, minutes=-5))  # a new live file for that day
    archive_old_logs(logs, 30, NOW)
    lines = gzip.decompress((logs.archive_dir / "2025-02-19.jsonl.gz").read_bytes()).splitlines()
    assert [json.loads(line)["id"] for line in lines] == [first.id, late.id]
    assert not (logs.logs_dir / "2025-02-19.jsonl").exists()


def test_retention_below_zero_is_refused(logs: Home) -> None:
    with pytest.raises(ValueError, match="log_retention_days"):
        archive_old_logs(logs, -1, NOW)


def test_latest_record_for_is_the_newest_run_that_was_not_skipped(logs: Home) -> None:
    plant(logs, NOW - timedelta(days=3), status="failed")
    success = plant(logs, NOW - timedelta(days=1))
    plant(logs, NOW - timedelta(hours=5), task_id="other", status="failed")
    plant(logs, NOW - timedelta(hours=1), status="skipped")
    rec = latest_record_for(logs, "t1", NOW)
    assert rec is not None and rec["id"] == success.id and rec["status"] == "success"
    interrupted = plant(logs, NOW - timedelta(minutes=30), status="interrupted")
    found = latest_record_for(logs, "t1", NOW)
    assert found is not None and found["id"] == interrupted.id


def test_latest_record_for_orders_by_start_time_within_a_day(logs: Home) -> None:
    later = plant(logs, NOW - timedelta(minutes=10), status="failed")
    plant(logs, NOW - timedelta(minutes=50))  # started earlier, finished (appended) later
    found = latest_record_for(logs, "t1", NOW)
    assert found is not None and found["id"] == later.id


def test_latest_record_for_looks_into_archives_but_not_past_60_days(logs: Home) -> None:
    old = plant(logs, NOW - timedelta(days=45))
    plant(logs, NOW - timedelta(days=70), task_id="ancient")
    archive_old_logs(logs, 30, NOW)
    found = latest_record_for(logs, "t1", NOW)
    assert found is not None and found["id"] == old.id
    assert latest_record_for(logs, "ancient", NOW) is None
    assert latest_record_for(logs, "never-ran", NOW) is None


def test_latest_record_for_skips_torn_lines_and_reads_legacy_files(logs: Home) -> None:
    logs.logs_dir.mkdir(parents=True)
    legacy: list[dict[str, Any]] = [
        {
            "timestamp": "2025-03-30 08:00:00",
            "category": "publishing",
            "task": {"id": "seed-task", "type": "social"},
            "result": {},
            "success": True,
        },
    ]
    (logs.logs_dir / "2025-03-30.json").write_text(json.dumps(legacy))
    (logs.logs_dir / "2025-03-31.jsonl").write_text('{"id": "x", "task_id": "seed-task", "ti')
    found = latest_record_for(logs, "seed-task", NOW)
    assert found is not None and found["status"] == "success" and found["type"] == "social"


def test_archiving_also_indexes_closed_days_but_not_today(logs: Home) -> None:
    for days in (0, 1, 2, 40):
        plant(logs, NOW - timedelta(days=days))
    archive_old_logs(logs, 30, NOW)
    kept = sorted(p.name for p in (logs.logs_dir / ".index").iterdir())
    assert kept == ["2025-02-19.jsonl.gz.idx", "2025-03-29.jsonl.idx", "2025-03-30.jsonl.idx"]
    assert index_closed_logs(logs, NOW) == 0  # all current
    plant(logs, NOW - timedelta(days=1, minutes=5))  # a late record makes one stale
    assert index_closed_logs(logs, NOW) == 1
