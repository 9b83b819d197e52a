"""The worker pool: priority, no overlap, timeouts, one record per attempt, clean stops."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from automation_manager.config import TaskSpec
from automation_manager.config.tasks import Task
from automation_manager.engine.outcomes import inflight_note
from automation_manager.engine.pool import Ticket, WorkerPool
from automation_manager.engine.runner import Attempt
from automation_manager.engine.state import InflightRun, StateStore
from automation_manager.enums import Category, RunStatus, Trigger
from automation_manager.home import Home
from automation_manager.logs.records import RunRecord

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def spec(task_id: str, priority: int = 0, timeout_s: float | None = None) -> TaskSpec:
    task = Task(type="health_check", id=task_id, priority=priority, timeout_s=timeout_s)
    return TaskSpec(Category.MAINTENANCE, 0, task, task_id, None)


class Harness:
    """A pool whose runs sleep ``durations[task_id]`` seconds (cooperatively) and succeed.

    It is the pool's RunHost: it notes, performs and records each attempt itself.
    """

    def __init__(self, tmp: Path, size: int = 1, durations: dict[str, float] | None = None):
        self.state = StateStore(Home(tmp))
        self.durations = durations or {}
        self.records: list[RunRecord] = []
        self.started: list[str] = []
        self.notes: list[InflightRun] = []
        self.finished: list[tuple[str, str]] = []
        self.gate = threading.Event()
        self.pool = WorkerPool(size=size, host=self, clock=lambda: datetime.now(UTC))

    def begin(self, ticket: Ticket, run: InflightRun) -> None:
        self.notes.append(run)
        self.state.add_inflight(run)
        if ticket.scheduled_for is not None and ticket.trigger is not Trigger.RETRY:
            self.state.advance(ticket.task_id, ticket.scheduled_for)
        self.started.append(ticket.task_id)

    def perform(self, ticket: Ticket, run: InflightRun, cancel: threading.Event) -> Attempt:
        return self.run(ticket, run.record_id, cancel)

    def finish(self, ticket: Ticket, attempt: Attempt) -> None:
        self.records.append(attempt.record)
        self.state.remove_inflight(attempt.record.id)
        self.finished.append((ticket.task_id, attempt.record.status.value))

    def settled(self) -> None:
        pass

    def note(self, ticket: Ticket, record_id: str, now: datetime) -> InflightRun:
        return inflight_note(
            ticket.spec,
            record_id=record_id,
            pid=1,
            trigger=ticket.trigger,
            attempt=ticket.attempt,
            scheduled_for=ticket.scheduled_for,
            started_at=now,
            params={},
        )

    def run(self, ticket: Ticket, record_id: str, cancel: threading.Event) -> Attempt:
        self.gate.wait(5)
        cancel.wait(self.durations.get(ticket.task_id, 0))
        return Attempt(
            RunRecord(
                id=record_id,
                timestamp=datetime.now(UTC),
                task_id=ticket.task_id,
                category="maintenance",
                type="health_check",
                trigger=ticket.trigger,
                attempt=ticket.attempt,
                scheduled_for=ticket.scheduled_for,
                status=RunStatus.SUCCESS,
                success=True,
            )
        )

    def wait_idle(self, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while not self.pool.idle():
            assert time.monotonic() < deadline, "pool did not drain"
            time.sleep(0.005)


def test_higher_priority_runs_first_then_earlier_due(tmp_path: Path) -> None:
    h = Harness(tmp_path, size=1)
    h.pool.start()
    h.pool.submit(Ticket(spec("blocker"), Trigger.SCHEDULED, NOW))
    time.sleep(0.05)  # the only worker is now held by the blocker
    h.pool.submit(Ticket(spec("low-late"), Trigger.SCHEDULED, NOW.replace(minute=5)))
    h.pool.submit(Ticket(spec("low-early"), Trigger.SCHEDULED, NOW.replace(minute=1)))
    h.pool.submit(Ticket(spec("high", priority=10), Trigger.SCHEDULED, NOW.replace(minute=9)))
    h.gate.set()
    h.wait_idle()
    assert h.started == ["blocker", "high", "low-early", "low-late"]


def test_a_task_never_runs_twice_at_once(tmp_path: Path) -> None:
    h = Harness(tmp_path, size=4, durations={"a": 0.05})
    h.gate.set()
    h.pool.start()
    for minute in range(3):
        h.pool.submit(Ticket(spec("a"), Trigger.CATCH_UP, NOW.replace(minute=minute)))
    assert h.pool.busy("a")
    h.wait_idle()
    due = [r.scheduled_for for r in h.records]
    assert due == [NOW.replace(minute=m) for m in range(3)]  # in order, one after another
    for first, second in zip(h.records, h.records[1:], strict=False):
        assert first.timestamp <= second.timestamp


def test_records_and_inflight_files_and_due_times(tmp_path: Path) -> None:
    h = Harness(tmp_path, size=2)
    h.gate.set()
    h.pool.start()
    h.pool.submit(Ticket(spec("a"), Trigger.SCHEDULED, NOW))
    h.wait_idle()
    assert [r.status for r in h.records] == [RunStatus.SUCCESS]
    assert h.state.inflight() == []
    assert h.state.last_due("a") == NOW


def test_timeout_records_failed_and_frees_the_worker(tmp_path: Path) -> None:
    h = Harness(tmp_path, size=1, durations={"slow": 30})
    h.gate.set()
    h.pool.start()
    h.pool.submit(Ticket(spec("slow", timeout_s=0.2), Trigger.SCHEDULED, NOW))
    h.pool.submit(Ticket(spec("next"), Trigger.SCHEDULED, NOW))
    h.wait_idle()
    by_task = {r.task_id: r for r in h.records}
    assert by_task["slow"].status is RunStatus.FAILED
    assert "timeout_s" in (by_task["slow"].error or "")
    assert by_task["next"].status is RunStatus.SUCCESS
    time.sleep(0.05)  # the cancelled run returns; its late result must not add a record
    assert len(h.records) == 2
    assert h.state.inflight() == []


def test_shutdown_records_unfinished_runs_as_interrupted(tmp_path: Path) -> None:
    h = Harness(tmp_path, size=2, durations={"slow": 30})
    h.gate.set()
    h.pool.start()
    h.pool.submit(Ticket(spec("slow", timeout_s=60), Trigger.SCHEDULED, NOW))
    time.sleep(0.05)
    h.pool.submit(Ticket(spec("slow", timeout_s=60), Trigger.CATCH_UP, NOW))  # queued behind
    t0 = time.monotonic()
    dropped = h.pool.shutdown(0.2)
    assert time.monotonic() - t0 < 2
    assert [t.trigger for t in dropped] == [Trigger.CATCH_UP]
    assert [r.status for r in h.records] == [RunStatus.INTERRUPTED]
    assert "before this run finished" in (h.records[0].error or "")
    assert h.state.inflight() == []
    assert not h.pool.submit(Ticket(spec("x"), Trigger.SCHEDULED, NOW))


def test_shutdown_waits_for_runs_that_finish_within_the_grace(tmp_path: Path) -> None:
    h = Harness(tmp_path, size=1, durations={"short": 0.1})
    h.gate.set()
    h.pool.start()
    h.pool.submit(Ticket(spec("short"), Trigger.SCHEDULED, NOW))
    time.sleep(0.03)
    h.pool.shutdown(5)
    assert [r.status for r in h.records] == [RunStatus.SUCCESS]


def test_resize_adds_workers(tmp_path: Path) -> None:
    h = Harness(tmp_path, size=1, durations={f"t{i}": 0.2 for i in range(4)})
    h.gate.set()
    h.pool.start()
    h.pool.resize(4)
    t0 = time.monotonic()
    for i in range(4):
        h.pool.submit(Ticket(spec(f"t{i}"), Trigger.SCHEDULED, NOW))
    h.wait_idle()
    assert time.monotonic() - t0 < 0.6  # in parallel, not 0.8 s in a row


def test_a_run_handed_over_ahead_starts_at_its_instant_never_before(tmp_path: Path) -> None:
    h = Harness(tmp_path, size=3)
    h.gate.set()
    h.pool.start()
    instant = datetime.now(UTC) + timedelta(milliseconds=80)
    for name in ("a", "b", "c"):
        h.pool.submit(Ticket(spec(name), Trigger.SCHEDULED, instant, not_before=instant))
    h.wait_idle()
    assert sorted(h.started) == ["a", "b", "c"]
    notes = {n.task_id: n.started_at for n in h.notes}
    assert set(notes) == {"a", "b", "c"}
    for started in notes.values():  # never early; all three together, not one by one
        assert instant <= started < instant + timedelta(milliseconds=60)
