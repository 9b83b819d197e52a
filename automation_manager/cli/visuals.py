"""``amgr content regenerate ID --only ROLE``: remake one visual of an item.

Thin: the rules live in :mod:`automation_manager.visuals.regenerate`.
"""

from __future__ import annotations

import click

from ..visuals.roles import ONLY
from .output import is_tty, manager, print_json


@click.command("regenerate")
@click.argument("item_id", metavar="ID")
@click.option(
    "--only",
    "only",
    required=True,
    type=click.Choice(ONLY),
    help="The visual to remake (a model is called again when one is configured).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def regenerate_cmd(ctx: click.Context, item_id: str, only: str, as_json: bool) -> None:
    """Remake one visual of an item on purpose: cover, featured_image, card, thumbnail, video.

    \b
    Examples:
      amgr content regenerate blog-20260105 --only featured_image
      amgr content regenerate shorts-2026 --only video
    """
    from ..visuals.errors import VisualsError
    from ..visuals.regenerate import regenerate

    mgr = manager(ctx)
    tty = is_tty() and not as_json

    def progress(label: str, done: int, total: int) -> None:
        if tty:
            click.echo(f"\r{label} {done * 100 // max(1, total):3d}%", nl=False, err=True)

    try:
        made = regenerate(mgr.workspace, item_id, only, mgr.now(), progress)
    except VisualsError as exc:
        raise click.ClickException(str(exc)) from None
    if tty:
        click.echo("", err=True)
    if as_json:
        print_json(
            {
                "id": made.item_id,
                "role": made.role,
                "files": made.paths,
                "images": made.images,
                "cost_usd": made.cost_usd,
                "voice": made.voice,
            }
        )
        return
    cost = f", ${made.cost_usd:.3f}" if made.cost_usd else ""
    click.echo(f"regenerated {only} of {made.item_id}: {len(made.paths)} files{cost}")
    for path in made.paths:
        click.echo(f"  {path}")
