"""``amgr history show RECORD`` (one record whole) and ``amgr history -f`` (follow).

Thin like the rest of ``cli/``: :mod:`automation_manager.logs.lookup` finds the record
and reads what is appended; this module renders.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

import click

from .output import home_view, print_json

FOLLOW_POLL_S = 0.5
"""How long ``history -f`` sleeps between looks at the log (bounded, so Ctrl-C is quick)."""


def follow(ctx: click.Context, query: Any, as_json: bool) -> None:
    """Print each new matching record as one line (``--json``: one JSON line) until
    Ctrl-C, like ``journalctl -f``; Ctrl-C ends it with exit 0."""
    import time

    from ..logs.lookup import Tail

    mgr = home_view(ctx)
    tail = Tail(mgr.home, query, mgr.now)
    click.echo(f"following {mgr.home.logs_dir} (Ctrl-C to stop)", err=True)
    try:
        while True:
            for rec in tail.poll():
                if as_json:
                    click.echo(json.dumps(rec, ensure_ascii=False, default=str))
                else:
                    click.echo(_follow_line(rec))
            sys.stdout.flush()
            time.sleep(FOLLOW_POLL_S)
    except KeyboardInterrupt:
        ctx.exit(0)


def _follow_line(rec: dict[str, Any]) -> str:
    """One record as a line: time, full id (for ``history show``), task, kind, status,
    duration and error."""
    from ..text import format_ms
    from .history import _when

    parts = [
        _when(rec.get("timestamp")),
        str(rec.get("id", "")),
        str(rec.get("task_id", "")),
        f"{rec.get('category', '')}/{rec.get('type', '')}",
        str(rec.get("status", "")),
        format_ms(rec.get("duration_ms")),
    ]
    error = " ".join(str(rec.get("error") or "").split())
    return "  ".join(parts) + (f"  {error}" if error else "")


@click.command("show")
@click.argument("record_id", metavar="RECORD")
@click.option("--json", "as_json", is_flag=True, help="Print the record as one JSON document.")
@click.pass_context
def show_cmd(ctx: click.Context, record_id: str, as_json: bool) -> None:
    """One record whole: params, result, error, usage, files and URLs.

    RECORD is a record id or any unique prefix of one (see `amgr history`).
    """
    from ..logs.lookup import find_record
    from ..text import format_ms

    mgr = home_view(ctx)
    rec = find_record(mgr.home, record_id, mgr.now().astimezone().tzinfo)
    if as_json:
        print_json(rec)
        return
    click.echo(f"{rec.get('id')}  ({rec.get('category')} {rec.get('type')}, {rec.get('status')})")
    for key in ("timestamp", "task_id", "trigger", "attempt", "scheduled_for", "run_id"):
        if rec.get(key) is not None:
            click.echo(f"  {key + ':':<15}{rec[key]}")
    click.echo(f"  {'duration:':<15}{format_ms(rec.get('duration_ms')) or '-'}")
    if rec.get("provider"):
        click.echo(f"  {'provider:':<15}{rec['provider']}")
    if rec.get("error"):
        click.echo(f"  {'error:':<15}{rec['error']}")
    urls = sorted(set(_urls(rec.get("result"))))
    for url in urls:
        click.echo(f"  {'url:':<15}{url}")
    for name in ("params", "result", "usage"):
        if rec.get(name):
            body = json.dumps(rec[name], indent=2, ensure_ascii=False, default=str)
            click.echo(f"  {name}:")
            for line in body.splitlines():
                click.echo(f"    {line}")


def _urls(value: Any) -> Iterable[str]:
    """Every http(s) URL anywhere in ``value`` (a record's result): where it went."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        yield value
