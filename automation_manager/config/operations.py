"""Operations fields of tasks and config.json: actions, process type, resources, metrics.

The models here are referenced from :class:`~.tasks.Task` and :class:`~.models.Config`;
:func:`operations_problems` checks what a model alone cannot (action types and their
params, a ``backup_dir`` inside ``.mp``, ``command`` actions while ``allow_commands`` is
off), so every such mistake is exit 2 at validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import annotated_types as at

from ..enums import DEFAULT_PROCESS_TYPE, Category, ProcessType
from ..errors import Problem
from .base import After, Model

if TYPE_CHECKING:
    from .models import Config
    from .tasks import Task

Percent = Annotated[float, at.Ge(0), at.Le(100)]

MAX_RESOURCE_WAIT_S = 86_400.0


@dataclass(kw_only=True)
class ActionSpec(Model):
    """One action of a multi-action task: ``{"type": "backup", "params": {...}}``."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    type: Annotated[str, at.MinLen(1), at.MaxLen(64)]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class Resources(Model):
    """What a run may use: percent of the machine (``cpu``, ``memory``, ``storage``) or
    absolute (``memory_mb``, ``storage_mb``). The engine admits a run only while this
    fits; child processes (``command`` actions) run under these limits."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    cpu: Percent | None = None
    memory: Percent | None = None
    storage: Percent | None = None
    memory_mb: Annotated[float, at.Gt(0), at.Le(16_777_216)] | None = None
    storage_mb: Annotated[float, at.Gt(0), at.Le(1_073_741_824)] | None = None

    def __post_init__(self) -> None:
        if self.memory is not None and self.memory_mb is not None:
            raise ValueError("give memory (percent) or memory_mb, not both")


LISTEN = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(?P<port>\d{1,5})$")


def parse_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:9464"`` → ``("127.0.0.1", 9464)``; :class:`ValueError` when unusable."""
    match = LISTEN.match(value.strip())
    if match is None or not 0 < int(match.group("port")) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT, e.g. 127.0.0.1:9464")
    return match.group("host").strip("[]"), int(match.group("port"))


def _listen(value: str) -> str:
    parse_listen(value)
    return value


@dataclass(kw_only=True)
class MetricsConfig(Model):
    """config.json ``metrics``: where ``amgr run`` serves Prometheus metrics."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    listen: Annotated[str, After(_listen)] = "127.0.0.1:9464"


OnError = Literal["stop", "continue"]


def process_type_of(category: Category, task: Task) -> ProcessType:
    """The task's ``process_type``, else its category's default."""
    return task.process_type or DEFAULT_PROCESS_TYPE[category]


def operations_problems(
    file: str, where: str, task: Task, config: Config | None, home: Path | None
) -> list[Problem]:
    """Every operations reason ``task`` cannot run: actions and their params."""
    from ..operations.params import CheckEnv
    from ..operations.registry import ACTIONS

    def at(key: str) -> str:
        return f"{where}.{key}" if where else key

    out: list[Problem] = []
    if task.type != "actions":
        if task.actions:
            out.append(
                Problem(
                    file,
                    at("actions"),
                    f"only an actions task runs actions (this one is {task.type!r})",
                    'use a maintenance task {"type": "actions", "actions": [...], '
                    '"process_type": "..."} or remove "actions"',
                )
            )
        return out
    if task.actions is None:
        return out  # "needs a actions": reported with the other required fields
    if not task.actions:
        out.append(
            Problem(
                file,
                at("actions"),
                "an actions task needs at least one action",
                'add e.g. "actions": [{"type": "backup", "params": {"backup_dir": "../backups"}}]',
            )
        )
        return out
    env = CheckEnv(home=home, allow_commands=bool(config and config.allow_commands))
    for i, action in enumerate(task.actions):
        kind = ACTIONS.find(action.type)
        if kind is None:
            out.append(
                Problem(
                    file,
                    at(f"actions[{i}].type"),
                    f"unknown action type {action.type!r}",
                    ACTIONS.suggestion(action.type),
                )
            )
            continue
        for p in kind.problems(action.params, env):
            out.append(Problem(file, at(f"actions[{i}].{p.field}"), p.message, p.fix))
    return out
