"""The ``amgr`` command: a thin shell over :class:`AutomationManager`.

Subcommands live in small modules and are imported only when used, so ``amgr --help``
stays fast. Every deliberate error becomes one line on stderr and its exit code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from .. import __version__
from ..errors import AmgrError

COMMANDS: dict[str, tuple[str, str]] = {
    # name: (module:attr, short help shown by --help without importing the module)
    "init": ("core:init_cmd", "Write working config.json, tasks.json, schedules.json."),
    "validate": ("core:validate_cmd", "Check the three files and report every problem."),
    "exec-now": ("core:exec_now_cmd", "Run one task now, in the foreground."),
    "history": ("history:history_cmd", "Past runs: table, summary, error patterns."),
    "run": ("daemon:run_cmd", "Run the scheduler daemon (or --once for cron)."),
    "status": ("daemon:status_cmd", "Daemon, next runs, runs in progress, quota and budget."),
    "plan": ("daemon:plan_cmd", "Dry run of the future: every firing in the next days."),
    "tasks": ("tasks:tasks_group", "List and edit tasks safely, also while a daemon runs."),
    "content": ("content:content_group", "The content queue: list, show, approve, reject, retry."),
    "check": ("content:check_cmd", "Test platform credentials and the LLM provider."),
    "runs": ("runs:runs_group", "Multi-stage runs: list, show, pause, resume, cancel."),
    "auth": ("auth:auth_cmd", "Connect an OAuth platform: amgr auth youtube|gdrive|x."),
    "stats": ("stats:stats_cmd", "Task and execution statistics: success, durations, resources."),
    "backup": ("backup:backup_group", "Back up the home now, or restore a backup (verified)."),
    "dashboard": ("dashboard:dashboard_cmd", "Serve the web dashboard; prints its login URL."),
    "keywords": ("keywords:keywords_group", "A pipeline's keywords: import, add, list, disable."),
    "pipeline": ("pipeline:pipeline_group", "Content pipelines: pending per stage, items."),
    "completion": (
        "completion:completion_cmd",
        "Print a shell completion script (bash, zsh, fish).",
    ),
}


def _home_after(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--home`` given after the subcommand: it replaces the root's value (or $AMGR_HOME).

    Also refuses a root ``--json`` on a command without JSON output, instead of ignoring it.
    """
    obj = ctx.find_root().ensure_object(dict)
    if value is not None:
        obj["home"] = value
    takes_json = any(p.name == "as_json" for p in ctx.command.params)
    leaf = not isinstance(ctx.command, click.Group)
    if obj.get("json") and leaf and not takes_json and not ctx.resilient_parsing:
        raise click.UsageError(f"--json: `{ctx.command_path}` has no JSON output", ctx)


def _json_either(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """A command's ``--json``, also set by ``amgr --json COMMAND``."""
    obj = ctx.find_root().obj
    return bool(value) or bool(isinstance(obj, dict) and obj.get("json"))


def share_options(command: click.Command) -> None:
    """Give ``command`` (and every command of a group) the root's shared options.

    The one place that makes ``amgr X --home H`` and ``amgr --json X`` work for every
    subcommand, and that attaches id completion to id parameters (see ``completion``).
    Idempotent: a command already shared is left as it is.
    """
    from .completion import attach_completion

    if any(p.name == "home" for p in command.params):
        return
    command.params.append(
        click.Option(
            ["--home"],
            type=click.Path(file_okay=False),
            expose_value=False,
            callback=_home_after,
            help="Home folder (as `amgr --home`; this one wins).",
        )
    )
    for param in command.params:
        if param.name == "as_json" and param.callback is None:
            param.callback = _json_either
        attach_completion(param)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            share_options(sub)


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._available(name)]

    @staticmethod
    def _available(name: str) -> bool:
        module = COMMANDS[name][0].split(":")[0]
        return importlib.util.find_spec(f"{__name__}.{module}") is not None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not self._available(cmd_name):
            return None
        target, _ = COMMANDS[cmd_name]
        module_name, attr = target.split(":")
        module = importlib.import_module(f"{__name__}.{module_name}")
        command: click.Command = getattr(module, attr)
        share_options(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand with stdout and stderr masking every secret."""
        from .output import masked_output

        with masked_output():
            try:
                return super().invoke(ctx)
            except (OSError, AmgrError) as exc:
                line = _home_problem(ctx, exc) if isinstance(exc, OSError) else None
                if line is not None:
                    click.echo(f"amgr: {line}", err=True)
                    ctx.exit(2)
                if not isinstance(exc, AmgrError):
                    raise
                message = str(exc)
                ws = ctx.obj.get("workspace") if isinstance(ctx.obj, dict) else None
                if ws is not None:
                    from ..secrets import mask, secret_values

                    message = mask(message, secret_values(ws.config))
                click.echo(f"amgr: {message}" if "\n" not in message else message, err=True)
                ctx.exit(exc.exit_code)


def _home_problem(ctx: click.Context, exc: OSError) -> str | None:
    """A home that cannot be used (not writable, full disk, a file where a folder must
    be) as one line with the fix; None for any other error. A record that is waiting
    for disk space (``RecordNotWritten``) keeps its own message and exit code."""
    from ..engine.recorder import RecordNotWritten
    from ..home import Home, unusable_home

    if isinstance(exc, RecordNotWritten):
        return None
    home = ctx.obj.get("home") if isinstance(ctx.obj, dict) else None
    return unusable_home(exc, Home.resolve(home).root)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="AMGR_HOME",
    help="Home folder with config.json, tasks.json, schedules.json (default: $AMGR_HOME or .).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON document on stdout, for the commands that have --json.",
)
@click.version_option(__version__, prog_name="amgr")
@click.pass_context
def cli(ctx: click.Context, home: str | None, as_json: bool) -> None:
    """amgr — schedule, run and report on content automation.

    Start with `amgr init`, then `amgr exec-now content_creation blog -p topic="..."`
    and `amgr history`. `amgr run` starts the daemon.
    """
    ctx.ensure_object(dict)
    ctx.obj["home"] = home  # a subcommand's own --home, parsed after this, wins
    ctx.obj["json"] = as_json


def main() -> None:
    """Console-script entry point."""
    import os

    try:
        cli.main(prog_name="amgr")
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("AMGR_DEBUG"):
            raise
        from ..secrets import mask

        click.echo(
            f"amgr: internal error: {type(exc).__name__}: {mask(str(exc))}\n"
            "  (a bug in amgr: rerun with AMGR_DEBUG=1 for the traceback and report it)",
            err=True,
        )
        sys.exit(1)
