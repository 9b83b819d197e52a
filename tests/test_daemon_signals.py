"""Signals, clocks and reloads that must never break a running daemon.

Real daemon processes for everything a signal or inotify is part of (SIGHUP, SIGSTOP and
SIGCONT, a second SIGTERM, a symlinked tasks.json, files that vanish or break), and the
daemon in-process with an injected clock for wall-clock jumps. Intervals are one second;
every wait is bounded.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_daemon import (
    Daemon,
    daemons,
    every_second,
    inflight,
    make_home,
    records,
    run_daemon,
    slow,
    wait_for,
)

from automation_manager.engine.daemon import Daemon as EngineDaemon
from automation_manager.home import Home

__all__ = ["daemons"]  # the fixture, shared with test_daemon.py


def stamp(rec: dict[str, Any], key: str = "scheduled_for") -> float:
    return datetime.fromisoformat(rec[key]).timestamp()


def write_tasks(path: Path, tasks: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({"maintenance": tasks}))


def started(home: Path, daemons: list[Daemon]) -> Daemon:
    daemon = Daemon(home)
    daemons.append(daemon)
    daemon.wait_ready()
    return daemon


def test_sighup_reloads_the_configuration_instead_of_killing_the_daemon(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    home = make_home(tmp_path / "h", [every_second("a")])
    daemon = started(home, daemons)
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded:" in daemon.stderr, 3, lambda: daemon.stderr)
    assert daemon.proc.poll() is None
    assert "received SIGHUP: reloading the configuration" in daemon.stderr
    # nothing changed on disk: the reload says so rather than being skipped
    assert "reloaded: 1 tasks scheduled (0 added, 0 changed, 0 removed)" in daemon.stderr
    count = len(records(home))
    wait_for(lambda: len(records(home)) >= count + 2, 4, lambda: daemon.stderr)
    assert daemon.stop() == 0


def test_sighup_during_run_once_is_logged_and_the_run_still_finishes(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    task = slow("s", 1.5, schedule={"interval": "1h", "misfire": "once"})
    home = make_home(tmp_path / "h", [task])
    state = home / ".mp" / "state"
    state.mkdir(parents=True)
    last = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    (state / "schedule.json").write_text(
        json.dumps({"version": 1, "tasks": {"s": {"last_due": last}}})
    )
    daemon = Daemon(home, "--once")
    daemons.append(daemon)
    wait_for(lambda: bool(inflight(home)), 10, lambda: daemon.stderr)
    daemon.proc.send_signal(signal.SIGHUP)
    assert daemon.proc.wait(10) == 0
    assert "received SIGHUP: ignored (run --once does not reload)" in daemon.stderr
    assert [(r["trigger"], r["status"]) for r in records(home)] == [("catch-up", "success")]


def test_sigstop_then_sigcont_follows_each_tasks_misfire_policy(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    tasks = [
        every_second(policy, schedule={"interval": "1s", "misfire": policy})
        for policy in ("skip", "once", "all")
    ]
    home = make_home(tmp_path / "h", tasks)
    daemon = started(home, daemons)
    wait_for(lambda: len(records(home)) >= 3, 5, lambda: daemon.stderr)
    stopped_at = time.time()
    daemon.proc.send_signal(signal.SIGSTOP)
    time.sleep(3.5)  # the first due time missed is then >= 2.5 s late: past the tolerance
    resumed_at = time.time()
    daemon.proc.send_signal(signal.SIGCONT)

    def each_ran_after_resume() -> bool:
        late = {r["task_id"] for r in records(home) if stamp(r) > resumed_at + 1}
        return late == {"skip", "once", "all"}

    wait_for(each_ran_after_resume, 5, lambda: daemon.stderr)
    assert daemon.stop() == 0
    runs = records(home)
    slept = [r for r in runs if stopped_at + 0.5 < stamp(r) < resumed_at - 0.5]
    catch_up = {
        policy: sorted(
            stamp(r) for r in runs if r["task_id"] == policy and r["trigger"] == "catch-up"
        )
        for policy in ("skip", "once", "all")
    }
    assert [r for r in slept if r["task_id"] == "skip"] == []  # not replayed
    assert catch_up["skip"] == []
    assert len(catch_up["once"]) == 1  # one catch-up, for the latest missed due time
    assert catch_up["once"][0] > resumed_at - 1.5
    assert 3 <= len(catch_up["all"]) <= 5  # each missed due time, one second apart
    gaps = {round(b - a, 3) for a, b in itertools.pairwise(catch_up["all"])}
    assert gaps == {1.0}
    assert catch_up["all"][0] < stopped_at + 1.5
    assert not [r for r in slept if r["trigger"] == "scheduled"]  # no burst of late firings
    assert "late; 0 missed due times run as catch-up (misfire skip)" in daemon.stderr


def test_a_second_sigterm_says_it_stops_waiting_and_records_the_run_interrupted(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    home = make_home(tmp_path / "h", [slow("long", 30)], shutdown_grace_s=30)
    daemon = started(home, daemons)
    wait_for(lambda: bool(inflight(home)), 5, lambda: daemon.stderr)
    daemon.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "waiting up to 30s" in daemon.stderr, 3, lambda: daemon.stderr)
    t0 = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - t0 < 5  # did not wait for the 30 s grace
    assert (
        "received SIGTERM again: not waiting for 1 running task; recording it as interrupted"
        in daemon.stderr
    )
    (rec,) = [r for r in records(home) if r["status"] == "interrupted"]
    assert rec["task_id"] == "long"
    assert inflight(home) == []


def test_a_symlinked_tasks_json_edited_at_its_target_is_reloaded_and_followed_when_repointed(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    home = make_home(tmp_path / "h", [every_second("a")])
    etc = tmp_path / "etc"
    etc.mkdir()
    target = etc / "tasks.json"
    os.replace(home / "tasks.json", target)
    (home / "tasks.json").symlink_to(os.path.relpath(target, home))
    daemon = started(home, daemons)

    write_tasks(target, [every_second("a"), every_second("b")])
    edited = time.monotonic()
    wait_for(lambda: "reloaded:" in daemon.stderr, 2, lambda: daemon.stderr)
    assert time.monotonic() - edited < 2
    assert "1 added" in daemon.stderr
    wait_for(lambda: any(r["task_id"] == "b" for r in records(home)), 3, lambda: daemon.stderr)

    # point the link at a file in a third folder: it is followed, and then watched there
    other = tmp_path / "srv" / "tasks.json"
    other.parent.mkdir()
    write_tasks(other, [every_second("a")])
    new_link = home / "tasks.json.new"
    new_link.symlink_to(other)
    os.replace(new_link, home / "tasks.json")
    wait_for(lambda: daemon.stderr.count("reloaded:") >= 2, 2, lambda: daemon.stderr)
    assert "1 removed" in daemon.stderr
    write_tasks(other, [every_second("a"), every_second("c")])
    wait_for(lambda: daemon.stderr.count("reloaded:") >= 3, 2, lambda: daemon.stderr)
    wait_for(lambda: any(r["task_id"] == "c" for r in records(home)), 3, lambda: daemon.stderr)
    assert daemon.stop() == 0


def test_a_missing_file_keeps_the_last_good_configuration_and_its_saved_due_times(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    home = make_home(tmp_path / "h", [every_second("a")])
    saved = home / ".mp" / "state" / "schedule.json"
    daemon = started(home, daemons)
    wait_for(lambda: bool(records(home)), 3, lambda: daemon.stderr)

    os.replace(home / "tasks.json", tmp_path / "tasks.json.away")  # `mv` away
    message = "tasks.json missing: keeping the last good configuration"
    wait_for(lambda: message in daemon.stderr, 2, lambda: daemon.stderr)
    count = len(records(home))
    wait_for(lambda: len(records(home)) >= count + 2, 4, lambda: daemon.stderr)  # still firing
    assert "reloaded:" not in daemon.stderr and "0 tasks" not in daemon.stderr
    assert "a" in json.loads(saved.read_text())["tasks"]  # last due time not forgotten

    (home / "config.json").unlink()
    wait_for(lambda: "config.json missing" in daemon.stderr, 2, lambda: daemon.stderr)

    config = make_home(tmp_path / "fresh", [])  # a good config.json to put back
    os.replace(config / "config.json", home / "config.json")
    write_tasks(home / "tasks.json", [every_second("a"), every_second("b")])
    wait_for(lambda: "reloaded:" in daemon.stderr, 2, lambda: daemon.stderr)
    wait_for(lambda: any(r["task_id"] == "b" for r in records(home)), 3, lambda: daemon.stderr)
    assert "a" in json.loads(saved.read_text())["tasks"]
    assert daemon.stop() == 0


def with_a(extra: dict[str, Any]) -> str:
    return json.dumps({"maintenance": [every_second("a"), extra]})


BAD_EDITS = {
    "an interval past the year 9999": with_a(
        every_second("huge", schedule={"interval": "99999999d"})
    ),
    "a jitter past the year 9999": with_a(
        every_second("j", schedule={"interval": "1s", "jitter": "9999999d"})
    ),
    "a 5000-deep array": '{"maintenance": ' + "[" * 5000 + "]" * 5000 + "}",
    "a 5000-digit integer": '{"maintenance": [{"id": "a", "type": "pending_report", '
    '"priority": 1' + "0" * 5000 + ', "schedule": {"interval": "1s"}}]}',
    "an unknown time zone": with_a(
        every_second("tz", schedule={"interval": "1s", "timezone": "Mars/Olympus"})
    ),
}


def test_a_reload_that_fails_for_any_reason_keeps_the_daemon_running(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    home = make_home(tmp_path / "h", [every_second("a")])
    daemon = started(home, daemons)
    for failures, (what, text) in enumerate(BAD_EDITS.items(), start=1):
        (home / "tasks.json").write_text(text)
        wait_for(
            lambda n=failures: daemon.stderr.count("reload failed") >= n,
            2,
            lambda w=what: f"{w}: {daemon.stderr}",
        )
        count = len(records(home))
        wait_for(lambda c=count: len(records(home)) > c, 3, lambda: daemon.stderr)  # firing
        assert daemon.proc.poll() is None, what
    assert "Traceback" not in daemon.stderr
    assert "reloaded:" not in daemon.stderr
    assert {r["task_id"] for r in records(home)} == {"a"}  # none of the bad tasks ran

    write_tasks(home / "tasks.json", [every_second("a"), every_second("b")])
    wait_for(lambda: "reloaded:" in daemon.stderr, 2, lambda: daemon.stderr)
    assert daemon.stop() == 0


def test_a_daemon_started_on_a_schedule_past_the_year_9999_exits_2_naming_it(
    tmp_path: Path,
) -> None:
    huge = every_second("huge", schedule={"interval": "99999999d"})
    home = make_home(tmp_path / "h", [every_second("a"), huge])
    done = run_daemon(home)
    assert done.returncode == 2, done.stderr
    # Validation names it now (interval ≤ 366 d); the plan check stays behind it.
    assert "tasks.json: maintenance[1].schedule" in done.stderr
    assert "99999999d" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (home / ".mp" / "state" / "daemon.json").exists()


class Clock:
    """Real time plus an offset the test moves: a wall clock someone sets."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def serving(
    tmp_path: Path,
) -> Iterator[Callable[[list[dict[str, Any]]], tuple[Home, Clock, Lines]]]:
    """Start an in-process daemon with a movable clock on a thread; stop it after the test."""
    running: list[tuple[EngineDaemon, threading.Thread, list[int]]] = []
    lines = Lines()
    logger = logging.getLogger("amgr.daemon")
    logger.addHandler(lines)

    def start(tasks: list[dict[str, Any]]) -> tuple[Home, Clock, Lines]:
        home = Home(make_home(tmp_path / "h", tasks))
        clock = Clock()
        daemon = EngineDaemon(home, clock=clock)
        codes: list[int] = []
        thread = threading.Thread(target=lambda: codes.append(daemon.run_forever()), daemon=True)
        thread.start()
        running.append((daemon, thread, codes))
        return home, clock, lines

    yield start
    for daemon, thread, codes in running:
        daemon.stop()
        thread.join(15)
        assert codes == [0]
    logger.removeHandler(lines)


def home_records(home: Home) -> list[dict[str, Any]]:
    return records(home.root)


def test_a_backward_clock_jump_does_not_stall_interval_tasks(
    serving: Callable[[list[dict[str, Any]]], tuple[Home, Clock, Lines]],
) -> None:
    home, clock, lines = serving([every_second("tick")])
    wait_for(lambda: len(home_records(home)) >= 2, 10)
    jumped_at = datetime.now(UTC)
    clock.offset = -timedelta(hours=1)
    t0 = time.monotonic()

    def after_jump() -> list[dict[str, Any]]:
        return [r for r in home_records(home) if stamp(r) < jumped_at.timestamp() - 1800]

    wait_for(lambda: bool(after_jump()), 2.5)
    assert time.monotonic() - t0 < 2.2  # within the interval (and the loop's turn)
    wait_for(lambda: len(after_jump()) >= 3, 4)
    dues = [stamp(r) for r in after_jump()]
    assert [round(b - a, 3) for a, b in itertools.pairwise(dues)] == [1.0] * (len(dues) - 1)
    assert any(line.startswith("the wall clock went back 1h:") for line in lines.lines)


def test_a_forward_clock_jump_follows_each_tasks_misfire_policy(
    serving: Callable[[list[dict[str, Any]]], tuple[Home, Clock, Lines]],
) -> None:
    tasks = [
        every_second("skip", schedule={"interval": "1s", "misfire": "skip"}),
        every_second("once", schedule={"interval": "1s", "misfire": "once"}),
        every_second("all", schedule={"interval": "10m", "misfire": "all"}),
    ]
    home, clock, lines = serving(tasks)
    wait_for(lambda: {r["task_id"] for r in home_records(home)} >= {"skip", "once"}, 10)
    jumped_at = datetime.now(UTC).timestamp()
    clock.offset = timedelta(hours=1)
    ten_minutes = [r for r in home_records(home) if r["task_id"] == "all"]
    assert ten_minutes == []  # its first due time was still ahead
    wait_for(lambda: any(stamp(r) > jumped_at + 3602 for r in home_records(home)), 4)
    wait_for(lambda: len([r for r in home_records(home) if r["task_id"] == "all"]) >= 5, 4)
    runs = home_records(home)
    skipped_hour = [r for r in runs if jumped_at + 1 < stamp(r) < jumped_at + 3599]

    def catch_ups(task_id: str) -> list[float]:
        return sorted(
            stamp(r) for r in runs if r["task_id"] == task_id and r["trigger"] == "catch-up"
        )

    assert [r for r in skipped_hour if r["task_id"] != "all"] == []
    assert catch_ups("skip") == []
    assert len(catch_ups("once")) == 1
    every = catch_ups("all")
    assert len(every) in (6, 7)  # each 10-minute due time of the hour the clock skipped
    assert {b - a for a, b in itertools.pairwise(every)} == {600.0}
    assert any(line.startswith("the wall clock went forward 1h ") for line in lines.lines)
