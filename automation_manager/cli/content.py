"""``amgr content list|show|approve|reject|retry`` and ``amgr check``.

Thin: the rules live in :mod:`automation_manager.publishers.queue` and
:mod:`automation_manager.publishers.health`; this module parses and renders.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from ..enums import ContentStatus
from .output import is_tty, manager, print_json, table

if TYPE_CHECKING:
    from ..publishers.queue import ContentQueue

KINDS = ("shorts", "blog", "ebook", "social")


def _queue(ctx: click.Context, *, read_only: bool = False) -> ContentQueue:
    from ..publishers.queue import ContentQueue

    mgr = manager(ctx, read_only=read_only)
    return ContentQueue(mgr.workspace, mgr.now)


@click.group("content")
def content_group() -> None:
    """The content queue: what was made, its status, where it went.

    \b
    Examples:
      amgr content list --status review
      amgr content show blog-20260105-090000-deep-work-1a2b
      amgr content show blog-20260105     # any unique prefix of an id
      amgr content approve blog-20260105-090000-deep-work-1a2b
      amgr content reject ID --reason "off topic"
      amgr content retry ID
    """


@content_group.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in ContentStatus]),
    help="Only items with this status.",
)
@click.option("--type", "kind", type=click.Choice(KINDS), help="Only items of this kind.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def list_cmd(ctx: click.Context, status: str | None, kind: str | None, as_json: bool) -> None:
    """Content items, oldest first, with where each is published or planned."""
    queue = _queue(ctx, read_only=True)
    items = queue.items(status, kind)
    if as_json:
        print_json({"items": [queue.view(i) for i in items]})
        return
    if not items:
        click.echo("no content items" + (" match" if status or kind else " yet"))
        return
    from ..ids import short_forms

    tty = is_tty()  # piped: whole ids and titles, for scripts
    short = short_forms(queue.store.ids()) if tty else {}
    rows = [
        [
            short.get(i.id, i.id),
            i.kind,
            str(i.status),
            i.provider or "-",
            i.title[:50] if tty else i.title,
            queue.describe_where(i),
        ]
        for i in items
    ]
    columns = ["id", "kind", "status", "provider", "title", "platforms"]
    if any(i.meta.get("pipeline") for i in items):  # made by a content pipeline
        columns.append("pipeline / cluster")
        for row, i in zip(rows, items, strict=True):
            row.append(
                f"{i.meta['pipeline']} / {i.meta.get('cluster')}" if i.meta.get("pipeline") else "-"
            )
    table(None, columns, rows)


@content_group.command("show")
@click.argument("item_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def show_cmd(ctx: click.Context, item_id: str, as_json: bool) -> None:
    """One item: files, status history, where it was published (URLs), planned times."""
    queue = _queue(ctx, read_only=True)
    view = queue.view(queue.get(queue.store.resolve(item_id)))
    if as_json:
        print_json(view)
        return
    click.echo(f"{view['id']}  ({view['kind']}, {view['status']})")
    click.echo(f"  title:   {view['title']}")
    if view.get("provider"):
        click.echo(f"  made by: {view['provider']}")
    if view["topic"]:
        click.echo(f"  topic:   {view['topic']}")
    click.echo(f"  folder:  {view['folder']}")
    for role, path in view["files"].items():
        click.echo(f"  file:    {role}: {path}")
    click.echo("  platforms:")
    for entry in view["where"] or [{"platform": "(none)", "state": "no platform takes it"}]:
        line = f"    {entry['platform']}: {entry['state']}"
        if entry["state"] == "planned":
            line += f" for {queue.local(datetime.fromisoformat(entry['at']))}"
        if entry.get("url"):
            line += f" {entry['url']}"
        elif entry.get("remote_id"):
            line += f" {entry['remote_id']}"
        if entry.get("error"):
            line += f" — {entry['error']}"
        click.echo(line)
    click.echo("  history:")
    for change in view["history"]:
        note = f" — {change['note']}" if change["note"] else ""
        click.echo(
            f"    {queue.local(datetime.fromisoformat(change['at']))}  {change['status']}{note}"
        )


def _resolved(ctx: click.Context, item_id: str) -> tuple[ContentQueue, str]:
    """The queue and the full id that ``item_id`` (an id or a unique prefix) names."""
    queue = _queue(ctx)
    return queue, queue.store.resolve(item_id)


JSON_HELP = "Print the item after the change as one JSON document."


@content_group.command("approve")
@click.argument("item_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def approve_cmd(ctx: click.Context, item_id: str, as_json: bool) -> None:
    """Move an item from review to pending, so publishing sends it."""
    queue, full = _resolved(ctx, item_id)
    item = queue.approve(full)
    if as_json:
        print_json(queue.view(item))
        return
    click.echo(f"approved {item.id}: pending (sent by the next publishing run when due)")


@content_group.command("reject")
@click.argument("item_id", metavar="ID")
@click.option("--reason", help="Why, kept in the item's history.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def reject_cmd(ctx: click.Context, item_id: str, reason: str | None, as_json: bool) -> None:
    """Mark an item rejected: it is never published."""
    queue, full = _resolved(ctx, item_id)
    item = queue.reject(full, reason)
    if as_json:
        print_json(queue.view(item))
        return
    click.echo(f"rejected {item.id}" + (f": {reason}" if reason else ""))


@content_group.command("retry")
@click.argument("item_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def retry_cmd(ctx: click.Context, item_id: str, as_json: bool) -> None:
    """Put a failed item back to pending; platforms that have it are never sent again."""
    queue, full = _resolved(ctx, item_id)
    item, reset = queue.retry(full)
    if as_json:
        print_json({**queue.view(item), "reset": reset})
        return
    again = f" (fresh attempt on: {', '.join(reset)})" if reset else ""
    click.echo(f"retrying {item.id}: pending{again}")


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def check_cmd(ctx: click.Context, as_json: bool) -> None:
    """Test every platform's credentials and the LLM provider; nothing is posted.

    One line per platform (a cheap authenticated read; a webhook gets a signed ping
    with X-Amgr-Event: ping) and one for the LLM. Exit 0 only when all pass.
    """
    from ..publishers.health import run_checks
    from ..secrets import mask, secret_values

    mgr = manager(ctx)
    results = run_checks(mgr.workspace, now=mgr.now)
    secrets = secret_values(mgr.workspace.config)
    if as_json:
        print_json(
            {
                "ok": all(r.ok for r in results),
                "checks": [{**r.to_json(), "message": mask(r.message, secrets)} for r in results],
            }
        )
    else:
        for result in results:
            click.echo(mask(result.line(), secrets))
    if not all(r.ok for r in results):
        ctx.exit(1)


def _add_visuals() -> None:
    from .visuals import regenerate_cmd

    content_group.add_command(regenerate_cmd)


_add_visuals()
