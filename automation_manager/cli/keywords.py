"""``amgr keywords import|add|list|disable``: a pipeline's keyword list.

Thin: parsing, merging and storing live in :mod:`automation_manager.pipeline.keywords`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .output import manager, print_json, table

if TYPE_CHECKING:
    from ..pipeline.store import PipelineDB


def pipeline_id(ctx: click.Context, given: str) -> str:
    """The id of the pipeline task ``given`` names; exit 2 naming the pipelines otherwise."""
    from ..errors import UsageError

    ws = manager(ctx).workspace
    names = [s.id for s in ws.tasks if s.type == "pipeline"]
    spec = ws.task(given)
    if spec is None or spec.type != "pipeline":
        known = ", ".join(names) or 'none yet: add a task with "type": "pipeline"'
        raise UsageError(f"tasks.json: {given}: not a pipeline task — use one of: {known}")
    return spec.id


def _db(ctx: click.Context) -> PipelineDB:
    from ..pipeline.store import PipelineDB

    return PipelineDB(manager(ctx).workspace.home)


@click.group("keywords")
def keywords_group() -> None:
    """A pipeline's keywords: import a CSV or text file, add, list, disable.

    \b
    Examples:
      amgr keywords import garden-site keywords.csv   # header: keyword,volume,difficulty,intent
      amgr keywords add garden-site "grow tomatoes" "tomato blight"
      amgr keywords list garden-site --status new
      amgr keywords disable garden-site "tomato blight"
    """


@keywords_group.command("import")
@click.argument("pipeline")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def import_cmd(ctx: click.Context, pipeline: str, file: Path, as_json: bool) -> None:
    """Import keywords from a CSV (a "keyword" column) or a text file (one per line)."""
    from ..pipeline.keywords import parse_file, store_keywords

    task_id = pipeline_id(ctx, pipeline)
    found, bad = parse_file(file)
    db = _db(ctx)
    try:
        summary = store_keywords(db, task_id, found, manager(ctx).now())
    finally:
        db.close()
    summary.bad = bad
    if as_json:
        print_json(summary.to_json())
        return
    for line in bad:
        click.echo(line, err=True)
    click.echo(f"{task_id}: {summary.line()}")


@keywords_group.command("add")
@click.argument("pipeline")
@click.argument("keywords", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def add_cmd(ctx: click.Context, pipeline: str, keywords: tuple[str, ...], as_json: bool) -> None:
    """Add keywords given on the command line."""
    from ..errors import UsageError
    from ..pipeline.keywords import Keyword, parse_text, store_keywords

    task_id = pipeline_id(ctx, pipeline)
    found, bad = parse_text("\n".join(keywords), "keywords")
    if bad:
        raise UsageError("; ".join(bad))
    del found
    db = _db(ctx)
    try:
        summary = store_keywords(
            db, task_id, [Keyword(k.strip()) for k in keywords], manager(ctx).now()
        )
    finally:
        db.close()
    if as_json:
        print_json(summary.to_json())
        return
    click.echo(f"{task_id}: {summary.line()}")


@keywords_group.command("list")
@click.argument("pipeline")
@click.option("--status", type=click.Choice(["new", "clustered", "disabled"]), help="Only these.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def list_cmd(ctx: click.Context, pipeline: str, status: str | None, as_json: bool) -> None:
    """The pipeline's keywords, in the order they came."""
    from ..pipeline.keywords import list_keywords

    task_id = pipeline_id(ctx, pipeline)
    db = _db(ctx)
    try:
        rows = list_keywords(db, task_id, status)
    finally:
        db.close()
    if as_json:
        print_json({"task_id": task_id, "keywords": rows})
        return
    if not rows:
        click.echo("no keywords" + (f" with status {status}" if status else ""))
        return
    table(
        None,
        ["keyword", "volume", "difficulty", "intent", "status", "cluster"],
        [
            [
                str(r["keyword"]),
                _s(r["volume"]),
                _s(r["difficulty"]),
                _s(r["intent"]),
                str(r["status"]),
                _s(r["cluster_id"]),
            ]
            for r in rows
        ],
    )


def _s(value: object) -> str:
    return "-" if value is None else str(value)


@keywords_group.command("disable")
@click.argument("pipeline")
@click.argument("keyword")
@click.pass_context
def disable_cmd(ctx: click.Context, pipeline: str, keyword: str) -> None:
    """Keep a keyword out of later runs (a cluster it is already in keeps it)."""
    from ..errors import UsageError
    from ..pipeline.keywords import disable_keyword

    task_id = pipeline_id(ctx, pipeline)
    db = _db(ctx)
    try:
        changed = disable_keyword(db, task_id, keyword)
    finally:
        db.close()
    if not changed:
        raise UsageError(f"{task_id}: no keyword {keyword!r} — see amgr keywords list {task_id}")
    click.echo(f"{task_id}: {keyword!r} disabled")
