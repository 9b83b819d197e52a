"""``amgr worker``: a Celery worker that runs this home's tasks (executor celery)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..config import Config
    from ..distributed.overview import ExecutorStatus

POOLS = ("prefork", "threads", "solo")


@click.command("worker")
@click.option(
    "--queues",
    "-Q",
    default=None,
    metavar="Q,...",
    help="Queues to take runs from (default: all: default, llm, render and configured ones).",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 256),
    default=None,
    help="Runs at once (default: the number of CPUs).",
)
@click.option(
    "--pool",
    type=click.Choice(POOLS),
    default="prefork",
    show_default=True,
    help="Celery pool: processes (hard time limits), threads, or one at a time.",
)
@click.option("--name", "-n", default=None, help="Worker name (default: amgr-PID@HOST).")
@click.option(
    "--loglevel",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
)
@click.pass_context
def worker_cmd(
    ctx: click.Context,
    queues: str | None,
    concurrency: int | None,
    pool: str,
    name: str | None,
    loglevel: str,
) -> None:
    """Run a Celery worker for this home's runs (config.json executor kind "celery").

    The worker needs the home's three files (a copy, or a shared mount) and the same
    secret environment variables as the scheduler. It runs until SIGTERM or Ctrl-C
    (a warm shutdown: running tasks finish); a run of a worker killed with -9 is
    recorded interrupted by the scheduler within a few seconds.

    \b
    Example: amgr worker --queues llm,default --concurrency 4
    Exit codes: 0 stopped, 2 bad configuration or executor not celery.
    """
    from ..config import load_workspace
    from ..config.executor import QUEUES
    from ..distributed.worker import start_worker
    from ..errors import ConfigError
    from ..home import Home

    ws = load_workspace(Home.resolve(ctx.find_root().obj.get("home")))
    ex = ws.config.executor
    if not ex.distributed:
        raise ConfigError(
            f'{ws.home.config_path}: executor.kind: is "{ex.kind}", so runs never leave the '
            'daemon — set "executor": {"kind": "celery", "broker_url": '
            '"redis://127.0.0.1:6379/0"} to run them on workers'
        )
    chosen = None
    if queues:
        chosen = [q.strip() for q in queues.split(",") if q.strip()]
        known = sorted({*QUEUES, *ex.queues})
        unknown = [q for q in chosen if q not in known]
        if unknown:
            raise click.BadParameter(
                f"{', '.join(unknown)}: no such queue — choose from {', '.join(known)}",
                param_hint="--queues",
            )
    start_worker(
        ws, queues=chosen, concurrency=concurrency, pool=pool, name=name, loglevel=loglevel
    )


def render_executor(status: ExecutorStatus) -> None:
    """``amgr status``'s executor lines: broker, live workers, queue depth."""
    state = "reachable" if status.reachable else f"UNREACHABLE: {status.error}"
    click.echo(f"executor: {status.kind} on {status.broker or '-'} ({state})")
    if not status.reachable:
        return
    if not status.workers:
        click.echo("  workers: none alive — start one with `amgr worker`")
    for w in status.workers:
        click.echo(
            f"  worker {w.name} ({w.host}): queues {', '.join(w.queues)}; "
            f"{w.active}/{w.concurrency} running; last beat {w.beat_age_s:g}s ago"
        )
    depth = ", ".join(f"{q} {n}" for q, n in status.queues.items())
    click.echo(f"  queued: {depth}")


def check_broker(config: Config) -> dict[str, object]:
    """``amgr check``'s broker test: its JSON entry (``ok``, ``detail``, ``workers``)."""
    from ..distributed.overview import broker_check
    from ..secrets import mask

    ok, detail, workers = broker_check(config)
    return {"ok": ok, "detail": mask(detail), "workers": workers}
