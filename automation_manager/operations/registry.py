"""Action types: one frozen value object per action a multi-action task may run.

An ``actions`` task runs a list ``[{"type": ..., "params": {...}}, ...]`` in order as
one run. Everything amgr knows about an action type lives on its :class:`ActionType`:
its documented params, which are required, how its params are checked at validation
(so a bad action is exit 2 before anything runs), and a lazy reference to the function
that performs it. Importing this module imports no executor.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .params import (
    CLEANUP_FOLDERS,
    CheckEnv,
    ParamProblem,
    check_backup,
    check_cleanup,
    check_command,
    check_http,
    check_report,
    example,
)

if TYPE_CHECKING:
    from ..executors.base import RunContext

ActionFn = Callable[["RunContext", Mapping[str, Any]], dict[str, Any]]
"""``perform(ctx, params) -> result``: raises an ``AmgrError`` when the action fails."""


Checker = Callable[[Mapping[str, Any], CheckEnv], list[ParamProblem]]


def _no_checks(params: Mapping[str, Any], env: CheckEnv) -> list[ParamProblem]:
    return []


@dataclass(frozen=True)
class ActionType:
    """One action type.

    :param name: its ``type`` in an action.
    :param summary: one line saying what it does.
    :param target: ``module:function`` (under ``automation_manager``) that performs it.
    :param fields: every param it reads, name → one-line doc.
    :param required: params it cannot do without.
    :param check: further checks of the param values, run at validation.
    """

    name: str
    summary: str
    target: str = field(repr=False)
    fields: Mapping[str, str] = field(default_factory=dict, repr=False)
    required: tuple[str, ...] = ()
    check: Checker = field(default=_no_checks, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def load(self) -> ActionFn:
        """Import and return the function that performs this action."""
        module, _, attr = self.target.partition(":")
        fn: ActionFn = getattr(importlib.import_module(f"automation_manager.{module}"), attr)
        return fn

    def problems(self, params: Mapping[str, Any], env: CheckEnv) -> list[ParamProblem]:
        """Every reason ``params`` cannot run; empty when they can."""
        out: list[ParamProblem] = []
        keys = sorted(self.fields)
        for key in params:
            if key in self.fields:
                continue
            import difflib  # only when there is a mistake to name

            close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
            fix = f'did you mean "{close[0]}"?' if close else "remove it"
            out.append(
                ParamProblem(
                    f"params.{key}",
                    f"unknown param for a {self.name} action",
                    f"{fix} (params: {', '.join(keys) or 'none'})",
                )
            )
        for key in self.required:
            if params.get(key) in (None, "", []):
                out.append(
                    ParamProblem(f"params.{key}", f"a {self.name} action needs {key}", example(key))
                )
        if not out:
            out.extend(self.check(params, env))
        return out


class ActionRegistry:
    """Every action type, in the order the README lists them."""

    def __init__(self, types: tuple[ActionType, ...]) -> None:
        self._by_name = {t.name: t for t in types}
        if len(self._by_name) != len(types):
            raise ValueError("an action type is registered twice")

    def __iter__(self) -> Iterator[ActionType]:
        return iter(self._by_name.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def find(self, name: str) -> ActionType | None:
        return self._by_name.get(name)

    def suggestion(self, name: str) -> str:
        """``did you mean "backup"? (types: ...)`` for an unknown name."""
        import difflib  # only when there is a mistake to name

        close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.5)
        head = f'did you mean "{close[0]}"? ' if close else ""
        return f"{head}(action types: {', '.join(self.names())})"


ACTIONS = ActionRegistry(
    (
        ActionType(
            "backup",
            "a .tar.gz of the home with a manifest and checksums (state db by SQLite's backup API)",
            "operations.backup:backup_action",
            fields={
                "backup_dir": "where backups go (outside .mp; relative to the home)",
                "retention": 'prune older backups: "7d"/"7days", or {"keep": N}',
                "target": '"home" (default: the three files and .mp) or "database" '
                "(state database, run logs and publish ledger)",
            },
            required=("backup_dir",),
            check=check_backup,
        ),
        ActionType(
            "cleanup",
            "remove generated files older than older_than (never logs, ledger or state db)",
            "operations.cleanup:cleanup_action",
            fields={
                "older_than": 'age of files to remove, e.g. "30d" or "30days"',
                "folders": f"which of {', '.join(CLEANUP_FOLDERS)} (default: all)",
                "dry_run": "list what would go, remove nothing (exec-now --dry-run)",
            },
            required=("older_than",),
            check=check_cleanup,
        ),
        ActionType(
            "health_check",
            "disk, home, platforms and the model provider (the maintenance task)",
            "operations.actions:health_check_action",
            fields={
                "min_free_mb": "free disk space below this fails the check (default 200)",
                "warn_free_pct": "free disk space below this percent is a warning (default 10)",
                "provider_timeout_s": "how long the model provider may take (default 5)",
            },
        ),
        ActionType(
            "archive_logs",
            "gzip run logs older than log_retention_days (the maintenance task)",
            "operations.actions:archive_logs_action",
        ),
        ActionType(
            "report",
            "a weekly or monthly activity report as Markdown and JSON in .mp/reports",
            "operations.report:report_action",
            fields={"period": '"week" (default) or "month": the days the report covers'},
            check=check_report,
        ),
        ActionType(
            "http_check",
            "GET a URL and expect a status",
            "operations.checks:http_check_action",
            fields={
                "url": "the http(s) URL to GET",
                "expect": "the status code expected (default 200)",
                "timeout_s": "how long to wait for the answer (default 10)",
            },
            required=("url",),
            check=check_http,
        ),
        ActionType(
            "command",
            "run a program with arguments (no shell) under a timeout and resource limits",
            "operations.checks:command_action",
            fields={
                "argv": "program and arguments as a list, never through a shell",
                "timeout_s": "kill it after this many seconds (default 60)",
                "memory_mb": "address-space limit (RLIMIT_AS; default: the task's resources)",
                "cpu_s": "CPU-time limit in seconds (default: timeout_s)",
                "nice": "scheduling niceness 0–19 (default 10)",
            },
            required=("argv",),
            check=check_command,
        ),
    )
)
"""Every action type amgr ships."""
