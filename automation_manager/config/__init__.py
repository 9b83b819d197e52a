"""The three files a person edits: config.json, tasks.json, schedules.json."""

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
