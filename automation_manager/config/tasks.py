"""pydantic models of tasks.json and schedules.json."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..enums import Category, ProcessType
from ..fsutil import is_safe_id
from . import limits as L
from .limits import Description, Name, Topic
from .operations import MAX_RESOURCE_WAIT_S, ActionSpec, OnError, Resources

ID_FIX = "use letters, digits, '.', '_' or '-' only (no '/', '\\' or '..'), e.g. \"daily-blog\""


class Task(BaseModel):
    """One task. Type-specific fields (``method``, ``ebook_id``, ``period``, ...) are kept as-is."""

    model_config = ConfigDict(extra="allow")

    type: Name
    id: str | None = None
    topic: Topic | None = None
    platform: Name | None = None
    schedule: str | dict[str, Any] | None = None
    enabled: bool = True
    priority: Annotated[int, Field(ge=-L.MAX_PRIORITY, le=L.MAX_PRIORITY)] = 0
    depends_on: list[Name] = Field(default_factory=list)
    timeout_s: Annotated[float, Field(gt=0, le=L.MAX_TASK_TIMEOUT_S)] | None = None
    max_retries: Annotated[int, Field(ge=0, le=20)] | None = None
    description: Description | None = None
    actions: list[ActionSpec] | None = None
    on_error: OnError | None = None
    process_type: ProcessType | None = None
    resources: Resources | None = None
    resource_wait_s: Annotated[float, Field(ge=0, le=MAX_RESOURCE_WAIT_S)] | None = None

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str | None) -> str | None:
        if value is not None and not is_safe_id(value):
            raise ValueError(f"id {value!r} is not safe as a file name — {ID_FIX}")
        return value

    @field_validator("depends_on", mode="before")
    @classmethod
    def _depends(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def extra_fields(self) -> dict[str, Any]:
        """Type-specific fields that are not part of the common model."""
        return dict(self.model_extra or {})

    def params(self) -> dict[str, Any]:
        """Everything an executor may read: the common content fields plus the extras."""
        data = self.model_dump(exclude_none=True)
        for key in ("schedule", "enabled", "priority", "depends_on", "timeout_s", "max_retries"):
            data.pop(key, None)
        return data


class TasksFile(BaseModel):
    """tasks.json: a list of tasks per category. A missing category has no tasks."""

    model_config = ConfigDict(extra="forbid")

    content_creation: list[Task] = Field(default_factory=list)
    publishing: list[Task] = Field(default_factory=list)
    monetization: list[Task] = Field(default_factory=list)
    maintenance: list[Task] = Field(default_factory=list)

    def by_category(self) -> dict[Category, list[Task]]:
        return {
            Category.CONTENT_CREATION: self.content_creation,
            Category.PUBLISHING: self.publishing,
            Category.MONETIZATION: self.monetization,
            Category.MAINTENANCE: self.maintenance,
        }


class SchedulesFile(BaseModel):
    """schedules.json: the default schedule per category and type (seed format)."""

    model_config = ConfigDict(extra="forbid")

    content_creation: dict[str, str | dict[str, Any]] = Field(default_factory=dict)
    publishing: dict[str, str | dict[str, Any]] = Field(default_factory=dict)
    monetization: dict[str, str | dict[str, Any]] = Field(default_factory=dict)
    maintenance: dict[str, str | dict[str, Any]] = Field(default_factory=dict)

    def lookup(self, category: Category, type_: str) -> str | dict[str, Any] | None:
        return dict(getattr(self, category.value)).get(type_)
