"""``amgr runs list|show|pause|resume|cancel``: multi-stage runs and control of them.

Thin: the rules live in :mod:`automation_manager.runs.store`; this module parses and
renders. Pause and cancel take effect after the running item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..runs.models import RunPhase, RunState
from ..runs.view import run_view
from .output import is_tty, manager, print_json, table

if TYPE_CHECKING:
    from ..runs.store import RunStore


def _store(ctx: click.Context, *, read_only: bool = False) -> RunStore:
    from ..runs.store import RunStore

    return RunStore(manager(ctx, read_only=read_only).workspace.home)


@click.group("runs")
def runs_group() -> None:
    """Multi-stage runs (ebooks, publishing pending): progress, pause, resume, cancel.

    \b
    Examples:
      amgr runs list --status running
      amgr runs show RUN
      amgr runs pause RUN     # stops after the current chapter or item
      amgr runs resume RUN    # the task's next run continues it
      amgr runs cancel RUN
    """


@runs_group.command("list")
@click.option(
    "--status", type=click.Choice([s.value for s in RunPhase]), help="Only runs with this status."
)
@click.option("--task", "task_id", help="Only this task's runs (its last 20).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def list_cmd(ctx: click.Context, status: str | None, task_id: str | None, as_json: bool) -> None:
    """Runs, oldest first: task, type, status, stage and done/planned."""
    store = _store(ctx, read_only=True)
    runs = [r for r in store.all() if status is None or r.status.value == status]
    if task_id is not None:
        runs = [r for r in runs if r.task_id == task_id][-20:]
    if as_json:
        print_json({"runs": [run_view(r, store.home) for r in runs]})
        return
    if not runs:
        click.echo("no runs" + (" match" if status else " yet"))
        return
    from ..ids import short_forms

    short = short_forms(r.id for r in store.all()) if is_tty() else {}
    rows = [
        [
            short.get(r.id, r.id),
            r.task_id,
            f"{r.category} {r.type}",
            store.shown_status(r) + (f" ({r.control.value} asked)" if r.control else ""),
            r.stage or "-",
            f"{r.progress().done}/{r.progress().planned}",
            r.updated_at.isoformat(timespec="seconds"),
        ]
        for r in runs
    ]
    table(None, ["id", "task", "type", "status", "stage", "done", "updated"], rows)


@runs_group.command("show")
@click.argument("run_id", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def show_cmd(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """One run: every stage's counts, its attempts, and what was asked of it."""
    store = _store(ctx, read_only=True)
    state = store.get(store.resolve(run_id))
    view = run_view(state, store.home)
    if as_json:
        print_json(view)
        return
    click.echo(f"{state.id}  ({state.category} {state.type}, task {state.task_id})")
    shown = store.shown_status(state)
    if shown == "queued":
        shown += " (no process works on it now: the task's next run continues it)"
    click.echo(f"  status:   {shown}" + (f" — {state.reason}" if state.reason else ""))
    if state.control:
        click.echo(f"  asked:    {state.control.value} (takes effect after the current item)")
    click.echo(f"  stage:    {state.where()}")
    for name, count in state.stages.items():
        click.echo(f"    {name:<10} {count.done}/{count.planned}")
    click.echo(f"  started:  {state.started_at.isoformat(timespec='seconds')}")
    click.echo(f"  updated:  {state.updated_at.isoformat(timespec='seconds')}")
    click.echo(f"  attempts: {', '.join(state.attempts)}")
    if "initial_snapshot" in view:  # a pipeline run
        _show_pipeline(view)


def _show_pipeline(view: dict[str, Any]) -> None:
    progress = view["progress"]
    usage = view["usage"]
    click.echo(f"  progress: {progress['done']}/{progress['planned']} (of the initial snapshot)")
    click.echo(
        f"  usage:    ${usage['cost_usd']:.4f}, {usage['prompt_tokens']} prompt + "
        f"{usage['completion_tokens']} completion tokens (estimate ${view['estimate_usd']:.4f})"
    )
    snapshot = ", ".join(f"{k} {v}" for k, v in view["initial_snapshot"].items())
    click.echo(f"  snapshot: {snapshot}")
    for name, result in view["stages"].items():
        fields = ", ".join(f"{k} {v}" for k, v in result.items() if k != "done")
        click.echo(f"    {name:<14} {fields}")


@runs_group.command("log")
@click.argument("run_id", metavar="RUN")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until the run stops.")
@click.option("--interval", type=float, default=0.5, hidden=True)
@click.pass_context
def log_cmd(ctx: click.Context, run_id: str, follow: bool, interval: float) -> None:
    """The run's activity log: stages, batches, items, skips, errors, pause/resume/cancel."""
    import time

    from ..runs import activity

    store = _store(ctx, read_only=True)
    full = store.resolve(run_id)
    offset = 0
    while True:
        lines, offset = activity.read_from(store.home, full, offset)
        for line in lines:
            click.echo(line)
        if not follow:
            return
        state = store.get(full)
        if state.status is not RunPhase.RUNNING or not store.is_live(full):
            lines, offset = activity.read_from(store.home, full, offset)
            for line in lines:
                click.echo(line)
            return
        time.sleep(interval)


def _say(state: RunState, asked: str) -> None:
    if state.control is not None:
        click.echo(f"run {state.id}: {asked} asked; it takes effect after the current item")
    else:
        click.echo(f"run {state.id}: {state.status.value}")


def _change(ctx: click.Context, run_id: str, what: str) -> RunState:
    """Apply ``pause``, ``resume`` or ``cancel`` to the run ``run_id`` (an id or a unique
    prefix) names, and return the run after the change."""
    store = _store(ctx)
    from ..distributed.control import run_control

    remote = run_control(manager(ctx).workspace)  # celery: the worker hears it too
    if remote is not None:
        return remote.change(store, run_id, what, manager(ctx).now())
    full = store.resolve(run_id)
    now = manager(ctx).now()
    if what == "pause":
        return store.pause(full, now)
    if what == "cancel":
        return store.cancel(full, now)
    return store.resume(full, now)


JSON_HELP = "Print the run after the change as one JSON document."


@runs_group.command("pause")
@click.argument("run_id", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def pause_cmd(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Pause a running run after its current item; scheduled runs of its task are skipped."""
    state = _change(ctx, run_id, "pause")
    if as_json:
        print_json(run_view(state, manager(ctx).workspace.home))
        return
    _say(state, "pause")
    if state.status is RunPhase.PAUSED:
        click.echo(f"  continue it with: amgr runs resume {state.id}")


@runs_group.command("resume")
@click.argument("run_id", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def resume_cmd(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Let a paused run go on: the task's next run (scheduled or exec-now) continues it."""
    state = _change(ctx, run_id, "resume")
    if as_json:
        print_json(run_view(state, manager(ctx).workspace.home))
        return
    stored = manager(ctx).workspace.task(state.task_id) is not None
    now = (
        f"amgr exec-now --task {state.task_id}"
        if stored
        else f"the same amgr exec-now {state.category} {state.type} ... command again"
    )
    click.echo(
        f"run {state.id}: queued at {state.where()}; the next run of task "
        f"{state.task_id} continues it (or now: {now})"
    )


@runs_group.command("cancel")
@click.argument("run_id", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def cancel_cmd(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Cancel a running (after its current item) or paused run; it is not continued."""
    state = _change(ctx, run_id, "cancel")
    if as_json:
        print_json(run_view(state, manager(ctx).workspace.home))
        return
    _say(state, "cancel")
