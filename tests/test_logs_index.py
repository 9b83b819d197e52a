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
from automation_manager.logs.index import COLUMNS, build_index
from automation_manager.logs.reader import decode_line, log_files, open_day
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
    spaced = "\n".join(json.dumps(r.to_json()) for r in odd).encode()
    # a hand-made line that needs normalizing: no status (only success), a float duration
    shapes = [r.to_json() for r in odd]
    del shapes[1]["status"]
    shapes[1]["duration_ms"] = 1500.0
    loose = "\n".join(json.dumps(x, indent=None) for x in shapes).encode()
    a, b, c = (build_index(x, decode_line) for x in (written, spaced, loose))
    assert len(a.col("decoded_rows")) == len(b.col("decoded_rows")) == 0  # bytes kept as is
    assert list(c.col("decoded_rows")) == [1]  # only the line needing a fix is re-encoded
    for idx in (a, b, c):
        assert idx.rows == 3 and idx.unreadable == 0
        assert [idx.statuses[c] for c in idx.col("status")] == ["interrupted", "success", "failed"]
        assert idx.tasks[idx.col("task")[2]] == 'with "quote"'
        assert list(idx.col("duration")) == [0, 1500, 0]
        assert (list(idx.col("usage_rows")), list(idx.col("prompt")), list(idx.col("cost"))) == (
            [1],
            [10],
            [0.5],
        )
        assert sorted(idx.tables().messages) == ["bad\nline ünïcode", "failed (no error recorded)"]
        assert sorted(s[0] for s in idx.pattern_stats) == [1, 1]


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


def test_a_big_closed_day_is_printed_byte_for_byte_newest_first(home: Path, tmp_path: Path) -> None:
    """A day's file over MAP_FROM is mapped, not copied; --json prints each line as written
    (through writev to a real file), newest first, and the kept index gives the same."""
    import subprocess
    import sys

    from automation_manager.logs.reader import MAP_FROM

    logs = Home(home)
    start = datetime(2025, 3, 3, 9, tzinfo=BERLIN)
    n = 0
    path = logs.logs_dir / "2025-03-03.jsonl"
    while not path.exists() or path.stat().st_size < 2 * MAP_FROM:
        append_record(
            logs, record(start + timedelta(seconds=n), f"b{n:04d}", params={"x": "y" * 500})
        )
        n += 1
    lines = path.read_bytes().splitlines()
    out = tmp_path / "out.json"
    cmd = [sys.executable, "-m", "automation_manager", "--home", str(home), "history"]
    for _ in ("cold", "warm"):
        with out.open("wb") as fh:
            subprocess.run([*cmd, "--days", "3650", "--json"], stdout=fh, check=True)
        printed = out.read_bytes()
        body = printed[printed.index(b"[\n") + 2 : printed.index(b"\n],\n")]
        assert body.split(b",\n") == lines[::-1]
        assert json.loads(printed)["summary"]["runs"] == n
    assert (logs.logs_dir / ".index" / "2025-03-03.jsonl.idx").exists()


def test_blank_hand_made_and_torn_lines_in_one_file(tmp_path: Path) -> None:
    """Odd lines send the file down the line-by-line path: each line is judged alone."""
    home = Home(tmp_path)
    when = datetime(2025, 3, 3, 9, tzinfo=BERLIN)
    good = [record(when + timedelta(minutes=i), f"g{i}").to_line() for i in range(3)]
    hand = {
        "timestamp": (when + timedelta(minutes=5)).isoformat(),
        "task_id": "h",
        "category": "publishing",
        "type": "social",
        "success": False,
    }
    data = "\n".join([good[0], "", good[1], json.dumps(hand), "   ", good[2], '{"id": "torn'])
    idx = build_index(data.encode(), decode_line)
    assert (idx.rows, idx.unreadable) == (4, 1)
    assert [idx.tasks[t] for t in idx.col("task")] == ["h", "t", "t", "t"]
    assert list(idx.col("decoded_rows")) == [0]  # only the hand-made line is re-encoded
    assert [idx.statuses[s] for s in idx.col("status")] == [
        "failed",
        "success",
        "success",
        "success",
    ]
    home.logs_dir.mkdir(parents=True)
    (home.logs_dir / "2025-03-03.jsonl").write_text(data)
    now = when + timedelta(days=2)
    got = list(query_records(home, HistoryQuery(days=3), now))
    assert [r.get("id") for r in got] == [None, "g2", "g1", "g0"]
    assert got[0]["status"] == "failed"
    assert summarize(home, HistoryQuery(days=3), now)["unreadable_lines"] == 1


def _parts(blob: bytes) -> dict[str, tuple[int, int]]:
    """Where each part of a kept index is: name -> (offset, length)."""
    first = blob.index(b"\n", 8)
    length = int(blob[8:first].split(b" ")[1])
    header = json.loads(blob[first + 1 : first + 1 + length])
    at, out = first + 1 + length, {}
    for name, size, _ in header["parts"]:
        out[name] = (at, size)
        at += size
    return out


def test_a_damaged_kept_index_is_caught_by_its_checksum_and_rebuilt(tmp_path: Path) -> None:
    home = Home(tmp_path)
    start = datetime(2025, 3, 3, 9, tzinfo=BERLIN)
    for i in range(30):
        status = "failed" if i % 3 == 0 else "success"
        append_record(
            home,
            record(
                start + timedelta(minutes=i),
                f"r{i}",
                status=status,
                duration_ms=i,
                error=None if status == "success" else "x",
                params={"topic": f"topic {i % 4}"},
            ),
        )
    now = start + timedelta(days=2)
    queries = [HistoryQuery(days=3), HistoryQuery(days=3, grep="topic 1")]
    queries += [HistoryQuery(days=1, grep="topic 2"), HistoryQuery(days=1, status="failed")]
    fresh = [summarize(home, q, now) for q in queries]
    (kept,) = (home.logs_dir / ".index").iterdir()
    good = kept.read_bytes()
    parts = _parts(good)
    assert set(parts) >= {"duration_sorted", "tables", "combo_errors", "start", "group_ends"}
    for name, (at, size) in parts.items():
        if not size:
            continue
        blob = bytearray(good)
        blob[at + size // 2] ^= 0xFF  # same length, same header: only the checksum can tell
        kept.write_bytes(bytes(blob))
        # every part is read by one of the queries: the damaged one is caught, whenever
        # it is first read, and the index built again gives the same answers
        for q, want in zip(queries, fresh, strict=True):
            assert summarize(home, q, now) == want, name
        day = open_day(home, log_files(home)[0], BERLIN, keep=True, data=False)
        for column in COLUMNS:
            day.index.col(column)
        day.index.tables()
        day.index.errors_by_combo()
        assert kept.read_bytes() == good, name  # built again and kept
    assert fresh[0]["errors"][0]["last_seen"] == (start + timedelta(minutes=27)).isoformat()


def test_a_type_this_version_does_not_know_is_still_read(tmp_path: Path) -> None:
    """A record of a task type from another amgr version is decoded the slow way, not lost."""
    when = datetime(2025, 3, 3, 9, tzinfo=BERLIN)
    known = record(when, "k1").to_line()
    other = record(when + timedelta(minutes=1), "u1").to_json()
    other["type"] = "podcast"
    idx = build_index(f"{known}\n{json.dumps(other)}\n".encode(), decode_line)
    assert (idx.rows, idx.unreadable) == (2, 0)
    assert idx.kinds[idx.col("kind")[0]] == ("content_creation", "podcast")
    assert list(idx.col("decoded_rows")) == [0]


def test_two_records_on_one_line_never_shift_the_others(tmp_path: Path) -> None:
    """msgspec reads values, not lines: two glued records on one line and one record over
    two lines add up to as many values as lines; each line must still be judged alone."""
    when = datetime(2025, 3, 3, 9, tzinfo=BERLIN)
    a, b, c, d = (record(when + timedelta(minutes=i), f"x{i}").to_line() for i in range(4))
    split_c = c.replace(',"task_id"', ',\n"task_id"')
    data = f"{a}{b}\n{split_c}\n{d}\n".encode()  # 4 lines (c over two), 4 values
    assert data.count(b"\n") == 4
    idx = build_index(data, decode_line)
    # the glued line and both halves of c are not records; a's and d's lines are fine
    assert idx.rows + idx.unreadable == 4
    rows = [bytes(data[s:e]) for s, e in zip(idx.col("start"), idx.col("end"), strict=True)]
    for line in rows:
        assert json.loads(line)["id"] in {"x0", "x1", "x2", "x3"}
    assert d.encode() in rows


def test_lines_out_of_start_order_are_sorted_and_ties_keep_later_lines_first() -> None:
    """The writer appends when a run ends, so a long run's line comes after later starts."""
    t = datetime(2025, 3, 3, 9, tzinfo=BERLIN)
    order = [(t, "a"), (t + timedelta(minutes=5), "b"), (t, "c"), (t + timedelta(minutes=1), "d")]
    data = "\n".join(record(when, rid).to_line() for when, rid in order).encode()
    idx = build_index(data, decode_line)
    ids = [
        json.loads(data[s:e])["id"] for s, e in zip(idx.col("start"), idx.col("end"), strict=True)
    ]
    assert ids == ["b", "d", "c", "a"]


def _reference(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """What every line says when decoded alone with json.loads, newest first."""
    recs: list[tuple[datetime, int, dict[str, Any]]] = []
    unreadable = 0
    for i, line in enumerate(data.split(b"\n")):
        rec = decode_line(line) if line.strip() else None
        if rec is None:
            unreadable += bool(line.strip())
            continue
        when = datetime.fromisoformat(rec["timestamp"])
        recs.append((when if when.tzinfo else when.astimezone(), i, rec))
    recs.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [r for _, _, r in recs], unreadable


def test_the_index_agrees_with_decoding_each_line_alone() -> None:
    """Random files of good, reordered, spaced, hand-made, blank, torn and glued lines:
    the index has the same records, in the same order, with the same columns."""
    import random

    rnd = random.Random(20261123)
    base = datetime(2025, 3, 30, 0, 30, tzinfo=BERLIN)  # a day the clocks go forward
    for _ in range(60):
        lines: list[str] = []
        for i in range(rnd.randint(0, 30)):
            when = base + timedelta(minutes=rnd.choice([0, 7, 50, 90, 180]) * rnd.random())
            status = rnd.choice(["success", "failed", "skipped", "interrupted"])
            usage = Usage(prompt_tokens=i, completion_tokens=2 * i, cost_usd=i / 1000, calls=1)
            rec = record(
                when,
                f"id{i}",
                task_id=rnd.choice(["a", "b", 'q"uote']),
                status=status,
                duration_ms=rnd.randint(0, 10**6),
                error=None if status == "success" else rnd.choice(["x 1", "x 2", "other"]),
                usage=usage if rnd.random() < 0.4 else None,
            )
            obj = rec.to_json()
            shape = rnd.random()
            if shape < 0.5:
                lines.append(rec.to_line())
            elif shape < 0.6:
                lines.append(json.dumps(dict(reversed(obj.items()))))  # other key order
            elif shape < 0.67:
                del obj["status"]  # needs normalizing
                lines.append(json.dumps(obj))
            elif shape < 0.72:
                obj["type"] = "future_type"
                lines.append(json.dumps(obj))
            elif shape < 0.77:
                obj["timestamp"] = when.replace(tzinfo=None).isoformat()  # naive
                lines.append(json.dumps(obj))
            elif shape < 0.82:
                lines.append(rnd.choice(["", "   ", "[1, 2]", "not json"]))
            elif shape < 0.87 and lines:
                lines[-1] += rec.to_line()  # glued to the line before
            else:
                lines.append(rec.to_line())
        if lines and rnd.random() < 0.3:
            lines[-1] = lines[-1][: rnd.randint(0, len(lines[-1]))]  # torn last line
        data = "\n".join(lines).encode() + (b"\n" if rnd.random() < 0.5 else b"")
        want, unreadable = _reference(data)
        idx = build_index(data, decode_line)
        assert (idx.rows, idx.unreadable) == (len(want), unreadable)
        got = [
            decode_line(data[s:e]) for s, e in zip(idx.col("start"), idx.col("end"), strict=True)
        ]
        assert got == want
        assert [idx.statuses[c] for c in idx.col("status")] == [r["status"] for r in want]
        assert [idx.tasks[c] for c in idx.col("task")] == [r["task_id"] for r in want]
        assert [idx.kinds[c] for c in idx.col("kind")] == [(r["category"], r["type"]) for r in want]
        assert list(idx.col("duration")) == [r.get("duration_ms", 0) for r in want]
        used = [i for i, r in enumerate(want) if r.get("usage")]
        assert list(idx.col("usage_rows")) == used
        assert list(idx.col("prompt")) == [want[i]["usage"]["prompt_tokens"] for i in used]
