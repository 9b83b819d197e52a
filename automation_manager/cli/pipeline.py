"""``amgr pipeline status [ID]`` and ``amgr pipeline show ID KIND``: a pipeline's state.

Thin: the numbers come from :mod:`automation_manager.pipeline.query`.
"""

from __future__ import annotations

import json

import click

from .keywords import pipeline_id
from .output import manager, print_json, table


@click.group("pipeline")
def pipeline_group() -> None:
    """Content pipelines: pending counts per stage and each stage's items.

    \b
    Examples:
      amgr pipeline status                # every pipeline
      amgr pipeline status garden-site --json
      amgr pipeline show garden-site clusters
      amgr exec-now content_creation pipeline --task garden-site
    """


@pipeline_group.command("status")
@click.argument("task", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def status_cmd(ctx: click.Context, task: str | None, as_json: bool) -> None:
    """Pending count per stage (the pipeline overview)."""
    from ..pipeline.query import PENDING_LABELS, pipeline_status

    ws = manager(ctx).workspace
    ids = [pipeline_id(ctx, task)] if task else [s.id for s in ws.tasks if s.type == "pipeline"]
    reports = [pipeline_status(ws.home, i) for i in ids]
    if as_json:
        print_json({"pipelines": [r.to_json() for r in reports]})
        return
    if not reports:
        click.echo('no pipeline tasks: add one with "type": "pipeline" in content_creation')
        return
    for report in reports:
        total = sum(report.keywords.values())
        click.echo(f"{report.task_id}: {total} keywords, {report.in_review} articles in review")
        for number, (stage, count) in enumerate(report.pending.items(), 1):
            click.echo(f"  {number} {stage:<14} {count:>6}  {PENDING_LABELS[stage]}")


@pipeline_group.command("show")
@click.argument("task")
@click.argument("kind", type=click.Choice(["keywords", "clusters", "ideas", "tasks", "images"]))
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def show_cmd(ctx: click.Context, task: str, kind: str, as_json: bool) -> None:
    """A stage's items: clusters, ideas, tasks (articles) or images."""
    from ..pipeline.query import list_stage_items

    task_id = pipeline_id(ctx, task)
    report = list_stage_items(manager(ctx).workspace.home, task_id, kind)
    if as_json:
        print_json(report.to_json())
        return
    if not report.items:
        click.echo(f"{task_id}: no {kind} yet")
        return
    columns = [k for k in report.items[0] if k not in ("outline", "run_id", "created_at")]
    rows = []
    for item in report.items:
        row = []
        for key in columns:
            value = item[key]
            text = (
                json.dumps(value)
                if isinstance(value, list)
                else ("-" if value is None else str(value))
            )
            row.append(text if len(text) <= 60 else text[:57] + "...")
        rows.append(row)
    table(None, columns, rows)


@pipeline_group.command("disable-cluster")
@click.argument("task")
@click.argument("cluster", type=int)
@click.option("--enable", is_flag=True, help="Enable it again instead.")
@click.pass_context
def disable_cluster_cmd(ctx: click.Context, task: str, cluster: int, enable: bool) -> None:
    """Keep a cluster's ideas and tasks out of later stages (or, with --enable, let
    them in again)."""
    from ..errors import UsageError
    from ..pipeline.query import set_cluster_enabled

    task_id = pipeline_id(ctx, task)
    if not set_cluster_enabled(manager(ctx).workspace.home, task_id, cluster, enable):
        raise UsageError(
            f"{task_id}: no cluster {cluster} — see amgr pipeline show {task_id} clusters"
        )
    click.echo(f"{task_id}: cluster {cluster} {'enabled' if enable else 'disabled'}")


@pipeline_group.command("estimate")
@click.argument("task")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def estimate_cmd(ctx: click.Context, task: str, as_json: bool) -> None:
    """The next run's estimated cost (× 1.2), today's budget left, whether it suffices."""
    from ..pipeline.query import estimate_next_run

    task_id = pipeline_id(ctx, task)
    mgr = manager(ctx)
    report = estimate_next_run(mgr.workspace, task_id, mgr.now())
    if as_json:
        print_json(report.to_json())
        return
    click.echo(
        f"{task_id}: next run estimated at ${report.estimate_usd:.4f} "
        f"(× 1.2 = ${report.with_safety_usd:.4f})"
    )
    if report.max_cost_per_run_usd is not None:
        click.echo(f"  max_cost_per_run_usd ${report.max_cost_per_run_usd:.4f}")
    if report.daily_budget_usd is not None:
        left = max(0.0, report.daily_budget_usd - report.spent_today_usd)
        click.echo(f"  today's budget: ${left:.4f} left of ${report.daily_budget_usd:.4f}")
    click.echo("  enough: yes" if report.enough else "  enough: no — the run would be refused")
