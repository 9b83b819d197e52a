"""``amgr stats``: task and execution statistics (a thin shell over ``operations.stats``)."""

from __future__ import annotations

import click

from .output import manager, print_json, table


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.2f}s"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


@click.command("stats")
@click.option("--days", default=7, show_default=True, help="Look back this many days.")
@click.option("--json", "as_json", is_flag=True, help='Print {"tasks": [...], "execution": {...}}.')
@click.pass_context
def stats_cmd(ctx: click.Context, days: int, as_json: bool) -> None:
    """Task statistics (runs, success rate, p50/p95 duration, last result, items, cost)
    and execution statistics (per status and process type, runs per hour, queue wait,
    retries, CPU seconds and peak RSS per run).

    \b
    Examples:
      amgr stats
      amgr stats --days 30 --json
    """
    from ..operations.stats import read_stats

    mgr = manager(ctx)
    stats = read_stats(mgr.home, days, mgr.now())
    if as_json:
        print_json(stats.to_json())
        return
    table(
        f"tasks, last {days} days",
        [
            "task",
            "process",
            "runs",
            "ok",
            "failed",
            "skipped",
            "success",
            "p50",
            "p95",
            "last",
            "items",
            "cost",
        ],
        [
            [
                t.task_id,
                t.process_type,
                str(t.runs),
                str(t.succeeded),
                str(t.failed),
                str(t.skipped),
                _pct(t.success_rate),
                _ms(t.duration_p50_ms),
                _ms(t.duration_p95_ms),
                t.last_status or "-",
                str(t.items),
                f"${t.cost_usd:.4f}",
            ]
            for t in stats.tasks
        ],
    )
    e = stats.execution
    statuses = ", ".join(f"{n} {s}" for s, n in e.by_status.items()) or "no runs"
    click.echo(f"runs: {e.total} ({statuses}); {e.runs_per_hour:g} runs/hour; {e.retries} retries")
    for kind, counts in e.by_process_type.items():
        click.echo(f"  {kind}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    wait = (
        "-"
        if e.queue_wait_p50_s is None
        else f"{e.queue_wait_p50_s:.1f}s / {e.queue_wait_p95_s:.1f}s"
    )
    click.echo(f"queue wait p50/p95: {wait}; spend ${e.cost_usd:.4f}")
    r = e.resources
    if r.runs:
        click.echo(
            f"resources per run: CPU {r.cpu_s_mean:g}s mean, {r.cpu_s_max:g}s max; "
            f"peak RSS {r.peak_rss_mb_max:g} MB max ({r.runs} runs measured)"
        )
