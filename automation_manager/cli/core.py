"""``amgr init``, ``amgr validate`` and ``amgr exec-now``."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import UsageError
from ..text import plural
from .output import console, is_tty, manager, print_json

if TYPE_CHECKING:
    from ..logs.records import RunRecord


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help='Print {"home", "files": [...]} as JSON.')
@click.pass_context
def init_cmd(ctx: click.Context, directory: str | None, as_json: bool) -> None:
    """Write working config.json, tasks.json and schedules.json into DIRECTORY.

    Never overwrites an existing file: it says which files it kept.
    """
    from ..config.defaults import default_config, default_schedules, default_tasks
    from ..fsutil import atomic_write_json
    from ..home import Home

    home = Home.resolve(directory or ctx.find_root().obj.get("home"))
    home.root.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, str]] = []
    for path, data in (
        (home.config_path, default_config()),
        (home.tasks_path, default_tasks()),
        (home.schedules_path, default_schedules()),
    ):
        if path.exists():
            files.append({"path": str(path), "action": "kept"})
        else:
            atomic_write_json(path, data)
            files.append({"path": str(path), "action": "wrote"})
    if as_json:
        print_json({"home": str(home.root), "files": files})
        return
    for entry in files:
        kept = " (already exists)" if entry["action"] == "kept" else ""
        click.echo(f"{entry['action']:<7} {entry['path']}{kept}")
    where = "" if Path.cwd() == home.root else f" --home {home.root}"
    click.echo(
        "\nNext:\n"
        f"  amgr{where} validate\n"
        f'  amgr{where} exec-now content_creation blog -p topic="your topic"\n'
        f"  amgr{where} history\n"
        f"  amgr{where} run            # the daemon"
    )


@click.command("validate")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, also when invalid.")
@click.pass_context
def validate_cmd(ctx: click.Context, as_json: bool) -> None:
    """Check config.json, tasks.json and schedules.json; report every problem (exit 2).

    With --json a script gets one document either way: {"valid": true, ...} or
    {"valid": false, "problems": [{"file", "field", "message", "fix"}]} with exit 2
    (the problems are also on stderr, as without --json).
    """
    from dataclasses import asdict

    from ..errors import ConfigError
    from ..home import Home

    try:
        mgr = manager(ctx)
    except ConfigError as exc:
        if as_json:
            root = Home.resolve(ctx.find_root().obj.get("home")).root
            problems = [asdict(p) for p in exc.problems]
            print_json({"valid": False, "home": str(root), "problems": problems})
        raise
    ws = mgr.workspace
    enabled = sum(1 for t in ws.tasks if t.enabled)
    platforms = len(ws.config.platforms)
    if as_json:
        print_json(
            {
                "valid": True,
                "home": str(ws.home.root),
                "tasks": len(ws.tasks),
                "enabled": enabled,
                "platforms": platforms,
                "timezone": ws.timezone_name,
            }
        )
        return
    click.echo(
        f"valid: {ws.home.root} — {plural(len(ws.tasks), 'task')} ({enabled} enabled), "
        f"{plural(platforms, 'platform')}, time zone {ws.timezone_name}"
    )


def parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``-p key=value`` pairs; a value that is valid JSON (5, true, [..]) is taken as such,
    within the same bounds as the files (depth, integer size, length)."""
    from ..config.jsonsafe import parse_json

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            raise UsageError(
                f'-p {pair!r}: expected KEY=VALUE, e.g. -p topic="morning routines" -p chapters=5'
            )
        try:
            parsed = parse_json(value, f"-p {key}")
            out[key] = parsed if not isinstance(parsed, dict) else value
        except json.JSONDecodeError:
            out[key] = value
    return out


def _kind_from_task(command: Callable[..., None]) -> Callable[..., None]:
    """Fill CATEGORY and TYPE from ``--task ID`` when they are left out.

    So ``amgr exec-now --task daily-shorts`` needs no repeating of what tasks.json says;
    the command body sees the same arguments as with the long form.
    """

    @functools.wraps(command)
    def wrapper(ctx: click.Context, **kwargs: Any) -> None:
        task_id = kwargs.get("task_id")
        if task_id:  # an id or a unique prefix of one
            task_id = kwargs["task_id"] = manager(ctx).workspace.task_id(task_id)
        if kwargs.get("category") is None or kwargs.get("task_type") is None:
            if not task_id:
                raise UsageError(
                    "exec-now: give CATEGORY and TYPE (amgr exec-now content_creation blog "
                    '-p topic="..."), or a stored task: amgr exec-now --task ID'
                )
            spec = manager(ctx).workspace.task(task_id)
            if spec is not None:  # unknown: the body's lookup says so, naming tasks list
                kwargs["category"] = kwargs.get("category") or spec.category.value
                kwargs["task_type"] = kwargs.get("task_type") or spec.type
            else:
                kwargs["category"] = kwargs.get("category") or "content_creation"
                kwargs["task_type"] = kwargs.get("task_type") or ""
        command(ctx, **kwargs)

    return wrapper


@click.command("exec-now")
@click.argument("category", required=False)
@click.argument("task_type", metavar="TYPE", required=False)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help='A task field, e.g. -p topic="morning routines" (repeatable).',
)
@click.option(
    "--task", "task_id", metavar="ID", help="Run this stored task (fields from tasks.json)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run record alone, as JSON.")
@click.option(
    "--ignore-quota",
    is_flag=True,
    help="Skip the daily quota check for this one run (budget, overlap and dependencies "
    'still apply); the record says "quota_ignored": true.',
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="For an actions task: cleanup actions list what they would remove, removing nothing.",
)
@click.pass_context
@_kind_from_task
def exec_now_cmd(
    ctx: click.Context,
    category: str,
    task_type: str,
    params: tuple[str, ...],
    task_id: str | None,
    as_json: bool,
    ignore_quota: bool,
    dry_run: bool = False,
) -> None:
    """Run one task of CATEGORY and TYPE immediately, logged like any other run.

    \b
    Examples:
      amgr exec-now content_creation blog -p topic="deep work"
      amgr exec-now content_creation ebook -p topic="focus" -p chapters=3
      amgr exec-now publishing pending
      amgr exec-now monetization sales_report -p period=month
      amgr exec-now content_creation shorts --task daily-shorts --json
      amgr exec-now --task daily-shorts          (category and type from tasks.json)
      amgr exec-now content_creation blog -p topic="x" --ignore-quota

    Exit 0 on success (or a skip, explained on stderr), 1 when the task failed, 2 when
    a -p value is unknown or bad (no record is written).
    """
    mgr = manager(ctx)
    overrides = parse_params(params)
    if dry_run:  # a documented field of actions tasks; any other type refuses it (exit 2)
        overrides["dry_run"] = True
    if task_id:
        spec = mgr.resolve_task(category, task_id)
        if spec.type != task_type:
            raise UsageError(
                f"task {task_id} is a {spec.type} task, not {task_type}: "
                f"use `amgr exec-now {category} {spec.type} --task {task_id}`"
            )
    else:
        spec = mgr.resolve_task(category, overrides, type_=task_type)
        overrides = {}
    try:
        record = _run_with_progress(
            mgr, spec, overrides, show=is_tty() and not as_json, ignore_quota=ignore_quota
        )
    except KeyboardInterrupt as exc:  # the run recorded itself as interrupted first
        name = str(exc) or "SIGINT"
        click.echo(f"interrupted: stopped by {name}; the run is recorded as interrupted", err=True)
        ctx.exit(143 if name == "SIGTERM" else 130)
    if as_json:
        print_json(record.to_json())
    else:
        _describe(record)
    if record.status == "failed":
        ctx.exit(1)


def _run_with_progress(
    mgr: Any, spec: Any, overrides: dict[str, Any], show: bool, *, ignore_quota: bool = False
) -> Any:
    if not show:
        return mgr.run(spec, overrides=overrides, ignore_quota=ignore_quota)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        handle = bar.add_task(f"{spec.category.value} {spec.type}", total=None)

        def progress(label: str, done: int, total: int) -> None:
            bar.update(handle, description=label, completed=done, total=total)

        return mgr.run(spec, overrides=overrides, progress=progress, ignore_quota=ignore_quota)


def _describe(record: RunRecord) -> None:
    """The run in a few lines: the head, then what it made (stdout) or why not (stderr)."""
    from ..results import RunResult

    head = (
        f"{record.status}: {record.category} {record.type} (task {record.task_id}) "
        f"in {record.duration_ms} ms"
    )
    if record.provider:
        head += f" · provider {record.provider}"
    if record.usage:
        u = record.usage
        head += f" · {u.prompt_tokens}+{u.completion_tokens} tokens, ${u.cost_usd:.4f}"
    if record.status == "success":
        click.echo(head)
        made = RunResult.of(record.result)
        if made.summary:
            click.echo(f"  {made.summary}")
        for path in made.files:
            click.echo(f"  {path}")
    else:
        click.echo(head, err=True)
        if record.error:
            click.echo(f"  {record.error}", err=True)
    click.echo(f"  record {record.id}", err=record.status != "success")
