"""The three files a person edits: config.json, tasks.json, schedules.json.

The names below are imported on first use (PEP 562), so that a module of this package
that needs no model (:mod:`.facts`, :mod:`.lastgood`) can be imported without pydantic.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loader import TaskSpec, Workspace, load_workspace
    from .models import Config, LLMConfig
    from .tasks import SchedulesFile, Task, TasksFile

__all__ = [
    "Config",
    "LLMConfig",
    "SchedulesFile",
    "Task",
    "TaskSpec",
    "TasksFile",
    "Workspace",
    "load_workspace",
]

_WHERE = {
    "Config": ".models",
    "LLMConfig": ".models",
    "SchedulesFile": ".tasks",
    "Task": ".tasks",
    "TaskSpec": ".loader",
    "TasksFile": ".tasks",
    "Workspace": ".loader",
    "load_workspace": ".loader",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(where, __name__), name)
    globals()[name] = value
    return value
