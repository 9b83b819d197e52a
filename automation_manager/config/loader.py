"""Load and validate a home's three files into one :class:`Workspace`.

Every problem is collected (not just the first) and reported as
``FILE: field.path: what is wrong — how to fix it``. Loading never writes.

Each file (or an edit's replacement for it) is first walked against the bounds of
:mod:`.limits`: nesting, numbers, text length and characters. A file that fails is not
given to its model, so nothing past a bound reaches pydantic, the scheduler or an
output, and every problem, whatever the input, is a :class:`ConfigError` (exit 2).
"""

from __future__ import annotations

import dataclasses
import json
import keyword
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..enums import Category
from ..errors import ConfigError, Problem
from ..fsutil import is_safe_id
from ..home import CONFIG_FILE, SCHEDULES_FILE, TASKS_FILE, Home
from ..tasktypes import REGISTRY
from .base import is_model, validate
from .defaults import DEFAULT_SCHEDULES
from .jsonsafe import read_json_file, value_problems
from .models import Config
from .operations import operations_problems
from .platforms import PLATFORM_KINDS, WINDOW_MODES
from .taskcheck import task_problems, with_resolved_platform
from .tasks import SchedulesFile, Task, TasksFile

if TYPE_CHECKING:
    from pydantic import ValidationError

    from ..scheduling import Schedule


@dataclass
class TaskSpec:
    """A task as the engine sees it: where it lives, its resolved id and schedule."""

    category: Category
    index: int
    task: Task
    id: str
    schedule: Schedule | None
    builtin: bool = False

    @property
    def type(self) -> str:
        return self.task.type

    @property
    def enabled(self) -> bool:
        return self.task.enabled


@dataclass
class Workspace:
    """A validated home: config, tasks with resolved schedules, and the raw JSON they came from."""

    home: Home
    config: Config
    tasks_file: TasksFile
    schedules_file: SchedulesFile
    tasks: list[TaskSpec]
    raw: dict[str, Any] = field(default_factory=dict)

    def task(self, task_id: str) -> TaskSpec | None:
        for spec in self.tasks:
            if spec.id == task_id:
                return spec
        return None

    def task_id(self, given: str) -> str:
        """The task id ``given`` names: itself, or the one id it is a unique prefix of.

        Returned unchanged when no id begins with it (the caller says "no such task");
        :raises UsageError: (exit 2) when it begins several ids, listing them.
        """
        from ..ids import resolve_prefix

        ids = [spec.id for spec in self.tasks]
        if given in ids or not any(i.startswith(given) for i in ids):
            return given
        return resolve_prefix("task", given, ids, hint="amgr tasks list")

    @property
    def timezone_name(self) -> str:
        from ..scheduling import local_zone_name

        return self.config.timezone or local_zone_name()


def derived_id(category: Category, type_: str, index: int) -> str:
    """Id of a task written without one: stable while the task keeps its place."""
    return f"{category.value}-{type_}-{index}"


_FIXES = {
    "int_parsing": "use a whole number without quotes, e.g. 5",
    "int_type": "use a whole number without quotes, e.g. 5",
    "int_from_float": "use a whole number, e.g. 5",
    "float_parsing": "use a number without quotes, e.g. 2.5",
    "float_type": "use a number without quotes, e.g. 2.5",
    "bool_parsing": "use true or false without quotes",
    "bool_type": "use true or false without quotes",
    "string_type": 'use a string in double quotes, e.g. "text"',
    "list_type": "use a JSON list [...]",
    "dict_type": "use a JSON object {...}",
    "model_type": "use a JSON object {...}",
    "model_attributes_type": "use a JSON object {...}",
    "dataclass_type": "use a JSON object {...}",
    "dataclass_args_type": "use a JSON object {...}",
    "missing": "add this field",
    "greater_than_equal": "use a larger value",
    "greater_than": "use a larger value",
    "less_than_equal": "use a smaller value",
}


def _path(loc: tuple[int | str, ...]) -> str:
    """``('platforms', 'site', 'filesystem', 'path')`` → ``platforms.site.path``.

    pydantic puts the tag of a discriminated union (a platform's kind, a window's mode)
    into the location; a person never wrote it there, so it is left out.
    """
    out = ""
    for i, part in enumerate(loc):
        prev = loc[i - 1] if i else None
        if (part in PLATFORM_KINDS and i == 2 and loc[0] == "platforms") or (
            part in WINDOW_MODES and prev == "window"
        ):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or "[" in str(part):
            continue
        else:
            part = _key(str(part))
            out += f".{part}" if out else part
    return out


def _key(name: str) -> str:
    """The key a field is written as: ``from`` for the field ``from_`` (a keyword)."""
    stem = name.removesuffix("_")
    return stem if stem != name and keyword.iskeyword(stem) else name


def _valid_keys(model: type, loc: tuple[int | str, ...]) -> list[str]:
    """Best effort: the field names allowed at ``loc`` (for 'unknown key' fixes)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if is_model(current):
            ann = typing.get_type_hints(current).get(str(part))
            if ann is None:
                return []
            args = typing.get_args(ann)
            for candidate in (ann, *args):
                if is_model(candidate):
                    current = candidate
                    break
                found = [a for a in typing.get_args(candidate) if is_model(a)]
                if found:
                    current = found[0]
                    break
            else:
                return []
    if is_model(current):
        return sorted(_key(f.name) for f in dataclasses.fields(current))
    return []


def problems_from_validation(
    name: str, exc: ValidationError, model: type, prefix: str = ""
) -> list[Problem]:
    """Turn pydantic's errors into problems that say what to do."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _path(loc)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        kind = err["type"]
        msg = err["msg"]
        if kind == "value_error":
            msg = msg.removeprefix("Value error, ")
        fix = _FIXES.get(kind, "")
        if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            ctx = err.get("ctx", {})
            bound = next(iter(ctx.values()), None)
            if bound is not None:
                op = {"greater_than_equal": "≥", "greater_than": ">"}.get(kind, "≤")
                fix = f"use a value {op} {bound}"
        if kind in ("extra_forbidden", "unexpected_keyword_argument"):
            msg = "unknown key"
            keys = _valid_keys(model, loc)
            fix = "remove it or correct its spelling" + (
                f"; valid keys here: {', '.join(keys)}" if keys else ""
            )
        if kind == "union_tag_invalid":
            ctx = err.get("ctx", {})
            msg = f"unknown kind {ctx.get('tag')!r}"
            fix = f"use one of: {ctx.get('expected_tags', '')}"
        if kind == "union_tag_not_found":
            fix = 'add "kind", e.g. "kind": "filesystem"'
        got = err.get("input")
        if kind.endswith(("_parsing", "_type")) and not isinstance(got, dict | list):
            msg = f"{msg} (got {json.dumps(got, default=str)[:60]})"
        out.append(Problem(name, path, msg, fix))
    return out


def _schedule_problem(name: str, path: str, exc: Exception) -> Problem:
    from ..scheduling import ScheduleSpecError

    if isinstance(exc, ScheduleSpecError):
        where = f"{path}.{exc.field}" if exc.field else path
        return Problem(name, where, exc.message, exc.fix)
    return Problem(name, path, str(exc), "")


def load_workspace(home: Home, *, overrides: dict[str, Any] | None = None) -> Workspace:
    """Read, parse and validate the three files of ``home``.

    :param overrides: raw JSON to use instead of a file's content, keyed by file name
        (used to validate an edit before it is written).
    :raises ConfigError: with every problem found.
    """
    from ..scheduling import parse_schedule

    overrides = overrides or {}
    problems: list[Problem] = []
    paths = {CONFIG_FILE: home.config_path, TASKS_FILE: home.tasks_path}
    paths[SCHEDULES_FILE] = home.schedules_path
    if not overrides and not any(p.exists() for p in paths.values()):
        from ..home import missing_home

        raise ConfigError(
            missing_home(home.root)
            or Problem(
                str(home.root),
                "",
                "no config.json, tasks.json or schedules.json here",
                f"run `amgr init {home.root}` or pass --home DIR",
            )
        )
    raw: dict[str, Any] = {}
    unusable: set[str] = set()
    for name, path in paths.items():
        before = len(problems)
        raw[name] = overrides[name] if name in overrides else read_json_file(path, name, problems)
        problems.extend(value_problems(name, raw[name]))
        if len(problems) > before:
            unusable.add(name)

    def model_of(name: str, model: type, default: dict[str, Any]) -> Any:
        if name in unusable:
            return None  # unreadable, or a value a model could choke on
        data = raw[name]
        if data is None:
            data = default
        if not isinstance(data, dict):
            kind = type(data).__name__.replace("dict", "object").replace("list", "list")
            problems.append(
                Problem(
                    name,
                    "",
                    f"must be a JSON object {{...}}, not a {kind}",
                    "wrap the settings in { } as in the README's example",
                )
            )
            return None
        from pydantic import ValidationError

        try:
            return validate(model, data)
        except ValidationError as exc:
            problems.extend(problems_from_validation(name, exc, model))
            return None

    config: Config | None = model_of(CONFIG_FILE, Config, {})
    tasks_file: TasksFile | None = model_of(TASKS_FILE, TasksFile, {})
    schedules_file: SchedulesFile | None = model_of(
        SCHEDULES_FILE, SchedulesFile, DEFAULT_SCHEDULES
    )

    default_time = config.default_time if config else "09:00"
    default_tz = config.timezone if config else None

    if schedules_file is not None:
        for category in Category:
            for type_, value in dict(getattr(schedules_file, category.value)).items():
                where = f"{category.value}.{type_}"
                if type_ not in REGISTRY.names(category):
                    problems.append(
                        Problem(
                            SCHEDULES_FILE,
                            where,
                            f"unknown {category.value} type {type_!r}",
                            f"use one of: {', '.join(REGISTRY.names(category))}",
                        )
                    )
                    continue
                try:
                    parse_schedule(value, default_time=default_time, default_timezone=default_tz)
                except ValueError as exc:
                    problems.append(_schedule_problem(SCHEDULES_FILE, where, exc))

    specs: list[TaskSpec] = []
    if tasks_file is not None:
        seen: dict[str, str] = {}
        for category, tasks in tasks_file.by_category().items():
            for index, task in enumerate(tasks):
                where = f"{category.value}[{index}]"
                if task.type not in REGISTRY.names(category):
                    problems.append(
                        Problem(
                            TASKS_FILE,
                            f"{where}.type",
                            f"unknown {category.value} type {task.type!r}",
                            f"use one of: {', '.join(REGISTRY.names(category))}",
                        )
                    )
                    continue
                problems.extend(task_problems(TASKS_FILE, where, category, task, config))
                problems.extend(operations_problems(TASKS_FILE, where, task, config, home.root))
                if config is not None:
                    task = with_resolved_platform(task, config)
                task_id = task.id or derived_id(category, task.type, index)
                if task_id in seen:
                    problems.append(
                        Problem(
                            TASKS_FILE,
                            f"{where}.id",
                            f"duplicate task id {task_id!r} (also at {seen[task_id]})",
                            "give every task its own id",
                        )
                    )
                seen[task_id] = where
                raw_schedule = task.schedule
                schedule_path = f"{where}.schedule"
                file_name = TASKS_FILE
                if raw_schedule is None and schedules_file is not None:
                    raw_schedule = schedules_file.lookup(category, task.type)
                    schedule_path, file_name = f"{category.value}.{task.type}", SCHEDULES_FILE
                schedule = None
                if raw_schedule is not None:
                    try:
                        schedule = parse_schedule(
                            raw_schedule, default_time=default_time, default_timezone=default_tz
                        )
                    except ValueError as exc:
                        if file_name == TASKS_FILE:
                            problems.append(_schedule_problem(file_name, schedule_path, exc))
                        continue
                specs.append(TaskSpec(category, index, task, task_id, schedule))
        ids = {s.id for s in specs}
        for spec in specs:
            for dep in spec.task.depends_on:
                if dep not in ids:
                    problems.append(
                        Problem(
                            TASKS_FILE,
                            f"{spec.category.value}[{spec.index}].depends_on",
                            f"no task has id {dep!r}",
                            "name the id of an existing task",
                        )
                    )
    if config is not None:
        for name in config.platforms:
            if not is_safe_id(name):
                problems.append(
                    Problem(
                        CONFIG_FILE,
                        f"platforms.{name}",
                        "platform name is not safe as a folder name",
                        "use letters, digits, '.', '_' or '-' only",
                    )
                )
    if problems:
        raise ConfigError(problems)
    assert config is not None and tasks_file is not None and schedules_file is not None
    return Workspace(home, config, tasks_file, schedules_file, specs, raw)
