"""``amgr run``, ``amgr status`` and ``amgr plan``: thin shells over the engine."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING

import click

from ..text import plural
from .output import is_tty, manager, print_json, table

if TYPE_CHECKING:
    from ..engine.daemon import Daemon
    from ..engine.overview import Firing, PlanReport, Stamp, StatusReport
    from ..operations.metrics import MetricsServer


@click.command("run")
@click.option(
    "--once",
    is_flag=True,
    help="Catch up missed runs, run what is due now, wait for them, and exit.",
)
@click.option(
    "--metrics",
    metavar="HOST:PORT",
    help="Serve Prometheus metrics here (e.g. 127.0.0.1:9464; default: config metrics.listen).",
)
@click.option(
    "--dashboard",
    "with_dashboard",
    is_flag=True,
    help="Also serve the web dashboard from this process (see `amgr dashboard`).",
)
@click.option(
    "--listen",
    default="127.0.0.1:8765",
    show_default=True,
    help="With --dashboard: HOST:PORT (a non-loopback address needs --i-know).",
)
@click.option("--i-know", is_flag=True, help="With --dashboard: allow a non-loopback --listen.")
@click.pass_context
def run_cmd(
    ctx: click.Context,
    once: bool,
    metrics: str | None,
    with_dashboard: bool,
    listen: str,
    i_know: bool,
) -> None:
    """Run the scheduler daemon in the foreground.

    It fires every enabled task when due, catches up runs missed while it was down
    (each task's misfire policy), reloads edited files within 2 s, and stops cleanly on
    Ctrl-C or SIGTERM (running tasks get shutdown_grace_s to finish). One line per run
    start and finish goes to stderr.

    \b
    Exit codes: 0 stopped cleanly (--once: every run succeeded or was skipped),
    1 (--once) a run failed, 2 bad configuration, 3 another daemon holds this home.
    """
    from ..engine.daemon import Daemon
    from ..home import Home

    home = Home.resolve(ctx.find_root().obj.get("home"))
    daemon = Daemon(home)
    server = _metrics_server(daemon, metrics, once)
    web = None
    try:
        if with_dashboard:
            from ..dashboard.server import Background, Listen, make_server
            from .dashboard import announce

            where = Listen.parse(listen, i_know=i_know)
            web_server, url = make_server(home, where)
            web = Background(web_server)
            web.start()
            announce(url, where.loopback)
        code = daemon.run_once() if once else daemon.run_forever()
    finally:
        if web is not None:
            web.stop()
        if server is not None:
            server.close()
    ctx.exit(code)


def _metrics_server(daemon: Daemon, listen: str | None, once: bool) -> MetricsServer | None:
    """Start the metrics server (``--metrics``, else config ``metrics.listen``), if any.

    A port in use is one clear message and exit 2, before the daemon starts.
    """
    if listen is None:
        from ..errors import ConfigError

        try:
            config = daemon.load(once=once).config
        except ConfigError:
            return None  # the daemon reports the problems itself
        listen = config.metrics.listen if config.metrics is not None else None
        if listen is None:
            return None
    from ..operations.metrics import start_metrics

    pool_depth = lambda: daemon.pool.queued() if daemon.pool is not None else 0  # noqa: E731
    server = start_metrics(
        listen, daemon.home, lambda: daemon.workspace, daemon.now, queue_depth=pool_depth
    )
    click.echo(f"metrics: http://{listen}/metrics", err=True)
    return server


def _local(stamp: Stamp | None) -> str:
    """``2026-05-04 09:00:00 CEST`` from a report stamp (the date is kept: tasks span days)."""
    if stamp is None:
        return "-"
    return datetime.fromisoformat(stamp.local).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _utc(stamp: Stamp | None) -> str:
    if stamp is None:
        return "-"
    return datetime.fromisoformat(stamp.utc).strftime("%Y-%m-%d %H:%M:%SZ")


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool) -> None:
    """Daemon (pid, since), each task's timers, runs in progress, today's quota and budget.

    Per task, like ``systemctl list-timers``: NEXT (local and UTC), LEFT until it, LAST
    run (any trigger; skipped runs do not count), PASSED since it, and LAST RESULT.
    """
    from ..engine.overview import status_report

    mgr = manager(ctx, read_only=True)
    report = status_report(mgr.workspace, mgr.now())
    if as_json:
        print_json(report.to_json())
        return
    _render_status(report)


def _process_note(category: str, process_type: str | None) -> str:
    """`` (monitoring)`` when a task's process type is not its category's default."""
    from ..enums import DEFAULT_PROCESS_TYPE, Category

    default = DEFAULT_PROCESS_TYPE[Category(category)].value
    return f" ({process_type})" if process_type and process_type != default else ""


def _render_status(report: StatusReport) -> None:
    d = report.daemon
    if d.running:
        since = "-"
        if d.started_at is not None:  # None for the moment before daemon.json is written
            since = datetime.fromisoformat(d.started_at).strftime("%Y-%m-%d %H:%M:%S %Z")
        click.echo(
            f"daemon: running, pid {d.pid}, since {since.strip()}"
            + (" (run --once)" if d.mode == "once" else "")
        )
    else:
        stale = f" (pid {d.stale_pid} left state behind)" if d.stale_pid else ""
        click.echo(f"daemon: not running{stale} — start it with `amgr run`")
    if report.executor is not None:
        from .worker import render_executor

        render_executor(report.executor)
    if not report.automation_enabled:
        click.echo(
            "automation is disabled (config.json enabled: false): scheduled runs are skipped"
        )
    rows = [
        [
            t.id,
            f"{t.category}/{t.type}" + _process_note(t.category, t.process_type),
            t.schedule or "-",
            _local(t.fire_at),
            _utc(t.fire_at),
            t.left,
            _local(t.last_run),
            f"{t.passed} ago" if t.passed is not None else "-",
            t.last_result or "-",
        ]
        for t in report.tasks
    ]
    table(
        f"next runs ({report.timezone})",
        ["task", "kind", "schedule", "next", "next (UTC)", "left", "last", "passed", "last result"],
        rows,
    )
    if report.unscheduled:
        click.echo(f"no schedule (exec-now only): {', '.join(report.unscheduled)}")
    if report.in_progress:
        table(
            "runs in progress",
            ["task", "trigger", "attempt", "started", "running"],
            [
                [
                    r.task_id
                    + (" (stale: its daemon is gone)" if r.stale else "")
                    + (f" (queued: {r.waiting_for_resources})" if r.waiting_for_resources else ""),
                    r.trigger,
                    str(r.attempt),
                    r.started_at,
                    f"{r.running_s:.0f} s",
                ]
                for r in report.in_progress
            ],
        )
    else:
        click.echo("runs in progress: none")
    q = report.quota
    held = q.in_progress
    running = f" (+{held.content} in progress)" if held.content else ""
    click.echo(
        f"today ({q.date}): content {q.content.used}/{q.content.limit}{running}, "
        f"ebooks {q.ebooks.used}/{q.ebooks.limit}"
        + (f" (+{held.ebooks} in progress)" if held.ebooks else "")
    )
    llm = report.llm
    if llm.provider:
        click.echo(f"llm: {llm.provider}")
    if llm.daily_budget_usd is not None:
        spent = llm.spent_today_usd
        spent_text = "unknown" if spent is None else f"${spent:.4f}"
        held_usd = (
            f" (+${llm.reserved_usd:.4f} held by runs in progress)" if llm.reserved_usd else ""
        )
        click.echo(f"llm spend today: {spent_text} of ${llm.daily_budget_usd:.2f}{held_usd}")


@click.command("plan")
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    default=7,
    show_default=True,
    help="How far ahead to look.",
)
@click.option("--task", "task_id", metavar="ID", help="Only this task (enabled or not).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="At most this many firings per task.",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="List every firing of hourly (or more frequent) tasks instead of one summary line.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def plan_cmd(
    ctx: click.Context,
    days: float,
    task_id: str | None,
    limit: int,
    show_all: bool,
    as_json: bool,
) -> None:
    """Dry run of the future: every firing in the next DAYS, and what a start would catch up.

    Times are shown in the configured zone and UTC; a task with jitter shows its exact
    start (jitter is deterministic) and the latest it could be. A task firing hourly or
    more often is one line (its count, first and last) unless --all; --json keeps every
    firing. Changes nothing.
    """
    from ..engine.overview import plan_report
    from ..errors import UsageError

    mgr = manager(ctx, read_only=True)
    ws = mgr.workspace
    task_id = ws.task_id(task_id) if task_id is not None else None
    if task_id is not None and ws.task(task_id) is None:
        raise UsageError(f"--task {task_id}: no task has this id (see `amgr tasks list`)")
    report = plan_report(ws, mgr.now(), days=days, task_id=task_id, limit=limit)
    if as_json:
        print_json(report.to_json())
        return
    _render_plan(report, days, limit, show_all=show_all)


_GROUP_GAP_S = 3600.0
"""Firings at most this far apart (hourly or more often) print as one summary line."""


def _frequent(firings: list[Firing]) -> bool:
    """Whether ``firings`` are many and at most an hour apart (one line says them all).

    Decided from the firings themselves, so an interval, a cron or an ``every: hour``
    schedule groups alike, and a daily task never does.
    """
    if len(firings) < 3:
        return False
    dues = [datetime.fromisoformat(f.due.utc) for f in firings]
    return all((b - a).total_seconds() <= _GROUP_GAP_S for a, b in pairwise(dues))


def _render_plan(report: PlanReport, days: float, limit: int, *, show_all: bool) -> None:
    click.echo(
        f"plan for the next {plural(days, 'day')} ({report.timezone}; now "
        f"{datetime.fromisoformat(report.now).strftime('%Y-%m-%d %H:%M:%S %Z')})"
    )
    for task in report.tasks:
        state = "" if task.enabled else " [disabled]"
        click.echo(
            f"\n{task.id}{state} — {task.category}/{task.type}: {task.schedule or 'no schedule'}"
        )
        jitter = task.timing.jitter if task.timing else None
        if not show_all and _frequent(task.firings):
            first, last = task.firings[0], task.firings[-1]
            click.echo(
                f"  {plural(len(task.firings), 'firing')}"
                + (f", jittered (up to +{jitter})" if jitter else "")
                + ": first "
                f"{_local(first.due)} ({_utc(first.due)}), last {_local(last.due)} "
                f"({_utc(last.due)}); --all lists each"
            )
        for f in task.firings if show_all or not _frequent(task.firings) else []:
            line = f"  {_local(f.due)}  ({_utc(f.due)})"
            if jitter:
                line += f"  starts {_local(f.fire_at)[11:19]} (up to +{jitter})"
            click.echo(line)
        if task.schedule and not task.firings:
            click.echo("  no firing in this period")
        if task.more:
            click.echo(f"  … more (showing the first {limit}; use --limit)")
        click.echo(f"  catch-up at start: {task.catch_up_note}")
        for c in task.catch_up:
            click.echo(f"    {_local(c)}  ({_utc(c)})")
    if is_tty() and not report.tasks:
        click.echo("no tasks")
