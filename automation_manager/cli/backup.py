"""``amgr backup``: take a backup now, restore one (a thin shell over ``operations.backup``)."""

from __future__ import annotations

from pathlib import Path

import click

from .output import manager, print_json


@click.group("backup")
def backup_group() -> None:
    """Backups of the home: amgr-backup-*.tar.gz with a manifest of checksums.

    Schedule them with an actions task ({"type": "backup", "params": {"backup_dir": ...}}).
    """


@backup_group.command("create")
@click.argument("backup_dir", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the backup's path and size as JSON.")
@click.pass_context
def create_cmd(ctx: click.Context, backup_dir: str, as_json: bool) -> None:
    """Write one backup of the home into BACKUP_DIR (outside .mp) now."""
    from ..errors import ConfigError, Problem
    from ..operations.backup import create_backup
    from ..operations.params import CheckEnv
    from ..operations.registry import ACTIONS

    mgr = manager(ctx)
    kind = ACTIONS.find("backup")
    assert kind is not None
    problems = kind.problems({"backup_dir": backup_dir}, CheckEnv(mgr.home.root))
    if problems:
        raise ConfigError([Problem("BACKUP_DIR", "", p.message, p.fix) for p in problems])
    target = Path(backup_dir).expanduser().resolve()
    report = create_backup(mgr.home, target, mgr.now())
    if as_json:
        print_json(report.to_json())
    else:
        click.echo(f"backup written: {report.path} ({report.files} files, {report.bytes} bytes)")


@backup_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--to",
    "to",
    type=click.Path(file_okay=False),
    help="An empty (or new) folder to restore into (default: the home, if it is empty).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was restored as JSON.")
@click.pass_context
def restore_cmd(ctx: click.Context, file: str, to: str | None, as_json: bool) -> None:
    """Restore backup FILE into an empty folder, verifying every file's checksum.

    \b
    Examples:
      amgr backup restore ../backups/amgr-backup-20261201T020000Z.tar.gz --to ./restored
    Exit 0 restored, 1 the backup is damaged (the file that does not match is named;
    nothing is left behind), 2 the folder is not empty or FILE is missing.
    """
    from ..home import Home
    from ..operations.backup import restore

    target = Path(to) if to else Home.resolve(ctx.find_root().obj.get("home")).root
    report = restore(Path(file).resolve(), target.expanduser().resolve())
    if as_json:
        print_json(report.to_json())
    else:
        click.echo(
            f"restored {report.files} files from {report.backup.name} into {report.to} "
            f"(backup of {report.created_at}); checksums verified"
        )
