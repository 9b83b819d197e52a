"""``amgr tasks``: list and edit tasks.json safely, also while a daemon runs.

Every edit is validated against the whole home before it is written (atomically, under
the edit lock); a bad edit exits 2 and leaves the file as it was. A running daemon picks
the change up within 2 s.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from ..config.jsonsafe import parse_json
from ..engine.taskview import list_doc, show_doc
from ..errors import UsageError
from ..text import plural
from .output import is_tty, manager, print_json, table

if TYPE_CHECKING:
    from ..config import TaskSpec


def _value(text: str, option: str = "--set") -> Any:
    """A JSON value (5, true, [..], {..}, "x") when it parses as one, else the text itself.

    :raises ConfigError: naming ``option`` for JSON past the bounds (5000 deep, 5000 digits).
    """
    try:
        return parse_json(text, option)
    except ValueError:
        return text


def _pairs(pairs: tuple[str, ...], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("_", "").replace("-", "").isalnum():
            raise UsageError(
                f"{option} {pair!r}: expected KEY=VALUE, e.g. {option} priority=5 "
                f'or {option} schedule=\'{{"interval": "15m"}}\''
            )
        out[key] = _value(value)
    return out


def _schedule(text: str | None) -> Any:
    if text is None:
        return None
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            return parse_json(stripped, "--schedule")
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"--schedule: not valid JSON ({exc.msg} at column {exc.colno}); "
                'e.g. --schedule \'{"every": "day", "at": "09:00"}\''
            ) from None
    return stripped


def _echo_task(task: dict[str, Any], as_json: bool, verb: str) -> None:
    if as_json:
        print_json(task)
    else:
        click.echo(f"{verb} {task.get('id')}")


@click.group("tasks")
def tasks_group() -> None:
    """List and edit tasks (validated, atomic, safe while the daemon runs)."""


@tasks_group.command("list")
@click.option("--category", help="Only this category.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def list_cmd(ctx: click.Context, category: str | None, as_json: bool) -> None:
    """Every task: id, category, type, enabled, schedule and next due time."""
    mgr = manager(ctx, read_only=True)
    ws = mgr.workspace
    doc = list_doc(mgr, category)
    rows = doc["tasks"]
    if as_json:
        print_json(doc)
        return
    table(
        None if not is_tty() else f"tasks ({ws.timezone_name})",
        ["id", "category", "type", "enabled", "schedule", "next due"],
        [
            [
                r["id"],
                r["category"],
                r["type"],
                "yes" if r["enabled"] else "no",
                r["schedule"] or "-",
                (r["next_due"] or "-")[:19].replace("T", " "),
            ]
            for r in rows
        ],
    )


@tasks_group.command("show")
@click.argument("task_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def show_cmd(ctx: click.Context, task_id: str, as_json: bool) -> None:
    """One task: its fields, its effective schedule and its next three firings.

    The schedule is the one the daemon uses: the task's own, else schedules.json's for
    its type, with config.json's default time and time zone applied.
    """
    from ..errors import ConfigError, Problem
    from ..home import TASKS_FILE

    mgr = manager(ctx, read_only=True)
    ws = mgr.workspace
    task_id = ws.task_id(task_id)
    spec = ws.task(task_id)
    if spec is None:
        raise ConfigError(
            Problem(TASKS_FILE, task_id, "no task with this id", "see `amgr tasks list`")
        )
    tz = ZoneInfo(ws.timezone_name)
    doc = show_doc(mgr, spec)
    view = doc["task"]
    nexts = [datetime.fromisoformat(t) for t in view["next_firings"]]
    if as_json:
        print_json(doc)
        return
    click.echo(f"{spec.id}  ({spec.category.value} {spec.type}, {_state(spec)})")
    where = "its own" if view["schedule_from"] == "task" else "schedules.json"
    click.echo(f"  schedule: {view['schedule'] or 'none: runs only with exec-now'} ({where})")
    for key, value in view["fields"].items():
        if key not in ("id", "type", "enabled", "schedule"):
            click.echo(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
    if nexts:
        click.echo(f"  next {plural(len(nexts), 'firing')} ({ws.timezone_name}):")
        for when in nexts:
            click.echo(f"    {when.astimezone(tz):%Y-%m-%d %H:%M:%S %a}")


def _state(spec: TaskSpec) -> str:
    if not spec.enabled:
        return "disabled: never fires"
    return "enabled" if spec.schedule is not None else "enabled, no schedule"


@tasks_group.command("add")
@click.argument("category")
@click.option("--type", "type_", required=True, metavar="TYPE", help="The task type.")
@click.option("--id", "task_id", help="A stable id (default: generated).")
@click.option("--topic")
@click.option("--platform", help="A platform named in config.json.")
@click.option(
    "--schedule", help='A preset (daily, hourly, ...) or JSON, e.g. \'{"interval": "15m"}\'.'
)
@click.option("--priority", type=int, help="Higher runs first when several are due.")
@click.option(
    "--depends-on",
    "depends_on",
    multiple=True,
    metavar="ID",
    help="A task whose latest run must have succeeded (repeatable).",
)
@click.option("--timeout", "timeout_s", type=float, help="timeout_s: fail a run after this long.")
@click.option("--max-retries", type=int, help="Retries of transient failures.")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any other field, e.g. --set chapters=5 (repeatable).",
)
@click.option("--json-data", help="All fields as one JSON object (options override it).")
@click.option("--disabled", is_flag=True, help="Add it disabled.")
@click.option("--json", "as_json", is_flag=True, help="Print the added task as JSON.")
@click.pass_context
def add_cmd(
    ctx: click.Context,
    category: str,
    type_: str,
    task_id: str | None,
    topic: str | None,
    platform: str | None,
    schedule: str | None,
    priority: int | None,
    depends_on: tuple[str, ...],
    timeout_s: float | None,
    max_retries: int | None,
    sets: tuple[str, ...],
    json_data: str | None,
    disabled: bool,
    as_json: bool,
) -> None:
    """Add a task to CATEGORY (content_creation, publishing, monetization, maintenance).

    \b
    Examples:
      amgr tasks add content_creation --type blog --topic "deep work" --schedule weekly
      amgr tasks add publishing --type pending --schedule '{"interval": "30m"}'
      amgr tasks add maintenance --type health_check --id hc --schedule hourly
    """
    from ..config import edit as edits

    edits.category_of(category)
    data: dict[str, Any] = {}
    if json_data:
        parsed = _value(json_data, "--json-data")
        if not isinstance(parsed, dict):
            raise UsageError(
                '--json-data: expected a JSON object, e.g. \'{"topic": "focus", "chapters": 5}\''
            )
        data.update(parsed)
    data.update(_pairs(sets, "--set"))
    fields = {
        "type": type_,
        "id": task_id,
        "topic": topic,
        "platform": platform,
        "schedule": _schedule(schedule),
        "priority": priority,
        "timeout_s": timeout_s,
        "max_retries": max_retries,
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    if depends_on:
        data["depends_on"] = list(depends_on)
    if disabled:
        data["enabled"] = False
    else:
        data.setdefault("enabled", True)
    mgr = manager(ctx)
    new_id = mgr.add_task(category, data)
    task = mgr.workspace.task(new_id)
    _echo_task(task.task.dump() if task else {"id": new_id}, as_json, "added")


@tasks_group.command("update")
@click.argument("task_id", metavar="ID")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="A field to set, e.g. --set priority=5 --set schedule=daily (repeatable).",
)
@click.option(
    "--unset",
    "unsets",
    multiple=True,
    metavar="KEY",
    help="A field to remove (back to its default), repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the updated task as JSON.")
@click.pass_context
def update_cmd(
    ctx: click.Context, task_id: str, sets: tuple[str, ...], unsets: tuple[str, ...], as_json: bool
) -> None:
    """Change fields of task ID (values are JSON when they parse as JSON, else text)."""
    from ..config import edit as edits
    from ..home import TASKS_FILE

    changes = _pairs(sets, "--set")
    if not changes and not unsets:
        raise UsageError("nothing to change: give --set KEY=VALUE or --unset KEY")
    if "type" in unsets or "id" in unsets:
        raise UsageError("--unset: type and id cannot be removed")
    mgr = manager(ctx)
    full = mgr.workspace.task_id(task_id)

    def change(data: dict[str, Any]) -> dict[str, Any]:
        cat, idx = edits.find_task(data, None, full)
        task = {**data[cat][idx], **changes}
        for key in unsets:
            task.pop(key, None)
        data[cat][idx] = task
        return dict(task)

    updated = edits.edit_file(mgr.home, TASKS_FILE, change)
    _echo_task(updated, as_json, "updated")


def _simple(verb: str, fields: dict[str, Any] | None) -> click.Command:
    @click.command(verb)
    @click.argument("task_id", metavar="ID")
    @click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
    @click.pass_context
    def command(ctx: click.Context, task_id: str, as_json: bool) -> None:
        mgr = manager(ctx)
        task_id = mgr.workspace.task_id(task_id)
        if fields is None:
            task = mgr.remove_task("", task_id)
            _echo_task(task, as_json, "removed")
        else:
            task = mgr.update_task("", task_id, fields)
            _echo_task(task, as_json, f"{verb}d")

    command.help = {
        "remove": "Remove task ID.",
        "enable": "Enable task ID (it starts fresh: no catch-up of past due times).",
        "disable": "Disable task ID (the daemon unregisters it).",
    }[verb]
    return command


tasks_group.add_command(_simple("remove", None))
tasks_group.add_command(_simple("enable", {"enabled": True}))
tasks_group.add_command(_simple("disable", {"enabled": False}))
