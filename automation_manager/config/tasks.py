"""The models of tasks.json and schedules.json (dataclasses pydantic checks: see :mod:`.base`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

import annotated_types as at

from ..enums import Category, ProcessType
from ..fsutil import is_safe_id
from . import limits as L
from .base import After, Before, Model, dump, extra_fields
from .limits import Description, Name, Topic
from .operations import MAX_RESOURCE_WAIT_S, ActionSpec, OnError, Resources

ID_FIX = "use letters, digits, '.', '_' or '-' only (no '/', '\\' or '..'), e.g. \"daily-blog\""


def _safe_id(value: str | None) -> str | None:
    if value is not None and not is_safe_id(value):
        raise ValueError(f"id {value!r} is not safe as a file name — {ID_FIX}")
    return value


def _depends(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


@dataclass(kw_only=True)
class Task(Model):
    """One task. Type-specific fields (``method``, ``ebook_id``, ``period``, ...) are kept
    as-is, as attributes besides the fields (see :func:`.base.extra_fields`)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "allow"}

    type: Name
    id: Annotated[str | None, After(_safe_id)] = None
    topic: Topic | None = None
    platform: Name | None = None
    schedule: str | dict[str, Any] | None = None
    enabled: bool = True
    priority: Annotated[int, at.Ge(-L.MAX_PRIORITY), at.Le(L.MAX_PRIORITY)] = 0
    depends_on: Annotated[list[Name], Before(_depends)] = field(default_factory=list)
    timeout_s: Annotated[float, at.Gt(0), at.Le(L.MAX_TASK_TIMEOUT_S)] | None = None
    max_retries: Annotated[int, at.Ge(0), at.Le(20)] | None = None
    description: Description | None = None
    actions: list[ActionSpec] | None = None
    on_error: OnError | None = None
    process_type: ProcessType | None = None
    resources: Resources | None = None
    resource_wait_s: Annotated[float, at.Ge(0), at.Le(MAX_RESOURCE_WAIT_S)] | None = None

    def extra_fields(self) -> dict[str, Any]:
        """Type-specific fields that are not part of the common model."""
        return extra_fields(self)

    def dump(self, *, exclude_none: bool = True) -> dict[str, Any]:
        """The task as JSON-ready data, its type-specific fields too."""
        return dump(self, exclude_none=exclude_none)

    def params(self) -> dict[str, Any]:
        """Everything an executor may read: the common content fields plus the extras."""
        data = self.dump()
        for key in ("schedule", "enabled", "priority", "depends_on", "timeout_s", "max_retries"):
            data.pop(key, None)
        return data


@dataclass(kw_only=True)
class TasksFile(Model):
    """tasks.json: a list of tasks per category. A missing category has no tasks."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    content_creation: list[Task] = field(default_factory=list)
    publishing: list[Task] = field(default_factory=list)
    monetization: list[Task] = field(default_factory=list)
    maintenance: list[Task] = field(default_factory=list)

    def by_category(self) -> dict[Category, list[Task]]:
        return {
            Category.CONTENT_CREATION: self.content_creation,
            Category.PUBLISHING: self.publishing,
            Category.MONETIZATION: self.monetization,
            Category.MAINTENANCE: self.maintenance,
        }


@dataclass(kw_only=True)
class SchedulesFile(Model):
    """schedules.json: the default schedule per category and type (seed format)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    content_creation: dict[str, str | dict[str, Any]] = field(default_factory=dict)
    publishing: dict[str, str | dict[str, Any]] = field(default_factory=dict)
    monetization: dict[str, str | dict[str, Any]] = field(default_factory=dict)
    maintenance: dict[str, str | dict[str, Any]] = field(default_factory=dict)

    def lookup(self, category: Category, type_: str) -> str | dict[str, Any] | None:
        return dict(getattr(self, category.value)).get(type_)
