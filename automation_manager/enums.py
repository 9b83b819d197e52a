"""The domain's named values: categories, statuses, triggers, policies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum


class Category(StrEnum):
    CONTENT_CREATION = "content_creation"
    PUBLISHING = "publishing"
    MONETIZATION = "monetization"
    MAINTENANCE = "maintenance"


class _TypeNames(Mapping[Category, tuple[str, ...]]):
    """Each category's type names, read from the task-type registry on first use.

    A view, not a table: :mod:`automation_manager.tasktypes` is the one place that
    lists types. It is imported lazily because it imports this module.
    """

    def __getitem__(self, category: Category) -> tuple[str, ...]:
        from .tasktypes import REGISTRY

        names = REGISTRY.names(category)
        if not names:
            raise KeyError(category)
        return names

    def __iter__(self) -> Iterator[Category]:
        return iter(Category)

    def __len__(self) -> int:
        return len(Category)


TASK_TYPES: Mapping[Category, tuple[str, ...]] = _TypeNames()
"""Compatibility view over the registry: prefer ``REGISTRY.names(category)``."""


class RunStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"


class Trigger(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    CATCH_UP = "catch-up"
    RETRY = "retry"


class ContentStatus(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"
    REJECTED = "rejected"


class MisfirePolicy(StrEnum):
    SKIP = "skip"
    ONCE = "once"
    ALL = "all"
