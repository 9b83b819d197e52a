"""`amgr history` and `get_task_history`: which runs, in which order, and what they add up to."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from automation_manager import AutomationManager
from automation_manager.cli import cli
from automation_manager.enums import RunStatus, Trigger
from automation_manager.home import Home
from automation_manager.logs.history import HistoryQuery, query_records
from automation_manager.logs.index import error_pattern
from automation_manager.logs.records import RunRecord, Usage
from automation_manager.logs.writer import append_record

NOW = datetime.now(UTC)
_seq = 0


def plant(home: Path, ago: timedelta, **fields: Any) -> RunRecord:
    """Append a record that started ``ago`` before now, through the real writer."""
    global _seq
    _seq += 1
    status = RunStatus(fields.pop("status", "success"))
    values: dict[str, Any] = {
        "id": f"r{_seq:06d}",
        "timestamp": NOW - ago,
        "task_id": "daily-blog",
        "category": "content_creation",
        "type": "blog",
        "trigger": Trigger.SCHEDULED,
        "status": status,
        "success": status is RunStatus.SUCCESS,
        "params": {"topic": "deep work"},
        "result": {"summary": "ok"} if status is RunStatus.SUCCESS else None,
        "error": None if status is RunStatus.SUCCESS else "boom",
        "duration_ms": 100,
    }
    values.update(fields)
    record = RunRecord(**values)
    append_record(Home(home), record)
    return record


def run(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home), "history", *args])


def history_json(home: Path, *args: str) -> dict[str, Any]:
    result = run(home, "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def ids(home: Path, *args: str) -> list[str]:
    return [r["id"] for r in history_json(home, *args)["records"]]


def test_records_come_newest_first_across_days_and_within_a_day(home: Path) -> None:
    old = plant(home, timedelta(days=2))
    later = plant(home, timedelta(hours=1, minutes=10))
    # a long run that started earlier is appended after a short one that started later
    earlier = plant(home, timedelta(hours=1, minutes=30))
    newest = plant(home, timedelta(minutes=1))
    assert ids(home) == [newest.id, later.id, earlier.id, old.id]


def test_days_window_leaves_out_older_runs_and_their_files(home: Path) -> None:
    recent = plant(home, timedelta(days=6))
    plant(home, timedelta(days=8))
    # a damaged archive far outside the window is never opened
    archive = home / ".mp/automation/logs/archive"
    archive.mkdir(parents=True)
    (archive / f"{(NOW - timedelta(days=40)).date()}.jsonl.gz").write_bytes(b"not gzip")
    data = history_json(home, "--days", "7")
    assert [r["id"] for r in data["records"]] == [recent.id]
    assert data["summary"]["unreadable_lines"] == 0
    assert history_json(home, "--days", "60")["summary"]["unreadable_lines"] == 1


def test_filters_by_category_type_task_and_status(home: Path) -> None:
    blog = plant(home, timedelta(hours=5))
    shorts = plant(home, timedelta(hours=4), type="shorts", task_id="daily-shorts")
    pub = plant(home, timedelta(hours=3), category="publishing", type="blog", task_id="pub")
    failed = plant(home, timedelta(hours=2), status="failed")
    interrupted = plant(home, timedelta(hours=1), status="interrupted")
    skipped = plant(home, timedelta(minutes=30), status="skipped")
    assert ids(home, "--category", "publishing") == [pub.id]
    assert ids(home, "--type", "blog") == [skipped.id, interrupted.id, failed.id, pub.id, blog.id]
    assert ids(home, "--category", "content_creation", "--type", "shorts") == [shorts.id]
    assert ids(home, "--task", "daily-shorts") == [shorts.id]
    assert ids(home, "--task", "no-such-task") == []
    assert ids(home, "--success-only") == [pub.id, shorts.id, blog.id]
    assert ids(home, "--failed-only") == [interrupted.id, failed.id]
    assert ids(home, "--failed-only", "--task", "daily-blog") == [interrupted.id, failed.id]


def test_a_torn_last_line_is_skipped_and_counted(home: Path) -> None:
    first = plant(home, timedelta(minutes=5))
    path = home / f".mp/automation/logs/{(NOW - timedelta(minutes=5)).date()}.jsonl"
    whole = path.read_bytes()
    with path.open("ab") as fh:
        fh.write(whole[: len(whole) // 2])  # a crash in the middle of the next append
    data = history_json(home)
    assert [r["id"] for r in data["records"]] == [first.id]
    assert data["summary"]["unreadable_lines"] == 1
    table = run(home)
    assert table.exit_code == 0
    assert "1 unreadable log lines skipped" in table.output


def test_seed_legacy_json_file_is_read_as_records(home: Path) -> None:
    day = (NOW - timedelta(days=1)).date()
    legacy = [
        {
            "timestamp": f"{day} 09:00:00",
            "category": "content_creation",
            "task": {"type": "shorts", "topic": "focus", "api_key": "sk-secret"},
            "result": {"title": "Focus"},
            "success": True,
        },
        {
            "timestamp": f"{day} 10:30:00",
            "category": "publishing",
            "task": {"id": "pub-1", "type": "social"},
            "result": {"error": "429 Too Many Requests"},
            "success": False,
        },
    ]
    logs = home / ".mp/automation/logs"
    logs.mkdir(parents=True)
    (logs / f"{day}.json").write_text(json.dumps(legacy))
    records = history_json(home)["records"]
    assert [(r["type"], r["status"], r["task_id"]) for r in records] == [
        ("social", "failed", "pub-1"),
        ("shorts", "success", "content_creation-shorts"),
    ]
    assert records[0]["error"] == "429 Too Many Requests"
    assert records[0]["timestamp"] == f"{day}T10:30:00+00:00"
    assert records[1]["params"]["api_key"] == "***"


def test_json_prints_exactly_records_and_summary(home: Path) -> None:
    plant(home, timedelta(minutes=2))
    result = run(home, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)  # one document, nothing else on stdout
    assert list(data) == ["records", "summary"]
    rec = data["records"][0]
    assert {
        "id",
        "timestamp",
        "task_id",
        "category",
        "type",
        "trigger",
        "attempt",
        "scheduled_for",
        "status",
        "success",
        "params",
        "result",
        "error",
        "duration_ms",
        "usage",
    } <= set(rec)
    assert data["summary"]["runs"] == 1
    empty = json.loads(run(home, "--json", "--task", "nothing").stdout)
    assert empty["records"] == [] and empty["summary"]["runs"] == 0


def test_json_limit_keeps_the_newest_but_summarizes_all(home: Path) -> None:
    planted = [plant(home, timedelta(minutes=m)) for m in (30, 20, 10)]
    data = history_json(home, "--limit", "2")
    assert [r["id"] for r in data["records"]] == [planted[2].id, planted[1].id]
    assert data["summary"]["runs"] == 3


def test_csv_has_a_header_and_one_flat_row_per_record(home: Path) -> None:
    plant(
        home,
        timedelta(minutes=9),
        usage=Usage(prompt_tokens=12, completion_tokens=30, cost_usd=0.25, calls=1),
    )
    plant(home, timedelta(minutes=3), status="failed", error='bad "quote", comma')
    result = run(home, "--csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.stdout.splitlines()[0].startswith("id,timestamp,task_id,category,type")
    assert [r["status"] for r in rows] == ["failed", "success"]
    assert rows[0]["error"] == 'bad "quote", comma'
    assert rows[0]["prompt_tokens"] == ""
    assert (rows[1]["prompt_tokens"], rows[1]["completion_tokens"]) == ("12", "30")
    assert float(rows[1]["cost_usd"]) == 0.25
    assert json.loads(rows[1]["params"]) == {"topic": "deep work"}
    assert json.loads(rows[1]["result"]) == {"summary": "ok"}
    assert rows[1]["success"] == "true"


def test_csv_limit_keeps_the_newest_rows_across_days(home: Path) -> None:
    newest = [plant(home, timedelta(days=d, minutes=5)) for d in (0, 1, 2)]
    for args, want in ((["--limit", "2"], 2), (["--limit", "0"], 0), ([], 3)):
        result = run(home, "--csv", *args)
        assert result.exit_code == 0
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [r["id"] for r in rows] == [r.id for r in newest][:want]


def test_summary_adds_up_planted_runs(home: Path) -> None:
    for i, ms in enumerate(range(100, 1100, 100)):  # ten runs: 100 ms .. 1000 ms
        plant(
            home,
            timedelta(hours=i + 1),
            duration_ms=ms,
            status="failed" if ms in (300, 700) else "success",
        )
    plant(home, timedelta(minutes=5), status="skipped", duration_ms=0)
    plant(
        home,
        timedelta(days=1, hours=2),
        duration_ms=500,
        usage=Usage(prompt_tokens=100, completion_tokens=200, cost_usd=0.01, calls=1),
    )
    plant(
        home,
        timedelta(days=1, hours=3),
        duration_ms=500,
        type="shorts",
        usage=Usage(prompt_tokens=50, completion_tokens=25, cost_usd=0.002, calls=2),
    )
    s = history_json(home)["summary"]
    assert s["runs"] == 13
    assert s["by_status"] == {"failed": 2, "skipped": 1, "success": 10}
    assert s["success_rate"] == round(10 / 12, 4)  # skipped runs did not run
    # nearest rank over the 12 runs that ran: 100..1000 plus two 500s
    assert s["duration_ms"] == {"p50": 500, "p95": 1000, "max": 1000}
    assert s["tokens"] == {"prompt": 150, "completion": 225, "total": 375}
    assert s["cost_usd"] == pytest.approx(0.012)
    assert s["per_type"]["content_creation/blog"]["prompt_tokens"] == 100
    assert s["per_type"]["content_creation/shorts"]["cost_usd"] == pytest.approx(0.002)
    day = str((NOW - timedelta(days=1, hours=2)).date())
    assert s["per_day"][day]["prompt_tokens"] >= 100
    assert sum(d["runs"] for d in s["per_day"].values()) == 13


def test_similar_errors_group_into_one_pattern(home: Path) -> None:
    for i, wait in enumerate((12, 37, 5)):
        plant(
            home,
            timedelta(minutes=10 + i),
            status="failed",
            error=f"HTTP 429 from https://api.example.com/v1/chat?x={wait}: retry after {wait}s",
        )
    plant(home, timedelta(minutes=20), status="failed", error="timeout after 30 s")
    plant(home, timedelta(minutes=21), status="interrupted", error="timeout after 120 s")
    plant(home, timedelta(minutes=22), status="failed", error="cannot write post-a1b2c3d4e5.md")
    errors = history_json(home)["summary"]["errors"]
    assert [(e["pattern"], e["count"]) for e in errors] == [
        ("HTTP 429 from https://api.example.com/v1/chat: retry after <n>s", 3),
        ("timeout after <n> s", 2),
        ("cannot write <id>.md", 1),
    ]
    assert errors[0]["example"].endswith("retry after 12s")  # the newest one
    report = run(home).output
    assert "most common errors:" in report
    assert "HTTP 429" in report


def test_error_pattern_keeps_status_codes_and_hides_ids() -> None:
    assert (
        error_pattern("401 Unauthorized for run r01a2b3c4d5e6f7") == "401 Unauthorized for run <id>"
    )
    assert error_pattern("took 2.5 s,  then\nfailed") == "took <n> s, then failed"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--json", "--csv"], "--json and --csv"),
        (["--success-only", "--failed-only"], "--success-only and --failed-only"),
        (["--days", "0"], "--days 0"),
        (["--days", "x"], "'x' is not a valid integer"),
        (["--limit", "-1"], "--limit -1"),
        (["--category", "nope"], "content_creation, publishing, monetization"),
        (["--type", "podcast"], "unknown type"),
        (["--category", "publishing", "--type", "ebook_promotion"], "unknown type in publishing"),
    ],
)
def test_bad_flags_exit_2_with_a_clear_message(home: Path, args: list[str], fragment: str) -> None:
    result = run(home, *args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_piped_table_shows_the_newest_runs_and_how_many_there_are(home: Path) -> None:
    for minutes in range(60, 0, -1):
        plant(home, timedelta(minutes=minutes), duration_ms=1500)
    result = run(home)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["time", "task", "category"]
    assert len([ln for ln in lines if "\tdaily-blog\t" in ln]) == 50
    assert "showing 50 of 60 runs" in result.stdout
    assert "60 runs since" in result.stdout and "success rate 100.0%" in result.stdout
    assert "\x1b[" not in result.stdout and "┃" not in result.stdout
    assert "showing 5 of 60" in run(home, "--limit", "5").stdout


def test_empty_history_says_so(home: Path) -> None:
    result = run(home, "--failed-only")
    assert result.exit_code == 0
    assert "no runs in the last 7 days matching status failed" in result.stdout


def test_get_task_history_returns_newest_first_dicts(home: Path) -> None:
    older = plant(home, timedelta(days=3), category="monetization", type="sales_report")
    newer = plant(home, timedelta(hours=1))
    failed = plant(home, timedelta(minutes=5), status="failed")
    mgr = AutomationManager(home)
    assert [r["id"] for r in mgr.get_task_history()] == [failed.id, newer.id, older.id]
    assert [r["id"] for r in mgr.get_task_history(days=1)] == [failed.id, newer.id]
    assert [r["id"] for r in mgr.get_task_history(category="monetization")] == [older.id]
    assert [r["id"] for r in mgr.get_task_history(success_only=True)] == [newer.id, older.id]


def test_query_records_reads_records_not_in_the_writers_shape(home: Path) -> None:
    day = NOW - timedelta(hours=2)
    path = home / f".mp/automation/logs/{day.date()}.jsonl"
    path.parent.mkdir(parents=True)
    hand_written = {
        "timestamp": day.isoformat(),
        "category": "publishing",
        "type": "social",
        "task_id": "by-hand",
        "success": False,
        "error": "nope",
    }
    path.write_text(json.dumps(hand_written, indent=None) + "\n")
    q = HistoryQuery(days=1)
    (rec,) = query_records(Home(home), q, NOW)
    assert rec["status"] == "failed" and rec["task_id"] == "by-hand"
    out = history_json(home)
    assert out["records"][0]["status"] == "failed"  # normalized, also in --json
    assert out["summary"]["errors"][0]["pattern"] == "nope"


def test_closed_days_are_indexed_and_a_changed_file_is_read_again(home: Path) -> None:
    first = plant(home, timedelta(days=2))
    assert ids(home) == [first.id]
    index_dir = home / ".mp/automation/logs/.index"
    assert [p.name for p in index_dir.iterdir()] == [
        f"{(NOW - timedelta(days=2)).date()}.jsonl.idx"
    ]
    late = plant(home, timedelta(days=2, minutes=-1))  # appended to the closed day later
    assert ids(home) == [late.id, first.id]
    # a damaged index is ignored, not trusted
    (idx,) = index_dir.iterdir()
    idx.write_bytes(idx.read_bytes()[:-3])
    assert ids(home) == [late.id, first.id]


def test_archives_are_read_like_daily_files(home: Path) -> None:
    rec = plant(home, timedelta(days=3))
    logs = home / ".mp/automation/logs"
    name = f"{(NOW - timedelta(days=3)).date()}.jsonl"
    (logs / "archive").mkdir()
    (logs / "archive" / f"{name}.gz").write_bytes(gzip.compress((logs / name).read_bytes()))
    (logs / name).unlink()
    assert ids(home) == [rec.id]


def test_a_reader_that_stops_early_ends_history_quietly(home: Path) -> None:
    for minutes in range(400, 0, -1):
        plant(home, timedelta(minutes=minutes), params={"topic": "x" * 400})
    for args in (["--json"], ["--csv"]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "automation_manager", "--home", str(home), "history", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(10)
        proc.stdout.close()
        assert proc.wait(timeout=60) == 0
        assert proc.stderr.read() == b""


@pytest.mark.parametrize("args", [["--help"], ["validate"], ["history"], ["history", "--json"]])
def test_help_validate_and_history_never_import_openai(home: Path, args: list[str]) -> None:
    plant(home, timedelta(minutes=1))
    code = (
        "import sys\n"
        "from automation_manager.cli import main\n"
        "sys.argv = ['amgr', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "sys.stderr.write('\\nopenai imported: %s' % ('openai' in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith("openai imported: False")


def test_percentile_over_sorted_chunks_is_the_nearest_rank_of_all_of_them() -> None:
    """The summary's p50/p95 over a year of per-day chunks equal the nearest-rank
    percentile of every duration together, whatever the chunks' sizes and overlaps."""
    import random
    from array import array

    from automation_manager.logs.history import percentile

    rng = random.Random(19)
    for trial in range(400):
        chunks = []
        for _ in range(rng.randint(1, 12)):
            size = rng.choice((0, 1, 2, 5, 40))
            spread = rng.choice((3, 100, 10_000))
            offset = rng.randint(0, 5_000) if trial % 2 else 0
            chunks.append(array("i", sorted(offset + rng.randint(0, spread) for _ in range(size))))
        every = sorted(v for c in chunks for v in c)
        for p in (1, 50, 95, 99, 100):
            want = every[max(1, -(-len(every) * p // 100)) - 1] if every else None
            assert percentile(chunks, p) == want, (p, chunks)
