"""Durable daemon state: due times, runs in flight, and recovery after a crash."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from automation_manager.engine.lock import DaemonLock, lock_is_held
from automation_manager.engine.recovery import recent_due_times, recover_interrupted
from automation_manager.engine.state import DaemonInfo, InflightRun, StateStore
from automation_manager.enums import Trigger
from automation_manager.errors import AmgrError, LockHeldError
from automation_manager.home import Home
from automation_manager.logs.records import RunRecord
from automation_manager.logs.writer import append_record

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def run(record_id: str = "r1", task_id: str = "a") -> InflightRun:
    return InflightRun(
        record_id=record_id,
        pid=4242,
        task_id=task_id,
        category="maintenance",
        type="health_check",
        trigger=Trigger.SCHEDULED,
        scheduled_for=NOW - timedelta(minutes=30),
        started_at=NOW - timedelta(minutes=30),
        params={"sleep_s": 5},
    )


def read_log(home: Home) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted(home.logs_dir.glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def test_last_due_only_moves_forward_and_survives_a_restart(tmp_path: Path) -> None:
    state = StateStore(Home(tmp_path))
    state.advance("a", NOW)
    state.advance("a", NOW - timedelta(hours=1))
    state.advance("b", NOW)
    state.forget({"b"})
    state.flush()
    again = StateStore(Home(tmp_path))
    assert again.load() == {"a": NOW}


def test_background_writer_writes_soon_and_on_stop(tmp_path: Path) -> None:
    state = StateStore(Home(tmp_path))
    state.start_writer()
    state.advance("a", NOW)
    state.add_inflight(run())  # synced by the writer's helper thread
    state.stop_writer()
    assert StateStore(Home(tmp_path)).load() == {"a": NOW}
    assert [r.record_id for r in StateStore(Home(tmp_path)).inflight()] == ["r1"]


def test_unreadable_state_is_treated_as_empty(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.state_dir.mkdir(parents=True)
    (home.state_dir / "schedule.json").write_text("{torn")
    assert StateStore(home).load() == {}


def test_inflight_files_round_trip_private(tmp_path: Path) -> None:
    state = StateStore(Home(tmp_path))
    state.add_inflight(run())
    path = state.inflight_path("r1")
    assert path.stat().st_mode & 0o777 == 0o600
    assert [r.task_id for r in state.inflight()] == ["a"]
    state.remove_inflight("r1")
    assert state.inflight() == []


def test_a_leftover_run_is_recorded_interrupted_exactly_once(tmp_path: Path) -> None:
    home = Home(tmp_path)
    state = StateStore(home)
    state.add_inflight(run())
    assert [r.id for r in recover_interrupted(home, state, NOW)] == ["r1"]
    assert recover_interrupted(home, state, NOW) == []
    records = read_log(home)
    assert len(records) == 1
    rec = records[0]
    assert rec["status"] == "interrupted" and rec["id"] == "r1" and rec["task_id"] == "a"
    assert rec["error"] == ("interrupted: the daemon stopped (pid 4242) before this run finished")
    assert rec["scheduled_for"] == (NOW - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    assert rec["duration_ms"] == 30 * 60 * 1000


def test_a_run_whose_record_made_it_is_not_recorded_again(tmp_path: Path) -> None:
    home = Home(tmp_path)
    state = StateStore(home)
    state.add_inflight(run())
    append_record(
        home,
        RunRecord(
            id="r1",
            timestamp=NOW - timedelta(minutes=30),
            task_id="a",
            category="maintenance",
            type="health_check",
            status="success",
            success=True,
        ),
    )
    assert recover_interrupted(home, state, NOW) == []
    assert len(read_log(home)) == 1
    assert state.inflight() == []


def test_a_torn_inflight_file_is_dropped(tmp_path: Path) -> None:
    state = StateStore(Home(tmp_path))
    state.inflight_dir.mkdir(parents=True)
    (state.inflight_dir / "r9.json").write_text('{"record_id": "r9", "pid"')
    assert state.inflight() == []
    assert not (state.inflight_dir / "r9.json").exists()


def test_recent_due_times_come_from_the_log_tail(tmp_path: Path) -> None:
    home = Home(tmp_path)
    for minutes, trigger in ((10, "scheduled"), (20, "catch-up"), (5, "manual")):
        append_record(
            home,
            RunRecord(
                id=f"r{minutes}",
                timestamp=NOW,
                task_id="a",
                category="maintenance",
                type="health_check",
                trigger=trigger,
                scheduled_for=NOW + timedelta(minutes=minutes),
                status="success",
                success=True,
            ),
        )
    with open(home.logs_dir / f"{NOW.date()}.jsonl", "a") as fh:
        fh.write('{"torn": ')
    assert recent_due_times(home) == {"a": NOW + timedelta(minutes=20)}


def test_daemon_lock_is_exclusive_and_probe_takes_nothing(tmp_path: Path) -> None:
    home = Home(tmp_path)
    assert not lock_is_held(home)
    first = DaemonLock(home)
    first.acquire()
    StateStore(home).write_daemon(DaemonInfo(pid=os.getpid(), started_at=NOW))
    try:
        assert lock_is_held(home)
        try:
            DaemonLock(home).acquire()
        except LockHeldError as exc:
            assert exc.exit_code == 3 and exc.pid == os.getpid()
            assert f"pid {os.getpid()}" in str(exc)
        else:
            raise AssertionError("a second lock was granted")
    finally:
        first.release()
    assert not lock_is_held(home)
    with DaemonLock(home) as again:
        assert again.held


def test_recovery_waits_for_another_recoverer_and_says_so_when_it_never_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recovery lock is a plain ``flock`` on ``.mp/locks/recover.lock``: while another
    process holds it, a recoverer waits; past the wait it stops with one clear message and
    records nothing; once the lock is free it records the dead run once."""
    import fcntl
    import threading

    from automation_manager.engine import recorder

    home = Home(tmp_path)
    state = StateStore(home)
    state.add_inflight(run())
    home.locks_dir.mkdir(parents=True, exist_ok=True)
    holder = os.open(home.locks_dir / "recover.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    monkeypatch.setattr(recorder, "RECOVER_WAIT_S", 0.2)
    try:
        with pytest.raises(AmgrError, match="another amgr process has been recording dead runs"):
            recover_interrupted(home, state, NOW)
        assert read_log(home) == [] and [r.record_id for r in state.inflight()] == ["r1"]

        monkeypatch.setattr(recorder, "RECOVER_WAIT_S", 30.0)
        got: list[list[str]] = []
        waiter = threading.Thread(
            target=lambda: got.append([r.id for r in recover_interrupted(home, state, NOW)])
        )
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive() and read_log(home) == []  # still waiting for the lock
    finally:
        os.close(holder)  # releases it
    waiter.join(10)
    assert got == [["r1"]]
    assert [r["id"] for r in read_log(home)] == ["r1"] and state.inflight() == []
