"""Multi-stage runs: run files, pause/resume/cancel after the current item, admission."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fake_platforms import add_item, write_home

from automation_manager.cli import cli
from automation_manager.engine.runner import RunRequest, execute_run
from automation_manager.enums import RunStatus, Trigger
from automation_manager.manager import AutomationManager
from automation_manager.runs.models import RunPhase, RunState
from automation_manager.runs.store import RunStore


def amgr(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def runs_of(home: Path) -> list[dict[str, Any]]:
    result = amgr(home, "runs", "list", "--json")
    assert result.exit_code == 0, result.output
    runs: list[dict[str, Any]] = json.loads(result.output)["runs"]
    return runs


def state(home: Path, run_id: str) -> RunState:
    return RunStore(AutomationManager(home).workspace.home).get(run_id)


def ebook_task(home: Path, chapters: int = 4) -> tuple[AutomationManager, str]:
    mgr = AutomationManager(home)
    task_id = mgr.add_task(
        "content_creation", {"type": "ebook", "topic": "deep work", "chapters": chapters}
    )
    return AutomationManager(home), task_id


def control_after(home: Path, verb: str, chapter: int) -> Callable[[str, int, int], None]:
    """A progress callback that runs ``amgr runs VERB RUN`` once ``chapter`` is written."""

    def progress(label: str, done: int, total: int) -> None:
        if done == chapter:
            [run] = [r for r in runs_of(home) if r["status"] == "running"]
            result = amgr(home, "runs", verb, run["id"])
            assert result.exit_code == 0, result.output
            assert "takes effect after the current item" in result.output

    return progress


def chapter_files(home: Path) -> list[str]:
    return sorted(p.name for p in (home / ".mp" / "content" / "_work").glob("*/chapter-*.md"))


def test_ebook_exec_now_leaves_a_completed_run_with_stage_counts(home: Path) -> None:
    result = amgr(home, "exec-now", "content_creation", "ebook", "-p", "topic=focus", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)

    [run] = runs_of(home)
    assert run["id"] == record["id"] == record["run_id"]
    assert run["status"] == "completed" and run["stage"] == "assemble"
    assert run["stages"] == {
        "outline": {"done": 1, "planned": 1},
        "chapters": {"done": 5, "planned": 5},
        "assemble": {"done": 1, "planned": 1},
    }
    shown = amgr(home, "runs", "show", run["id"])
    assert shown.exit_code == 0 and "chapters   5/5" in shown.output


def test_other_types_keep_no_run_file(home: Path) -> None:
    result = amgr(home, "exec-now", "content_creation", "blog", "-p", "topic=focus")
    assert result.exit_code == 0, result.output
    assert runs_of(home) == []
    assert "no runs yet" in amgr(home, "runs", "list").output


def test_pause_stops_after_the_current_chapter_and_skips_later_runs(home: Path) -> None:
    mgr, task_id = ebook_task(home)
    spec = mgr.resolve_task("content_creation", task_id)

    record = mgr.run(spec, progress=control_after(home, "pause", 2))

    assert record.status is RunStatus.SKIPPED
    run_id = record.id
    assert record.run_id == run_id
    assert record.error == f"paused by user at chapters 2/4: amgr runs resume {run_id}"
    paused = state(home, run_id)
    assert paused.status is RunPhase.PAUSED and paused.control is None
    assert paused.stages["chapters"].done == 2 and paused.reason == "paused by user"
    assert chapter_files(home) == ["chapter-01.md", "chapter-02.md"]

    hint = f"previous run {run_id} is paused: amgr runs resume {run_id}"
    scheduled = mgr.run(spec, trigger=Trigger.SCHEDULED)
    assert scheduled.status is RunStatus.SKIPPED and scheduled.error == hint
    manual = amgr(home, "exec-now", "content_creation", "ebook", "--task", task_id, "--json")
    assert json.loads(manual.output)["error"] == hint
    assert chapter_files(home) == ["chapter-01.md", "chapter-02.md"]


def test_resume_continues_the_same_run_from_the_saved_chapters(home: Path) -> None:
    mgr, task_id = ebook_task(home)
    spec = mgr.resolve_task("content_creation", task_id)
    run_id = mgr.run(spec, progress=control_after(home, "pause", 1)).id

    resumed = amgr(home, "runs", "resume", run_id)
    assert resumed.exit_code == 0, resumed.output
    assert f"--task {task_id}" in resumed.output
    assert state(home, run_id).status is RunPhase.RUNNING

    record = mgr.run(spec, trigger=Trigger.SCHEDULED)

    assert record.status is RunStatus.SUCCESS, record.error
    assert record.run_id == run_id and record.id != run_id
    assert record.result is not None and record.result["chapters_reused"] == 1
    done = state(home, run_id)
    assert done.status is RunPhase.COMPLETED
    assert done.stages["chapters"].model_dump() == {"done": 4, "planned": 4}
    assert done.attempts == [run_id, record.id]
    assert [r["id"] for r in runs_of(home)] == [run_id]


def test_cancel_stops_after_the_current_chapter_and_the_next_run_starts_anew(
    home: Path,
) -> None:
    mgr, task_id = ebook_task(home, chapters=3)
    spec = mgr.resolve_task("content_creation", task_id)

    record = mgr.run(spec, progress=control_after(home, "cancel", 1))

    assert record.status is RunStatus.SKIPPED
    assert record.error == f"cancelled by user at chapters 1/3 (run {record.id})"
    assert state(home, record.id).status is RunPhase.CANCELLED
    again = mgr.run(spec)
    assert again.status is RunStatus.SUCCESS and again.run_id == again.id != record.id
    assert [r["status"] for r in runs_of(home)] == ["cancelled", "completed"]


def test_an_interrupted_run_is_continued_by_the_next_run(home: Path) -> None:
    """A daemon stopping mid-run leaves the run ``running``; after a restart it goes on."""
    mgr, task_id = ebook_task(home, chapters=3)
    spec = mgr.resolve_task("content_creation", task_id)
    stop = threading.Event()

    def progress(label: str, done: int, total: int) -> None:
        stop.set()

    first = execute_run(mgr.workspace, RunRequest(spec), progress=progress, cancel=stop)
    assert first.status is RunStatus.FAILED and "cancelled after chapter 1/3" in str(first.error)
    assert state(home, first.id).status is RunPhase.RUNNING

    second = AutomationManager(home).run(spec, trigger=Trigger.SCHEDULED)
    assert second.status is RunStatus.SUCCESS and second.run_id == first.id
    assert state(home, first.id).status is RunPhase.COMPLETED


def test_pause_of_a_run_nobody_works_on_takes_effect_at_once(home: Path) -> None:
    mgr, task_id = ebook_task(home, chapters=2)
    spec = mgr.resolve_task("content_creation", task_id)
    stop = threading.Event()
    first = execute_run(
        mgr.workspace, RunRequest(spec), progress=lambda *a: stop.set(), cancel=stop
    )

    result = amgr(home, "runs", "pause", first.id)
    assert result.exit_code == 0 and "paused" in result.output
    assert state(home, first.id).status is RunPhase.PAUSED
    result = amgr(home, "runs", "cancel", first.id)
    assert result.exit_code == 0 and state(home, first.id).status is RunPhase.CANCELLED
    assert amgr(home, "runs", "list", "--status", "cancelled").output.count(first.id) == 1


@pytest.mark.parametrize(
    ("verb", "message"),
    [
        ("pause", "is completed: only a running run can be paused"),
        ("cancel", "is completed: only a running or paused run can be cancelled"),
        ("resume", "is completed: only a paused run can be resumed"),
    ],
)
def test_controls_of_a_finished_run_exit_2(home: Path, verb: str, message: str) -> None:
    assert amgr(home, "exec-now", "content_creation", "ebook", "-p", "topic=x").exit_code == 0
    [run] = runs_of(home)
    result = amgr(home, "runs", verb, run["id"])
    assert result.exit_code == 2
    assert message in result.output
    assert state(home, run["id"]).status is RunPhase.COMPLETED


@pytest.mark.parametrize("verb", ["show", "pause", "resume", "cancel"])
@pytest.mark.parametrize("run_id", ["r0000nosuchrun", "../../x", ".hidden"])
def test_unknown_or_unsafe_run_ids_exit_2(home: Path, verb: str, run_id: str) -> None:
    result = amgr(home, "runs", verb, run_id)
    assert result.exit_code == 2
    assert "amgr runs list" in result.output
    assert not (home.parent / "x.json").exists()


def test_publishing_pending_pauses_after_the_current_item_and_resumes(tmp_path: Path) -> None:
    home = write_home(
        tmp_path / "home",
        {"site": {"kind": "filesystem", "path": "site"}},
        tasks={"publishing": [{"id": "pub", "type": "pending"}]},
    )
    items = [add_item(home, title=f"Post number {n}") for n in range(3)]
    mgr = AutomationManager(home)
    spec = mgr.resolve_task("publishing", "pub")

    def pause_once(label: str, done: int, total: int) -> None:
        if done == 1:
            [run] = runs_of(home)
            assert amgr(home, "runs", "pause", run["id"]).exit_code == 0

    first = mgr.run(spec, progress=pause_once)
    assert first.status is RunStatus.SKIPPED and "paused by user at publish 1/3" in str(first.error)
    assert len(list((home / "site").glob("*.md"))) == 1
    assert mgr.run(spec, trigger=Trigger.SCHEDULED).status is RunStatus.SKIPPED

    assert amgr(home, "runs", "resume", first.id).exit_code == 0
    second = mgr.run(spec, trigger=Trigger.SCHEDULED)

    assert second.status is RunStatus.SUCCESS and second.run_id == first.id
    assert len(list((home / "site").glob("*.md"))) == len(items)
    done = state(home, first.id)
    assert done.status is RunPhase.COMPLETED
    assert done.stages["publish"].model_dump() == {"done": 3, "planned": 3}


def test_publishing_pending_with_nothing_to_send_keeps_no_run_file(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home", {"site": {"kind": "filesystem", "path": "site"}})
    result = amgr(home, "exec-now", "publishing", "pending")
    assert result.exit_code == 0, result.output
    assert runs_of(home) == []
