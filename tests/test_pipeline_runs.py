"""Pipeline runs: pause, resume and cancel after the current item, the run lock (the
reference's six lock and resume bugs), and a kill -9 mid-stage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pipeline_home import add_pipeline, amgr, as_json, blog_items, items, ok, run_pipeline, seed

from automation_manager.enums import RunStatus, Trigger
from automation_manager.home import Home
from automation_manager.logs.records import RunRecord
from automation_manager.manager import AutomationManager
from automation_manager.pipeline.store import PipelineDB
from automation_manager.runs.lock import RunLock
from automation_manager.runs.models import RunPhase, RunState
from automation_manager.runs.store import RunStore

TASK = "site-plan"


def store(home: Path) -> RunStore:
    return RunStore(Home(home))


def holder(home: Path) -> str | None:
    return RunLock(Home(home)).holder(TASK)


def live_run(home: Path) -> str:
    [run] = [r for r in store(home).all() if r.status is RunPhase.RUNNING]
    return run.id


def at(home: Path, label: str, verb: str) -> Callable[[str, int, int], None]:
    """A progress callback that runs ``amgr runs VERB RUN`` once, when ``label`` is reached."""
    fired: list[str] = []

    def progress(seen: str, done: int, total: int) -> None:
        if seen == label and not fired:
            fired.append(seen)
            result = amgr(home, "runs", verb, live_run(home))
            assert result.exit_code == 0, result.output
            assert "takes effect after the current item" in result.output

    return progress


def start(
    home: Path,
    progress: Callable[[str, int, int], None] | None = None,
    trigger: Trigger = Trigger.MANUAL,
) -> RunRecord:
    mgr = AutomationManager(home)
    spec = mgr.resolve_task("content_creation", TASK)
    return mgr.run(spec, trigger=trigger, progress=progress)


def pipeline_home(home: Path, **fields: object) -> None:
    add_pipeline(home, TASK, **fields)
    seed(home, TASK)


def test_pause_takes_effect_after_the_current_item_and_resume_continues(home: Path) -> None:
    pipeline_home(home)
    paused = start(home, at(home, "content 2", "pause"))
    assert paused.status is RunStatus.SKIPPED
    assert paused.error and "paused by user at content 2/" in paused.error
    run_id = paused.id
    assert store(home).get(run_id).status is RunPhase.PAUSED
    assert len(blog_items(home)) == 2  # the item in progress finished, no further one
    tasks = len(items(home, TASK, "tasks"))
    assert as_json(home, "pipeline", "status", TASK)["pipelines"][0]["pending"]["content"] == (
        tasks - 2
    )
    # bug 2: a start while the run is paused, scheduled or manual, is skipped
    scheduled = start(home, trigger=Trigger.SCHEDULED)
    assert scheduled.status is RunStatus.SKIPPED and f"{run_id} is paused" in str(scheduled.error)
    manual = run_pipeline(home)
    assert f"{run_id} is paused" in manual.output
    assert holder(home) == run_id

    ok(home, "runs", "resume", run_id)
    assert holder(home) == run_id  # bug 3: the resumed run holds the lock
    done = start(home)
    assert done.status is RunStatus.SUCCESS and done.run_id == run_id
    detail = as_json(home, "runs", "show", run_id)
    assert detail["status"] == "completed"
    assert detail["stages"]["content"]["content_created"] == tasks  # counted once each
    assert len(blog_items(home)) == tasks
    assert len({t["content_id"] for t in items(home, TASK, "tasks")}) == tasks
    assert holder(home) is None
    log = ok(home, "runs", "log", run_id).output  # bug 5: each control is in the log
    assert "pause asked by user" in log and "paused at content 2/" in log
    assert "resumed by user" in log and f"run continued by {done.id}" in log


def test_cancel_releases_the_lock_at_once(home: Path) -> None:
    pipeline_home(home)
    cancelled = start(home, at(home, "ideas 1", "cancel"))  # bug 1, a run at work
    assert cancelled.status is RunStatus.SKIPPED and "cancelled by user" in str(cancelled.error)
    assert store(home).get(cancelled.id).status is RunPhase.CANCELLED
    assert holder(home) is None
    assert "cancel asked by user" in ok(home, "runs", "log", cancelled.id).output

    paused = start(home, at(home, "ideas 1", "pause"))
    assert holder(home) == paused.id
    ok(home, "runs", "cancel", paused.id)  # a paused run nobody works on
    assert holder(home) is None
    assert "cancelled by user at" in ok(home, "runs", "log", paused.id).output
    fresh = start(home)
    assert fresh.status is RunStatus.SUCCESS and fresh.run_id not in (cancelled.id, paused.id)


def test_resume_refuses_while_another_run_holds_the_lock(home: Path) -> None:
    pipeline_home(home)
    paused = start(home, at(home, "ideas 1", "pause"))
    now = datetime.now(UTC)
    other = RunState(
        id="r0other",
        task_id=TASK,
        category="content_creation",
        type="pipeline",
        started_at=now,
        updated_at=now,
    )
    store(home).save(other)  # another run of the task, running (taken over the lock)
    RunLock(Home(home)).take(TASK, "r0other", now, stale=lambda run: True)
    result = amgr(home, "runs", "resume", paused.id)
    assert result.exit_code == 2
    assert f"run {paused.id} cannot resume: run r0other of task {TASK} is running" in result.output
    assert store(home).get(paused.id).status is RunPhase.PAUSED
    assert holder(home) == "r0other"
    store(home).update("r0other", lambda s: setattr(s, "status", RunPhase.COMPLETED), now)
    ok(home, "runs", "resume", paused.id)  # a lock left by a finished run is taken over
    assert holder(home) == paused.id


def test_a_resumed_run_still_pauses_and_cancels(home: Path) -> None:
    pipeline_home(home)
    first = start(home, at(home, "clusters 18", "pause"))
    assert "paused by user at clusters" in str(first.error)
    ok(home, "runs", "resume", first.id)
    again = start(home, at(home, "content 1", "pause"))  # bug 4: checks after resuming
    assert again.status is RunStatus.SKIPPED and again.run_id == first.id
    assert "paused by user at content 1/" in str(again.error)
    ok(home, "runs", "resume", first.id)
    third = start(home, at(home, "images 1", "cancel"))
    assert "cancelled by user at images" in str(third.error) and holder(home) is None


def test_a_resumed_run_that_fails_releases_the_lock(home: Path) -> None:
    pipeline_home(home)
    paused = start(home, at(home, "content 1", "pause"))
    [article] = blog_items(home)
    post = home / ".mp" / "content" / article["id"] / "post.json"
    post.write_text("{not json")  # stage 5 cannot read the article
    ok(home, "runs", "resume", paused.id)
    failed = start(home)
    assert failed.status is RunStatus.FAILED and failed.run_id == paused.id
    assert store(home).get(paused.id).status is RunPhase.FAILED
    assert holder(home) is None  # bug 6
    post.write_text(json.dumps({"post": {"sections": []}}))
    after = start(home)
    assert after.status is RunStatus.SUCCESS and after.run_id != paused.id


def test_kill_9_mid_stage_then_the_next_run_continues_with_nothing_lost_or_doubled(
    home: Path,
) -> None:
    pipeline_home(home, within_stage_delay_s=0.2, stages={"content": {"batch_size": 1}})
    env = {**os.environ, "AMGR_HOME": str(home), "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automation_manager",
            "exec-now",
            "content_creation",
            "pipeline",
            "--task",
            TASK,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    logs = home / ".mp" / "runs"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            text = "".join(p.read_text() for p in logs.glob("*.log")) if logs.is_dir() else ""
            if text.count("→ article") >= 2:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the run did not reach stage 4")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    [killed] = store(home).all()
    assert killed.status is RunPhase.RUNNING and killed.stage == "content"
    written = len(blog_items(home))
    assert written >= 2

    result = run_pipeline(home)
    assert result.exit_code == 0, result.output
    tasks = items(home, TASK, "tasks")
    articles = blog_items(home)
    assert len(articles) == len(tasks)  # none lost, none written twice
    assert sorted(t["content_id"] for t in tasks) == sorted(a["id"] for a in articles)
    detail = as_json(home, "runs", "show", killed.id)
    assert detail["status"] == "completed" and len(detail["attempts"]) == 2
    assert detail["stages"]["content"]["content_created"] == len(tasks)
    assert detail["stages"]["clusters"]["keywords_processed"] == 18
    assert detail["stages"]["images"]["images_generated"] == 2 * len(tasks)
    assert holder(home) is None
    history = as_json(home, "history")
    statuses = sorted(r["status"] for r in history.get("records", history.get("runs", [])))
    assert "interrupted" in statuses


def test_an_article_written_just_before_a_crash_is_adopted_not_written_again(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window a kill -9 rarely hits: the article's files are saved, its status change
    is not committed yet."""
    pipeline_home(home, stages={"content": {"max_per_run": 2}})
    real = PipelineDB.commit

    def crash_on_first_article(
        self: PipelineDB,
        run_id: str,
        stage: str,
        counts: dict[str, Any],
        work: Any = None,
        **kw: Any,
    ) -> dict[str, Any]:
        if counts.get("content_created"):
            raise OSError("simulated crash between the article and its commit")
        return real(self, run_id, stage, counts, work, **kw)

    monkeypatch.setattr(PipelineDB, "commit", crash_on_first_article)
    crashed = start(home)
    assert crashed.status is RunStatus.FAILED
    [orphan] = blog_items(home)
    monkeypatch.setattr(PipelineDB, "commit", real)
    after = start(home)
    assert after.status is RunStatus.SUCCESS
    written = [t for t in items(home, TASK, "tasks") if t["content_id"]]
    assert len(written) == 2 and orphan["id"] in {t["content_id"] for t in written}
    assert len(blog_items(home)) == 2
