"""The domain's named values: categories, statuses, triggers, policies."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    CONTENT_CREATION = "content_creation"
    PUBLISHING = "publishing"
    MONETIZATION = "monetization"
    MAINTENANCE = "maintenance"


TASK_TYPES: dict[Category, tuple[str, ...]] = {
    Category.CONTENT_CREATION: ("shorts", "blog", "ebook", "social"),
    Category.PUBLISHING: ("pending", "shorts", "blog", "ebook", "social"),
    Category.MONETIZATION: (
        "affiliate_content",
        "ebook_promotion",
        "bundle_creation",
        "affiliate_program",
        "sales_report",
    ),
    Category.MAINTENANCE: ("archive_logs", "pending_report", "health_check"),
}


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
