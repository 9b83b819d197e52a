"""``amgr completion bash|zsh|fish`` and the completion of task, content and run ids.

The script is click's own (``click.shell_completion``): the shell calls ``amgr`` back
with ``_AMGR_COMPLETE`` set, and click completes commands and flags from the command
tree. Ids come from the ``shell_complete`` callbacks below, which
:func:`automation_manager.cli.share_options` attaches by parameter name, so a new
command taking ``task_id``, ``item_id`` or ``run_id`` completes without more code.

A completion callback runs on every <Tab>: it reads only what it needs, never writes,
and returns nothing rather than raising (a broken file must not break the shell).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import click
from click.shell_completion import CompletionItem, get_completion_class

from ..home import Home

SHELLS = ("bash", "zsh", "fish")


def _home(ctx: click.Context) -> Home:
    """The home the command line names so far (a subcommand's --home, the root's, or $AMGR_HOME)."""
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    return Home.resolve(obj.get("home") or root.params.get("home"))


def task_ids(home: Home) -> list[str]:
    """Every task id of a home that validates, else those written in tasks.json."""
    from ..config import load_workspace

    try:
        return [spec.id for spec in load_workspace(home).tasks if not spec.builtin]
    except Exception:  # a broken home: fall back to the ids written in the file
        return _written_ids(home)


def _written_ids(home: Home) -> list[str]:
    import json

    try:
        data = json.loads(home.tasks_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    return [
        str(task["id"])
        for tasks in data.values()
        if isinstance(tasks, list)
        for task in tasks
        if isinstance(task, dict) and isinstance(task.get("id"), str)
    ]


def content_ids(home: Home) -> list[str]:
    """Content item folders (each holds an item.json)."""
    folder = home.content_dir
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "item.json").is_file())


def run_ids(home: Home) -> list[str]:
    """Multi-stage run files (``.mp/runs/RUN.json``)."""
    return sorted(p.stem for p in (home.mp / "runs").glob("*.json"))


def _completer(
    source: Callable[[Home], Iterable[str]],
) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    def complete(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        try:
            ids = source(_home(ctx))
        except Exception:  # never a traceback into the user's shell
            return []
        return [CompletionItem(i) for i in ids if i.startswith(incomplete)]

    return complete


COMPLETERS = {"task_id": _completer(task_ids), "item_id": _completer(content_ids)}
COMPLETERS["run_id"] = _completer(run_ids)


def attach_completion(param: click.Parameter) -> None:
    """Complete ``param`` with ids when its name is one of :data:`COMPLETERS`."""
    complete = COMPLETERS.get(param.name or "")
    if complete is not None and param._custom_shell_complete is None:
        param._custom_shell_complete = complete


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_cmd(shell: str) -> None:
    """Print the completion script for SHELL: commands, flags, task, content and run ids.

    \b
    Install:
      bash:  eval "$(amgr completion bash)"     (add to ~/.bashrc)
      zsh:   eval "$(amgr completion zsh)"      (add to ~/.zshrc)
      fish:  amgr completion fish > ~/.config/fish/completions/amgr.fish
    """
    from . import cli

    cls = get_completion_class(shell)
    if cls is None:  # click knows all of SHELLS; kept for a click without one of them
        raise click.UsageError(f"completion: {shell}: not supported by this click")
    click.echo(cls(cli, {}, "amgr", "_AMGR_COMPLETE").source())
