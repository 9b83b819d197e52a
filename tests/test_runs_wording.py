"""Issue 11 point 9 for runs: the hint printed after `runs resume` is a command that
works, and a resumed run that no process works on yet shows `queued`, not `running`."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from test_runs import amgr, control_after, ebook_task, state

from automation_manager.runs.models import RunPhase


def test_a_resumed_run_is_queued_and_the_hint_runs_it(home: Path) -> None:
    mgr, task_id = ebook_task(home)
    spec = mgr.resolve_task("content_creation", task_id)
    run_id = mgr.run(spec, progress=control_after(home, "pause", 1)).id

    resumed = amgr(home, "runs", "resume", run_id)
    assert resumed.exit_code == 0, resumed.output
    assert f"run {run_id}: queued at " in resumed.output
    listed = amgr(home, "runs", "list")
    row = next(line for line in listed.output.splitlines() if line.startswith(run_id))
    assert "\tqueued\t" in row and "\trunning\t" not in row
    shown = amgr(home, "runs", "show", run_id)
    assert "status:   queued (no process works on it now" in shown.output
    view = json.loads(amgr(home, "runs", "show", run_id, "--json").output)
    assert view["status"] == "running" and view["shown_status"] == "queued"

    hint = resumed.output.split("(or now: ")[1].rstrip().rstrip(")")
    argv = shlex.split(hint)
    assert argv[:2] == ["amgr", "exec-now"], hint
    done = amgr(home, *argv[1:], "--json")  # the printed command, as given
    assert done.exit_code == 0, done.output
    record = json.loads(done.output)
    assert record["status"] == "success" and record["run_id"] == run_id
    assert state(home, run_id).status is RunPhase.COMPLETED
