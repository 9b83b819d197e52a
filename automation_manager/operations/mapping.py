"""The reference API's ``create_task`` arguments, mapped onto an amgr task.

=====================  ==========================================================
reference               amgr
=====================  ==========================================================
``ProcessType.CONTENT``       category ``content_creation``
``ProcessType.PUBLISHING``    category ``publishing``
``ProcessType.MONETIZATION``  category ``monetization``
``MAINTENANCE``, ``DEPLOYMENT``, ``OPTIMIZATION``, ``MONITORING``
                        category ``maintenance``; ``process_type`` keeps the name
``ScheduleType.HOURLY`` + ``{"minute": M}``              ``{"cron": "M * * * *"}``
``ScheduleType.DAILY`` + ``{"hour": H, "minute": M}``    ``{"every": "day", "at": "HH:MM"}``
``ScheduleType.WEEKLY`` + ``{"day_of_week": "mon", ...}``
                        ``{"every": "week", "days": [...], "at": ...}``
``ScheduleType.MONTHLY`` + ``{"day": D, ...}``           ``{"every": "month", "day": D, "at": ...}``
``ScheduleType.INTERVAL`` + ``{"minutes": N}`` (or seconds/hours)  ``{"interval": "Nm"}``
``ScheduleType.CRON`` + ``{"expression": "0 2 * * *"}``  ``{"cron": "0 2 * * *"}``
``name``                ``description``, and the ``id`` (made safe as a file name)
``actions``, ``resources``  the same fields of an ``actions`` task
=====================  ==========================================================
"""

from __future__ import annotations

import re
from typing import Any

from ..enums import Category, ProcessType, ScheduleType
from ..errors import ConfigError, Problem

CATEGORY_OF: dict[ProcessType, Category] = {
    ProcessType.CONTENT: Category.CONTENT_CREATION,
    ProcessType.PUBLISHING: Category.PUBLISHING,
    ProcessType.MONETIZATION: Category.MONETIZATION,
}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _bad(field: str, message: str, fix: str) -> ConfigError:
    return ConfigError(Problem("create_task", field, message, fix))


def _at(config: dict[str, Any]) -> str:
    hour, minute = config.get("hour", 0), config.get("minute", 0)
    if not (
        isinstance(hour, int) and 0 <= hour <= 23 and isinstance(minute, int) and 0 <= minute <= 59
    ):
        raise _bad(
            "schedule_config",
            f"hour {hour!r} / minute {minute!r} is not a time of day",
            'use e.g. {"hour": 2, "minute": 0}',
        )
    return f"{hour:02d}:{minute:02d}"


def _day(value: Any) -> str:
    if isinstance(value, int) and 0 <= value <= 6:
        return DAYS[value]
    if isinstance(value, str) and value[:3].lower() in DAYS:
        return value[:3].lower()
    raise _bad(
        "schedule_config.day_of_week",
        f"{value!r} is not a weekday",
        'use "mon" … "sun" or 0 (Monday) … 6',
    )


def schedule_of(
    schedule: ScheduleType | str | None, config: dict[str, Any] | None
) -> str | dict[str, Any] | None:
    """The amgr schedule for a reference ``schedule`` and ``schedule_config``."""
    if schedule is None:
        return None
    config = dict(config or {})
    try:
        kind = ScheduleType(str(schedule).lower())
    except ValueError:
        raise _bad(
            "schedule",
            f"unknown schedule type {schedule!r}",
            f"use one of {', '.join(s.value for s in ScheduleType)}",
        ) from None
    if kind is ScheduleType.HOURLY:
        minute = config.get("minute", 0)
        if not isinstance(minute, int) or not 0 <= minute <= 59:
            raise _bad("schedule_config.minute", f"{minute!r} is not a minute", "use 0 … 59")
        return {"cron": f"{minute} * * * *"}
    if kind is ScheduleType.DAILY:
        return {"every": "day", "at": _at(config)}
    if kind is ScheduleType.WEEKLY:
        days = config.get("days") or [config.get("day_of_week", "mon")]
        return {"every": "week", "days": [_day(d) for d in days], "at": _at(config)}
    if kind is ScheduleType.MONTHLY:
        return {"every": "month", "day": config.get("day", 1), "at": _at(config)}
    if kind is ScheduleType.INTERVAL:
        for key, unit in (("seconds", "s"), ("minutes", "m"), ("hours", "h"), ("days", "d")):
            if key in config:
                return {"interval": f"{config[key]}{unit}"}
        raise _bad(
            "schedule_config",
            "an interval needs seconds, minutes, hours or days",
            'use e.g. {"minutes": 15}',
        )
    expression = config.get("expression") or config.get("cron")
    if not isinstance(expression, str):
        raise _bad(
            "schedule_config.expression",
            "a cron schedule needs an expression",
            'use e.g. {"expression": "0 2 * * *"}',
        )
    return {"cron": expression}


def task_of(
    name: str,
    type_: ProcessType | str,
    schedule: ScheduleType | str | None,
    schedule_config: dict[str, Any] | None,
    actions: list[dict[str, Any]] | None,
    resources: dict[str, Any] | None,
    fields: dict[str, Any],
) -> tuple[Category, dict[str, Any]]:
    """``(category, task dict)`` for the reference's ``create_task`` arguments."""
    try:
        process = ProcessType(str(type_).lower())
    except ValueError:
        raise _bad(
            "type",
            f"unknown process type {type_!r}",
            f"use one of {', '.join(p.value for p in ProcessType)}",
        ) from None
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "task"
    task: dict[str, Any] = {
        "id": slug,
        "type": "actions",
        "description": name,
        "process_type": process.value,
    }
    task["actions"] = list(actions or [])
    if resources is not None:
        task["resources"] = dict(resources)
    found = schedule_of(schedule, schedule_config)
    if found is not None:
        task["schedule"] = found
    task.update(fields)
    return CATEGORY_OF.get(process, Category.MAINTENANCE), task
