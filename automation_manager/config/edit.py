"""Safe edits of tasks.json and config.json: under a lock, validated whole, written atomically.

A daemon that is running picks the change up on its next reload.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any, TypeVar

from filelock import FileLock

from ..enums import Category
from ..errors import ConfigError, Problem
from ..fsutil import atomic_write_json, ensure_dir
from ..home import CONFIG_FILE, TASKS_FILE, Home
from .jsonsafe import read_json_file
from .loader import derived_id, load_workspace

R = TypeVar("R")


def edit_lock(home: Home) -> FileLock:
    ensure_dir(home.locks_dir)
    return FileLock(str(home.edit_lock_path), timeout=30)


def _current(home: Home, name: str) -> dict[str, Any]:
    problems: list[Problem] = []
    path = home.tasks_path if name == TASKS_FILE else home.config_path
    data = read_json_file(path, name, problems)
    if problems:
        raise ConfigError(problems)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(Problem(name, "", "must be a JSON object {...}", "fix the file first"))
    return data


def edit_file(home: Home, name: str, change: Callable[[dict[str, Any]], R]) -> R:
    """Apply ``change`` to a copy of ``name``'s JSON, validate the whole home, then write.

    :raises ConfigError: when the result would not validate; nothing is written.
    """
    with edit_lock(home):
        data = copy.deepcopy(_current(home, name))
        result = change(data)
        load_workspace(home, overrides={name: data})
        path = home.tasks_path if name == TASKS_FILE else home.config_path
        atomic_write_json(path, data)
        return result


def new_task_id(category: Category, task: dict[str, Any], taken: set[str]) -> str:
    """A stable, file-safe id for a new task: ``<type>-<topic slug>-<4 hex>``."""
    from ..content.store import slugify

    base = str(task.get("type", "task"))
    if task.get("topic"):
        base += "-" + slugify(str(task["topic"]), 30)
    while True:
        candidate = f"{base}-{os.urandom(2).hex()}"
        if candidate not in taken:
            return candidate


def all_ids(data: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    for tasks in data.values():
        if isinstance(tasks, list):
            ids.update(str(t["id"]) for t in tasks if isinstance(t, dict) and "id" in t)
    return ids


def category_of(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        valid = ", ".join(c.value for c in Category)
        raise ConfigError(
            Problem(TASKS_FILE, value, f"unknown category {value!r}", f"use one of: {valid}")
        ) from None


def find_task(data: dict[str, Any], category: Category | None, ref: int | str) -> tuple[str, int]:
    """Locate a task by index (within ``category``) or by id (anywhere). → (category, index)."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and category):
        if category is None:
            raise ConfigError(Problem(TASKS_FILE, "", "an index needs a category", ""))
        tasks = data.get(category.value) or []
        idx = int(ref)
        if not 0 <= idx < len(tasks):
            raise ConfigError(
                Problem(
                    TASKS_FILE,
                    f"{category.value}[{idx}]",
                    "no task at this index",
                    f"use 0..{len(tasks) - 1}" if tasks else "the category has no tasks",
                )
            )
        return category.value, idx
    for cat, tasks in data.items():
        if category is not None and cat != category.value:
            continue
        if isinstance(tasks, list):
            for idx, task in enumerate(tasks):
                if not isinstance(task, dict):
                    continue
                own = task.get("id")
                if own == ref or (
                    own is None and derived_id(Category(cat), str(task.get("type")), idx) == ref
                ):
                    return cat, idx
    raise ConfigError(
        Problem(TASKS_FILE, str(ref), "no task with this id", "see `amgr tasks list` for ids")
    )


def save_config(home: Home, config: dict[str, Any]) -> None:
    """Validate and atomically write a whole config.json."""

    def replace(data: dict[str, Any]) -> None:
        data.clear()
        data.update(config)

    edit_file(home, CONFIG_FILE, replace)
