"""The domain's named values: categories, statuses, triggers, policies."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    CONTENT_CREATION = "content_creation"
    PUBLISHING = "publishing"
    MONETIZATION = "monetization"
    MAINTENANCE = "maintenance"


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
    READY = "ready"
    """In an outbox on every target that does not have it live: a person posts it."""
    FAILED = "failed"
    REJECTED = "rejected"


class MisfirePolicy(StrEnum):
    SKIP = "skip"
    ONCE = "once"
    ALL = "all"


class ProcessType(StrEnum):
    """What kind of process a task is (reference: operations-spec), shown in status and stats."""

    CONTENT = "content"
    PUBLISHING = "publishing"
    MONETIZATION = "monetization"
    MAINTENANCE = "maintenance"
    DEPLOYMENT = "deployment"
    OPTIMIZATION = "optimization"
    MONITORING = "monitoring"


DEFAULT_PROCESS_TYPE: dict[Category, ProcessType] = {
    Category.CONTENT_CREATION: ProcessType.CONTENT,
    Category.PUBLISHING: ProcessType.PUBLISHING,
    Category.MONETIZATION: ProcessType.MONETIZATION,
    Category.MAINTENANCE: ProcessType.MAINTENANCE,
}
"""A task's process type when it does not name one (and a record's from before the
field)."""


class ScheduleType(StrEnum):
    """The reference's schedule kinds, for ``AutomationManager.create_task``."""

    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    INTERVAL = "interval"
    CRON = "cron"
