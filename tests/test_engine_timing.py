"""The engine's time logic, pure: jobs on the grid, firings with jitter, catch-up, retries.

No sleeping and no clock mocking: every instant is passed in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from automation_manager.config import TaskSpec
from automation_manager.config.tasks import Task
from automation_manager.engine.jobs import TaskJob, TaskScheduler
from automation_manager.engine.planning import catch_up, fire_time, firings, next_firing
from automation_manager.engine.retry import retry_delay, should_retry
from automation_manager.enums import Category
from automation_manager.scheduling import parse_schedule

T0 = datetime(2026, 3, 2, 8, 59, 59, 500_000, tzinfo=UTC)


def spec(task_id: str, schedule: Any, priority: int = 0) -> TaskSpec:
    sched = parse_schedule(schedule, default_timezone="UTC")
    task = Task(type="health_check", id=task_id, priority=priority)
    return TaskSpec(Category.MAINTENANCE, 0, task, task_id, sched)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_interval_job_stays_on_its_grid_however_late_it_runs() -> None:
    clock = FakeClock(T0)
    sched = TaskScheduler(clock)
    fired: list[datetime] = []

    def fire(job: TaskJob) -> None:
        assert job.due is not None
        fired.append(job.due)
        clock.now += timedelta(seconds=0.7)  # a slow dispatch must not shift the grid

    sched.add(spec("a", {"interval": "1s"}), T0, fire)
    for step in range(1, 6):
        clock.now = T0 + timedelta(seconds=step)
        sched.run_pending(clock.now)
    first = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert fired == [first + timedelta(seconds=n) for n in range(5)]


def test_a_job_never_fires_before_its_instant() -> None:
    clock = FakeClock(T0)
    sched = TaskScheduler(clock)
    fired: list[str] = []
    job = sched.add(spec("a", "hourly"), T0, lambda j: fired.append(j.task_id))
    assert job.fire_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    sched.run_pending(job.fire_at - timedelta(microseconds=1))
    assert fired == []
    assert not job.should_run
    sched.run_pending(job.fire_at)
    assert fired == ["a"]
    assert job.fire_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_the_schedule_library_sees_naive_local_next_run() -> None:
    sched = TaskScheduler(FakeClock(T0))
    job = sched.add(spec("a", "hourly"), T0, lambda j: None)
    assert job.next_run is not None and job.next_run.tzinfo is None
    assert job.next_run == job.fire_at.astimezone().replace(tzinfo=None)
    assert sched.get_jobs("a") == [job]


def test_scheduler_orders_many_jobs_and_forgets_removed_ones() -> None:
    clock = FakeClock(T0)
    sched = TaskScheduler(clock)
    order: list[str] = []
    every = ["1s", "2s", "5s", "1m", "2h"]
    for i in range(50):
        sched.add(spec(f"t{i}", {"interval": every[i % 5]}), T0, lambda j: order.append(j.task_id))
    sched.remove(["t0"])
    assert sched.job("t0") is None and len(sched.jobs) == 49
    clock.now = T0 + timedelta(seconds=0.5)
    sched.run_pending(clock.now)  # 09:00:00: on every grid but 2h's
    assert sorted(order) == sorted(f"t{i}" for i in range(1, 50) if i % 5 != 4)
    assert sched.idle_seconds is not None and 0 < sched.idle_seconds <= 1


def test_re_adding_a_task_replaces_its_job() -> None:
    sched = TaskScheduler(FakeClock(T0))
    sched.add(spec("a", "hourly"), T0, lambda j: None)
    sched.add(spec("a", "daily"), T0, lambda j: None)
    assert len(sched.jobs) == 1
    job = sched.job("a")
    assert job is not None and job.fire_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_skip_to_resumes_after_a_long_sleep_not_in_a_burst() -> None:
    clock = FakeClock(T0)
    sched = TaskScheduler(clock)
    job = sched.add(spec("a", {"interval": "1m"}), T0, lambda j: j.skip_to(clock.now))
    clock.now = T0 + timedelta(hours=3)
    sched.run_pending(clock.now)
    assert job.due is not None and job.due > clock.now


def test_jitter_is_deterministic_and_within_range() -> None:
    sched = parse_schedule({"interval": "1h", "jitter": "5m"}, default_timezone="UTC")
    due = datetime(2026, 3, 2, 9, tzinfo=UTC)
    a = fire_time(sched, "task-a", due)
    assert a == fire_time(sched, "task-a", due)
    assert due <= a <= due + timedelta(minutes=5)
    spread = {fire_time(sched, f"task-{i}", due) for i in range(20)}
    assert len(spread) > 10


def test_next_firing_and_firings_agree() -> None:
    sched = parse_schedule({"every": "day", "at": ["09:00", "18:30"]}, default_timezone="UTC")
    found = firings(sched, "x", T0, T0 + timedelta(days=2))
    assert [f.due.strftime("%d %H:%M") for f in found] == [
        "02 09:00",
        "02 18:30",
        "03 09:00",
        "03 18:30",
    ]
    assert next_firing(sched, "x", T0) == found[0]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("skip", []), ("once", ["12:00"]), ("all", ["10:00", "11:00", "12:00"])],
)
def test_catch_up_follows_the_misfire_policy(policy: str, expected: list[str]) -> None:
    sched = parse_schedule({"interval": "1h", "misfire": policy}, default_timezone="UTC")
    last = datetime(2026, 3, 2, 9, tzinfo=UTC)
    now = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
    assert [d.strftime("%H:%M") for d in catch_up(sched, last, now)] == expected


def test_a_task_never_seen_catches_up_nothing() -> None:
    sched = parse_schedule({"interval": "1h", "misfire": "all"}, default_timezone="UTC")
    assert catch_up(sched, None, T0) == []


def test_retry_delay_backs_off_exponentially_up_to_the_cap() -> None:
    delays = [retry_delay(n, base_s=30, cap_s=900, spread=1.0) for n in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 900, 900]
    assert retry_delay(1, base_s=30, cap_s=900, spread=0.5) == 15


def test_retry_delay_has_jitter_and_honours_retry_after() -> None:
    values = {retry_delay(2, base_s=10, cap_s=100) for _ in range(20)}
    assert all(10 <= v <= 20 for v in values) and len(values) > 1
    assert retry_delay(1, base_s=1, cap_s=10, spread=1.0, retry_after=7) == 7


def test_only_transient_failures_retry_up_to_the_limit() -> None:
    assert should_retry(1, True, 2) and should_retry(2, True, 2)
    assert not should_retry(3, True, 2)
    assert not should_retry(1, False, 5)
