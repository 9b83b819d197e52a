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
