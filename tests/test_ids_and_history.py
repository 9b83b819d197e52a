"""Ids by unique prefix (content, runs, records), ``--json`` on content and run changes,
and ``amgr history show|--since|--until|--status|--grep|-f``."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import add_item, amgr, item_json, write_home

from automation_manager.home import Home
from automation_manager.ids import resolve_prefix, short_forms
from automation_manager.logs.records import RunRecord, Usage
from automation_manager.logs.writer import append_record
from automation_manager.runs.models import RunPhase
from automation_manager.runs.store import RunStore

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = datetime.now(UTC)


@pytest.fixture
def queue_home(tmp_path: Path) -> Path:
    return write_home(tmp_path / "q", {"site": {"kind": "filesystem", "path": "site"}})


def plant(home: Path, rid: str, ago: timedelta, **fields: Any) -> RunRecord:
    """Append a record through the real writer."""
    status = fields.pop("status", "success")
    values: dict[str, Any] = {
        "id": rid,
        "timestamp": NOW - ago,
        "task_id": "daily-blog",
        "category": "content_creation",
        "type": "blog",
        "status": status,
        "success": status == "success",
        "params": {"topic": "deep work"},
        "result": {"url": "https://example.org/p/1"} if status == "success" else None,
        "error": None if status == "success" else "boom: upstream timeout",
        "duration_ms": 100,
    }
    values.update(fields)
    record = RunRecord(**values)
    append_record(Home(home), record)
    return record


def paths_under(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- the resolver ---------------------------------------------------------------------------


def test_resolver_takes_exact_unique_prefix_and_lists_candidates() -> None:
    ids = ["blog-2026-a", "blog-2026-b", "blog-2026", "shorts-1"]
    assert resolve_prefix("content item", "blog-2026", ids) == "blog-2026"  # exact wins
    assert resolve_prefix("content item", "sh", ids) == "shorts-1"
    with pytest.raises(Exception) as err:
        resolve_prefix("content item", "blog-2026-", ids, hint="amgr content list")
    assert "blog-2026-a, blog-2026-b" in str(err.value) and "prefix of 2" in str(err.value)
    many = [f"r{i:03d}" for i in range(25)]
    with pytest.raises(Exception) as err:
        resolve_prefix("record", "r0", many)
    assert "and 15 more" in str(err.value)
    short = short_forms(["r0001aaaa1", "r0001aaaa2", "zz"], min_len=3)
    assert short == {"r0001aaaa1": "r0001aaaa1", "r0001aaaa2": "r0001aaaa2", "zz": "zz"}
    assert short_forms(["abcdefghij", "abcdzzzzzz"], min_len=2) == {
        "abcdefghij": "abcde",
        "abcdzzzzzz": "abcdz",
    }


# -- content ----------------------------------------------------------------------------------


def test_content_commands_take_a_unique_prefix(queue_home: Path) -> None:
    one = add_item(queue_home, status="review", now=T0)
    two = add_item(queue_home, "shorts", "Clip", status="failed", now=T0)
    show = amgr(queue_home, "content", "show", one[:14], "--json")
    assert show.exit_code == 0 and json.loads(show.output)["id"] == one
    approve = amgr(queue_home, "content", "approve", "blog-", "--json")
    assert approve.exit_code == 0
    data = json.loads(approve.output)  # one document, nothing else on stdout
    assert data["id"] == one and data["status"] == "pending"
    retry = amgr(queue_home, "content", "retry", "shorts", "--json")
    assert retry.exit_code == 0 and json.loads(retry.output)["status"] == "pending"
    assert json.loads(retry.output)["reset"] == []
    reject = amgr(queue_home, "content", "reject", two, "--reason", "off", "--json")
    assert reject.exit_code == 0 and json.loads(reject.output)["status"] == "rejected"
    assert item_json(queue_home, two)["history"][-1]["note"].endswith("off")


def test_an_ambiguous_content_prefix_exits_2_listing_candidates(queue_home: Path) -> None:
    one = add_item(queue_home, status="review", now=T0)
    two = add_item(queue_home, "blog", "Deep work again", status="review", now=T0)
    before = paths_under(queue_home)
    for verb in ("show", "approve", "reject", "retry"):
        result = amgr(queue_home, "content", verb, "blog-2026")
        assert result.exit_code == 2, verb
        assert one in result.output and two in result.output
        assert "Traceback" not in result.output
    missing = amgr(queue_home, "content", "approve", "nothing-like-it")
    assert missing.exit_code == 2 and "amgr content list" in missing.output
    assert paths_under(queue_home) == before


def test_content_list_shows_short_ids_on_a_tty_and_whole_cells_piped(
    queue_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_title = "A title that is much longer than fifty characters, kept whole when piped"
    item = add_item(queue_home, title=long_title, now=T0)
    piped = amgr(queue_home, "content", "list")
    assert item in piped.output and long_title in piped.output and "…" not in piped.output
    monkeypatch.setattr("automation_manager.cli.content.is_tty", lambda: True)
    monkeypatch.setattr("automation_manager.cli.output.is_tty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    tty = amgr(queue_home, "content", "list")
    assert tty.exit_code == 0
    assert item not in tty.output and item[:8] in tty.output


# -- runs -------------------------------------------------------------------------------------


def _paused_able_run(home: Path) -> str:
    """A finished ebook run, set back to running as if its worker had died."""
    assert amgr(home, "exec-now", "content_creation", "ebook", "-p", "topic=x").exit_code == 0
    store = RunStore(Home(home))
    [state] = store.all()
    state.status = RunPhase.RUNNING
    store.save(state)
    return state.id


def test_run_controls_take_a_prefix_and_print_json(home: Path) -> None:
    run_id = _paused_able_run(home)
    paused = amgr(home, "runs", "pause", run_id[:10], "--json")
    assert paused.exit_code == 0
    data = json.loads(paused.output)
    assert data["id"] == run_id and data["status"] == "paused" and "planned" in data
    resumed = amgr(home, "runs", "resume", run_id[:10], "--json")
    assert resumed.exit_code == 0 and json.loads(resumed.output)["id"] == run_id
    cancelled = amgr(home, "runs", "cancel", run_id[:10], "--json")
    assert cancelled.exit_code == 0 and json.loads(cancelled.output)["status"] == "cancelled"
    shown = amgr(home, "runs", "show", run_id[:10], "--json")
    assert json.loads(shown.output)["status"] == "cancelled"
    again = amgr(home, "runs", "cancel", run_id[:10], "--json")
    assert again.exit_code == 2  # same exit codes with --json


def test_an_ambiguous_run_prefix_exits_2_and_changes_nothing(home: Path) -> None:
    run_id = _paused_able_run(home)
    store = RunStore(Home(home))
    twin = store.get(run_id).model_copy(update={"id": run_id[:-1] + "z"})
    store.save(twin)
    before = paths_under(home / ".mp" / "runs")
    result = amgr(home, "runs", "pause", run_id[:-1])
    assert result.exit_code == 2
    assert run_id in result.output and twin.id in result.output
    assert paths_under(home / ".mp" / "runs") == before


# -- history ----------------------------------------------------------------------------------


def test_history_show_prints_one_record_whole_by_prefix(home: Path) -> None:
    plant(home, "rabc123first", timedelta(hours=2), usage=Usage(prompt_tokens=7, calls=1))
    plant(home, "rabc999other", timedelta(hours=1), status="failed")
    text = amgr(home, "history", "show", "rabc1")
    assert text.exit_code == 0, text.output
    assert "rabc123first" in text.output and "https://example.org/p/1" in text.output
    assert '"topic": "deep work"' in text.output and '"prompt_tokens": 7' in text.output
    data = json.loads(amgr(home, "history", "show", "rabc9", "--json").output)
    assert data["id"] == "rabc999other" and data["error"] == "boom: upstream timeout"
    ambiguous = amgr(home, "history", "show", "rabc")
    assert ambiguous.exit_code == 2
    assert "rabc123first" in ambiguous.output and "rabc999other" in ambiguous.output
    assert amgr(home, "history", "show", "rnothing").exit_code == 2


def _ids(home: Path, *args: str) -> list[str]:
    result = amgr(home, "history", "--json", *args)
    assert result.exit_code == 0, result.output
    return [r["id"] for r in json.loads(result.output)["records"]]


def test_history_since_until_status_and_grep(home: Path) -> None:
    plant(home, "rold", timedelta(days=3))
    plant(home, "rmid", timedelta(hours=5), status="failed")
    plant(home, "rnew", timedelta(minutes=30), params={"topic": "Quiet Focus"})
    plant(home, "rskip", timedelta(minutes=10), status="skipped", error="quota reached")
    assert _ids(home, "--since", "2h") == ["rskip", "rnew"]
    assert _ids(home, "--since", "4d", "--until", "1h") == ["rmid", "rold"]
    day = (NOW - timedelta(days=3)).astimezone().date().isoformat()
    assert "rold" in _ids(home, "--since", day, "--days", "1")
    iso = (NOW - timedelta(hours=6)).astimezone().isoformat(timespec="seconds")
    assert _ids(home, "--since", iso) == ["rskip", "rnew", "rmid"]
    assert _ids(home, "--status", "failed") == ["rmid"]
    assert _ids(home, "--status", "skipped") == ["rskip"]
    assert _ids(home, "--grep", "TIMEOUT") == ["rmid"]
    assert _ids(home, "--grep", "quiet focus") == ["rnew"]
    summary = json.loads(amgr(home, "history", "--json", "--status", "failed").output)
    assert summary["summary"]["runs"] == 1 and summary["summary"]["days"] == 7
    # the summary's days are the window's, whole days rounded up
    spans = json.loads(amgr(home, "history", "--json", "--since", "4d", "--until", "1h").output)
    assert spans["summary"]["days"] == 4
    assert (
        json.loads(amgr(home, "history", "--json", "--since", "2h").output)["summary"]["days"] == 1
    )
    for bad in (["--since", "yesterdayish"], ["--until", "2026-13-40"]):
        result = amgr(home, "history", *bad)
        assert result.exit_code == 2 and bad[0] in result.output
        assert "Traceback" not in result.output


def test_history_follow_prints_a_record_a_run_appends(home: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    base = [sys.executable, "-m", "automation_manager", "--home", str(home)]
    follower = subprocess.Popen(
        [*base, "history", "-f", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert follower.stderr is not None and follower.stdout is not None
        assert b"following" in follower.stderr.readline()  # the tail is open
        ran = subprocess.run(
            [*base, "exec-now", "content_creation", "blog", "-p", "topic=followed"],
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert ran.returncode == 0, ran.stderr
        sel = selectors.DefaultSelector()
        sel.register(follower.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 20
        line = b""
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            if sel.select(timeout=0.5):
                line += follower.stdout.readline()
        rec = json.loads(line)
        assert rec["params"]["topic"] == "followed" and rec["status"] == "success"
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=10) == 0
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()


def test_tail_follows_across_midnight_and_waits_for_whole_lines(home: Path) -> None:
    from automation_manager.logs.history import HistoryQuery
    from automation_manager.logs.lookup import Tail

    clock = [datetime(2026, 11, 30, 23, 59, 50).astimezone()]
    before = clock[0] - timedelta(minutes=5)
    plant(home, "rbefore", NOW - before)  # already there: not printed
    tail = Tail(Home(home), HistoryQuery(status="success"), lambda: clock[0])
    assert tail.poll() == []
    plant(home, "rlate", NOW - clock[0])
    plant(home, "rfailed", NOW - clock[0], status="failed")  # filtered out
    clock[0] += timedelta(seconds=20)  # past midnight: a new day file
    plant(home, "rnext", NOW - clock[0])
    day_file = Home(home).logs_dir / f"{clock[0].date().isoformat()}.jsonl"
    with open(day_file, "ab") as fh:
        fh.write(b'{"id": "rtorn"')  # a line still being written
    assert [r["id"] for r in tail.poll()] == ["rlate", "rnext"]
    assert tail.poll() == []
