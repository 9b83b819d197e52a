"""The kept column index behind `history` (format 5): whatever happens to a log file or
to its index, the answer is the one a fresh read of the log gives."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from test_history import NOW, history_json, plant

from automation_manager.dashboard.app import create_app
from automation_manager.home import Home
from automation_manager.logs.archive import archive_old_logs
from automation_manager.logs.index import error_pattern
from automation_manager.logs.records import Usage

TOKEN = "t" * 64


def index_dir(home: Path) -> Path:
    return Home(home).logs_dir / ".index"


def fresh(home: Path, *args: str) -> dict[str, Any]:
    """The answer with no kept index at all (every file read and indexed again)."""
    shutil.rmtree(index_dir(home), ignore_errors=True)
    return answer(home, *args)


def answer(home: Path, *args: str) -> dict[str, Any]:
    """``history --json``, but the window's ends (which move with the clock)."""
    doc = history_json(home, *args)
    return {**doc, "summary": {k: v for k, v in doc["summary"].items() if k not in WINDOW}}


WINDOW = ("since", "until")


def mixed_days(home: Path, days: int = 5) -> None:
    """A few records a day over ``days`` closed days: every status, several kinds and
    tasks, LLM usage, errors, topics (one needing Unicode lower-casing)."""
    for d in range(1, days + 1):
        # noon of the day d days ago: its records (up to 20 minutes later) all fall on
        # that day, whatever the time of day now
        noon = NOW.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=d)
        base = NOW - noon
        plant(home, base, usage=Usage(prompt_tokens=10 * d, completion_tokens=5, cost_usd=0.01))
        plant(
            home,
            base - timedelta(minutes=5),
            status="failed",
            error=f"HTTP 429 after {d}s",
            usage=Usage(prompt_tokens=7, completion_tokens=d, cost_usd=0.003 * d),
            duration_ms=40 + d,
        )
        plant(
            home,
            base - timedelta(minutes=9),
            status="failed",
            task_id="weekly-book",
            type="ebook",
            error="timeout after 30 s",
            params={"topic": "İstanbul guide"},
        )
        plant(home, base - timedelta(minutes=12), status="interrupted", error="stopped")
        plant(
            home,
            base - timedelta(minutes=15),
            status="skipped",
            category="publishing",
            type="pending",
            task_id="pub",
            error="max_daily_content reached — wait",
            process_type="maintenance",
        )
        plant(home, base - timedelta(minutes=20), category="maintenance", type="health_check")


def test_a_day_appended_to_after_its_index_was_kept_is_read_again(home: Path) -> None:
    plant(home, timedelta(days=3))
    plant(home, timedelta(days=3, minutes=-5), status="failed")
    first = history_json(home, "--days", "7")
    assert first["summary"]["runs"] == 2
    assert list(index_dir(home).glob("*.idx"))  # the closed day's index is kept
    late = plant(home, timedelta(days=3, minutes=-10))  # a late record for that day
    again = answer(home, "--days", "7")
    assert again["records"][0]["id"] == late.id
    assert again["summary"]["runs"] == 3
    assert again == fresh(home, "--days", "7")


def test_a_torn_or_damaged_index_is_rebuilt_and_gives_the_same_answer(home: Path) -> None:
    mixed_days(home)
    # the window starts far before the records, so that every day's file is read by its
    # groups (not row by row, as the window's first days are, whatever the time of day):
    # between them the queries read every part of every kept index
    queries = [
        ["--days", "30"],
        ["--days", "30", "--failed-only"],
        ["--days", "30", "--grep", "timeout"],
    ]
    want = [fresh(home, *q) for q in queries]
    kept = {p: p.read_bytes() for p in index_dir(home).glob("*.idx")}
    assert len(kept) == 5
    damages = [
        lambda b: b[: len(b) // 2],  # torn
        lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]),  # a flipped byte in the columns
        lambda b: b[:20] + b"0" + b[21:],  # a flipped byte in the header
        lambda b: b"",  # emptied
        lambda b: b.replace(b"AMGRIDX", b"AMGRIDY", 1),  # another format
    ]
    for damage in damages:
        for path, blob in kept.items():
            path.write_bytes(damage(blob))
        for q, expected in zip(queries, want, strict=True):
            assert answer(home, *q) == expected
        for path, blob in kept.items():
            assert path.read_bytes() == blob  # rebuilt, as it was


def test_archived_days_give_the_same_answer(home: Path) -> None:
    mixed_days(home, days=40)
    queries = [["--days", "60"], ["--days", "60", "--status", "failed"], ["--grep", "istanbul"]]
    want = [fresh(home, *q) for q in queries]
    archived = archive_old_logs(Home(home), 30, NOW)
    assert len(archived) >= 9
    assert [answer(home, *q) for q in queries] == want


def expected(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What the summary must say of ``records``, worked out from the records alone."""
    ran = [r for r in records if r["status"] != "skipped"]
    durations = sorted(r["duration_ms"] for r in ran)
    used = [r for r in records if r.get("usage")]
    per_type: dict[str, list[int]] = {}
    for r in used:
        t = per_type.setdefault(f"{r['category']}/{r['type']}", [0, 0, 0])
        t[0] += 1
        t[1] += r["usage"]["prompt_tokens"]
        t[2] += r["usage"]["completion_tokens"]
    errors: dict[str, int] = {}
    for r in records:
        if r["status"] in ("failed", "interrupted"):
            pattern = error_pattern(r["error"] or "failed (no error recorded)")
            errors[pattern] = errors.get(pattern, 0) + 1

    def rank(p: float) -> int | None:
        return durations[max(1, -(-len(durations) * p // 100)) - 1] if durations else None

    return {
        "runs": len(records),
        "by_status": dict(sorted(Counter(r["status"] for r in records).items())),
        "duration_ms": {"p50": rank(50), "p95": rank(95), "max": rank(100)},
        "tokens": sum(r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"] for r in used),
        "per_day": dict(Counter(r["timestamp"][:10] for r in records)),
        "per_type": {k: v for k, v in sorted(per_type.items())},
        "errors": errors,
    }


def said(summary: dict[str, Any]) -> dict[str, Any]:
    """The parts of a summary :func:`expected` works out."""
    return {
        "runs": summary["runs"],
        "by_status": summary["by_status"],
        "duration_ms": summary["duration_ms"],
        "tokens": summary["tokens"]["total"],
        "per_day": {d: v["runs"] for d, v in summary["per_day"].items()},
        "per_type": {
            k: [v["runs_with_usage"], v["prompt_tokens"], v["completion_tokens"]]
            for k, v in summary["per_type"].items()
        },
        "errors": {e["pattern"]: e["count"] for e in summary["errors"]},
    }


def test_group_sums_agree_with_the_records_themselves(home: Path) -> None:
    mixed_days(home, days=6)
    everything = history_json(home, "--days", "30")["records"]
    # days between the window's ends add their (status, kind, task) groups' kept sums
    for q, keep in (
        (["--status", "failed"], lambda r: r["status"] == "failed"),
        (["--failed-only"], lambda r: r["status"] in ("failed", "interrupted")),
        (
            ["--success-only", "--type", "blog"],
            lambda r: r["status"] == "success" and r["type"] == "blog",
        ),
        (["--category", "publishing"], lambda r: r["category"] == "publishing"),
        (["--task", "weekly-book"], lambda r: r["task_id"] == "weekly-book"),
        ([], lambda r: True),
    ):
        doc = history_json(home, "--days", "30", *q)
        chosen = [r for r in everything if keep(r)]
        assert doc["records"] == chosen, q
        assert said(doc["summary"]) == expected(chosen), q


def test_a_few_rows_of_big_days_add_up_like_the_groups_they_make(home: Path) -> None:
    mixed_days(home, days=3)
    for d in range(1, 4):
        for i in range(40):
            plant(home, timedelta(days=d, hours=5, minutes=i), type="ebook", task_id="hc")
    by_text = answer(home, "--days", "30", "--grep", "http 429")
    by_groups = answer(home, "--days", "30", "--task", "daily-blog", "--status", "failed")
    assert by_text["summary"]["runs"] == 3
    assert by_text["summary"]["tokens"]["total"] == 7 * 3 + 6
    del by_text["summary"]["filters"], by_groups["summary"]["filters"]
    assert by_text == by_groups


def test_text_filters_from_the_index_match_the_records_themselves(home: Path) -> None:
    mixed_days(home, days=4)
    everything = history_json(home, "--days", "30")["records"]

    def holds(rec: dict[str, Any], needle: str) -> bool:
        hay = [rec.get("error")] + [(rec.get(p) or {}).get("topic") for p in ("params", "result")]
        return any(isinstance(h, str) and needle.lower() in h.lower() for h in hay)

    for needle in ("timeout", "HTTP 429", "İSTANBUL", "i̇stanbul", "deep", "reached — w", "zzz"):
        got = [r["id"] for r in history_json(home, "--days", "30", "--grep", needle)["records"]]
        assert got == [r["id"] for r in everything if holds(r, needle)], needle
    maintenance = history_json(home, "--days", "30", "--process-type", "maintenance")
    # the skipped publishing runs say so themselves; health checks have their category's
    assert {r["type"] for r in maintenance["records"]} == {"pending", "health_check"}
    assert maintenance["summary"]["runs"] == 8


def test_the_dashboard_sees_records_written_after_it_kept_an_index(home: Path) -> None:
    mixed_days(home, days=3)
    client = TestClient(create_app(Home(home), TOKEN, hosts=None), base_url="http://127.0.0.1")
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def page(query: str) -> dict[str, Any]:
        resp = client.get("/api/history" + query, headers=auth)
        assert resp.status_code == 200, resp.text
        doc: dict[str, Any] = resp.json()
        return doc

    before = page("?days=30&status=failed")
    assert before["summary"]["runs"] == 6
    late = plant(home, timedelta(days=2, hours=1), status="failed", error="late one")
    today = plant(home, timedelta(minutes=1), status="failed", error="just now")
    after = page("?days=30&status=failed")
    assert after["summary"]["runs"] == 8
    assert [r["id"] for r in after["records"][:1]] == [today.id]
    assert late.id in [r["id"] for r in after["records"]]
    assert page("?days=30&text=late+one")["summary"]["runs"] == 1
    cli = fresh(home, "--days", "30", "--status", "failed")
    assert {
        **after,
        "summary": {k: v for k, v in after["summary"].items() if k not in WINDOW},
    } == cli
