"""Whether a task can run, decided at validation: known keys, required fields, values.

A task that cannot run is refused when its file is loaded (or when ``exec-now`` builds
it from ``-p``), so the mistake is exit 2 with one line per problem, before anything is
written, instead of a failed record at run time. The allowed keys are the common
:class:`~.tasks.Task` fields plus the type's documented ``fields`` in the task-type
registry — the same list the README's "Fields by type" shows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..enums import Category
from ..errors import Problem
from ..tasktypes import REGISTRY
from .base import field_names
from .periods import PERIOD_FIX, period_problem
from .platforms import CONTENT_KINDS
from .tasks import Task

if TYPE_CHECKING:
    from .models import Config

COUNTS: dict[str, tuple[int, int]] = {"chapters": (1, 30), "chapter_words": (300, 5000)}
"""Whole-number fields and their ranges (the executors' own bounds)."""

SERIES_KEYS = ("topics", "topic_file")
"""Fields that give a written task its topics instead of ``topic``."""
TOPICS_FIX = 'use a list of topics, e.g. "topics": ["meal prep", "batch cooking"]'

OPTIONAL_REQUIRED = frozenset({"platform"})
"""Registry ``required`` fields a task may leave out: a publishing run without
``platform`` sends to every configured platform that accepts the kind."""


def allowed_keys(category: Category, type_: str) -> list[str]:
    """Every key a task of this type may have, sorted."""
    kind = REGISTRY.get(category, type_)
    return sorted(field_names(Task) | set(kind.fields))


def resolve_platform(config: Config, name: str) -> tuple[str | None, list[str]]:
    """The configured platform that a task's ``platform`` means, and the candidates.

    A configured name means itself; otherwise a platform kind (``mastodon``) that
    exactly one configured platform has means that platform. Returns ``(None, names)``
    when it means none (``names``: the platforms of that kind, when several are).
    """
    if name in config.platforms:
        return name, []
    of_kind = [n for n, p in config.platforms.items() if getattr(p, "kind", None) == name]
    if len(of_kind) == 1:
        return of_kind[0], []
    return None, of_kind


def with_resolved_platform(task: Task, config: Config) -> Task:
    """``task`` with its ``platform`` as the configured name it means (see
    :func:`resolve_platform`); unchanged when it names one already or none."""
    if task.platform is None or task.platform in config.platforms:
        return task
    resolved, _ = resolve_platform(config, task.platform)
    return task if resolved is None else task.replace(platform=resolved)


def task_problems(
    file: str, where: str, category: Category, task: Task, config: Config | None
) -> list[Problem]:
    """Every reason ``task`` (of a known type) cannot run; empty when it can.

    :param file: what to name in each problem (``tasks.json``, ``-p``).
    :param where: the task's path in the file (``content_creation[0]``), or ``""``.
    """
    kind = REGISTRY.get(category, task.type)
    out: list[Problem] = []

    def at(key: str) -> str:
        return f"{where}.{key}" if where else key

    allowed = allowed_keys(category, task.type)
    for key in task.extra_fields():
        if key in kind.fields:
            continue
        import difflib  # only when there is a mistake to name

        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        fix = f'did you mean "{close[0]}"?' if close else "remove it or correct its spelling"
        out.append(
            Problem(
                file,
                at(key),
                f"unknown key for a {category.value} {task.type} task",
                f"{fix} (keys: {', '.join(allowed)})",
            )
        )
    params = task.params()
    for key in kind.required:
        if key in OPTIONAL_REQUIRED or params.get(key) not in (None, ""):
            continue
        if key == "topic" and any(params.get(k) not in (None, "", []) for k in SERIES_KEYS):
            continue  # the topic comes from the task's "topics" or "topic_file"
        out.append(
            Problem(
                file,
                at(key),
                f"a {category.value} {task.type} task needs a {key}",
                _add_fix(file, key, '"..."'),
            )
        )
    for key, (lo, hi) in COUNTS.items():
        if key in kind.fields and key in params and not _whole_in(params[key], lo, hi):
            out.append(
                Problem(
                    file,
                    at(key),
                    f"{key}={params[key]!r} is not a whole number from {lo} to {hi}",
                    f"use a whole number from {lo} to {hi}: "
                    + _add_fix(file, key, str(lo + (hi - lo) // 6)),
                )
            )
    if "topics" in kind.fields and "topics" in params:
        why = _topics_problem(params["topics"])
        if why:
            out.append(Problem(file, at("topics"), why, TOPICS_FIX))
    if "period" in kind.fields and "period" in params:
        why = period_problem(params["period"])
        if why:
            out.append(Problem(file, at("period"), why, PERIOD_FIX))
    if config is not None and task.platform is not None:
        resolved, of_kind = resolve_platform(config, task.platform)
        if resolved is None:
            out.append(_unknown_platform(file, at("platform"), task.platform, of_kind, config))
        else:
            task = with_resolved_platform(task, config)
    if category is Category.CONTENT_CREATION and task.type == "pipeline":
        from .pipeline import pipeline_problems

        out.extend(pipeline_problems(file, where, params))
    if config is not None:
        out.extend(_platform_problems(file, at("platform"), category, task, config))
    return out


def _unknown_platform(
    file: str, path: str, name: str, of_kind: list[str], config: Config
) -> Problem:
    if of_kind:
        return Problem(
            file,
            path,
            f"platform {name!r} is not a configured platform name, and "
            f"{len(of_kind)} configured platforms are of kind {name}: {', '.join(of_kind)}",
            "name the one to post to",
        )
    known = ", ".join(config.platforms) or "(none configured)"
    return Problem(
        file,
        path,
        f"platform {name!r} is not in config.json platforms (configured: {known})",
        f'use one of them, or add {name!r} to config.json "platforms"',
    )


def _platform_problems(
    file: str, path: str, category: Category, task: Task, config: Config
) -> list[Problem]:
    """A publishing task of a kind that no platform it would send to accepts."""
    if category is not Category.PUBLISHING or task.type not in CONTENT_KINDS:
        return []
    kind = task.type
    accepting = [n for n, p in config.platforms.items() if kind in p.accepted_kinds(n)]
    if task.platform is None:
        if accepting:
            return []
        return [
            Problem(
                file,
                path,
                f"no configured platform accepts {kind} items "
                f"(configured: {', '.join(config.platforms) or 'none'})",
                f'add "platform": "NAME" of one that should take them and add "{kind}" to '
                'its "accepts" list, or add such a platform to config.json "platforms"',
            )
        ]
    chosen = config.platforms.get(task.platform)
    if chosen is None or kind in chosen.accepted_kinds(task.platform):
        return []  # an unknown name is reported above, with the names that exist
    others = ", ".join(accepting) or "(none configured)"
    return [
        Problem(
            file,
            path,
            f"platform {task.platform!r} does not accept {kind} items "
            f"(it takes {', '.join(chosen.accepted_kinds(task.platform))})",
            f'use a platform that does: {others}, or add "{kind}" to its "accepts"',
        )
    ]


def _add_fix(file: str, key: str, example: str) -> str:
    """How to set ``key`` where the task came from: a flag or a file."""
    if file.startswith("-"):
        return f'set "{key}" with -p {key}={example}'
    return f'set "{key}" in the task, e.g. "{key}": {example}'


def _whole_in(value: Any, lo: int, hi: int) -> bool:
    """The executors' reading of a count: ``5``, ``5.0`` and ``"5"`` work; blank is the default."""
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        value = int(value)
    return isinstance(value, int) and lo <= value <= hi


def _topics_problem(value: Any) -> str | None:
    """Why ``topics`` is not a usable list of topics (``None`` when it is)."""
    if isinstance(value, str):
        return None if value.strip() else "topics is empty"
    if not isinstance(value, list) or not value:
        return "topics must be a non-empty list of topics"
    for i, topic in enumerate(value):
        if not isinstance(topic, str) or not topic.strip():
            return f"topics[{i}] is {topic!r}, not a topic"
        if len(topic) > 300:
            return f"topics[{i}] is {len(topic)} characters long: keep it under 300"
    return None
