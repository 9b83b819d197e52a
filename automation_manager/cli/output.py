"""Rendering helpers: rich on a TTY, plain text when piped, one JSON document with --json."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from ..manager import AutomationManager


def is_tty() -> bool:
    return sys.stdout.isatty()


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def manager(ctx: click.Context) -> AutomationManager:
    """The manager for ``--home``; the workspace is validated (exit 2 on bad files)."""
    from ..manager import AutomationManager

    obj = ctx.find_root().obj
    if obj.get("manager") is None:
        mgr = AutomationManager(obj.get("home"))
        obj["workspace"] = mgr.workspace
        obj["manager"] = mgr
    result: AutomationManager = obj["manager"]
    return result


def table(title: str | None, columns: list[str], rows: list[list[str]]) -> None:
    """A rich table on a TTY; tab-separated plain text when piped."""
    if is_tty():
        from rich.table import Table

        t = Table(title=title, show_lines=False)
        for col in columns:
            t.add_column(col)
        for row in rows:
            t.add_row(*row)
        console().print(t)
    else:
        if title:
            click.echo(title)
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join(row))
