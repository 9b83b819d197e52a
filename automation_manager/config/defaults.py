"""What ``amgr init`` writes: the seed's examples, made to work out of the box."""

from __future__ import annotations

from typing import Any

DEFAULT_SCHEDULES: dict[str, dict[str, Any]] = {
    "content_creation": {
        "shorts": "daily",
        "blog": "weekly",
        "ebook": "monthly",
        "social": "daily",
    },
    "publishing": {
        "pending": "hourly",
        "shorts": "daily",
        "blog": "weekly",
        "ebook": "monthly",
        "social": "daily",
    },
    "monetization": {
        "affiliate_content": "weekly",
        "ebook_promotion": "weekly",
        "bundle_creation": "monthly",
        "affiliate_program": "weekly",
        "sales_report": "weekly",
    },
    "maintenance": {"archive_logs": "daily", "pending_report": "daily", "health_check": "daily"},
}


def default_config() -> dict[str, Any]:
    """config.json for a new home: the seed's keys plus amgr's own, with their defaults."""
    return {
        "enabled": True,
        "max_daily_content": 5,
        "max_daily_ebooks": 2,
        "content_types": ["shorts", "blog", "ebook", "social"],
        "platforms": {
            "site": {"kind": "filesystem", "path": "site/content"},
            "youtube": {"kind": "outbox"},
            "twitter": {"kind": "outbox"},
            "instagram": {"kind": "outbox"},
        },
        "monetization_methods": ["affiliate", "digital_product", "ebook_sales"],
        "notification_email": "",
        "log_level": "info",
        "timezone": "UTC",
        "default_time": "09:00",
        "max_concurrent_tasks": 3,
        "max_retries": 3,
        "log_retention_days": 30,
        "auto_approve": True,
        "affiliate_links": [
            {
                "name": "Notion",
                "url": "https://example.com/go/notion?ref=you",
                "description": "all-in-one workspace for notes and planning",
                "keywords": ["notes", "planning", "productivity"],
            },
            {
                "name": "Todoist",
                "url": "https://example.com/go/todoist?ref=you",
                "description": "simple task manager",
                "keywords": ["tasks", "productivity"],
            },
        ],
        "llm": {
            "provider": "auto",
            "api_key_env": "OPENAI_API_KEY",
            "model": "gpt-4o-mini",
            "timeout_s": 120,
            "max_retries": 3,
            "daily_budget_usd": 1.0,
        },
    }


def default_tasks() -> dict[str, Any]:
    """tasks.json for a new home: an example task in every category, plus maintenance."""
    return {
        "content_creation": [
            {
                "id": "daily-shorts",
                "type": "shorts",
                "topic": "productivity tips",
                "method": "story",
                "schedule": "daily",
                "enabled": True,
            },
            {
                "id": "weekly-blog",
                "type": "blog",
                "topic": "deep work for remote teams",
                "schedule": {"every": "week", "days": ["tue"], "at": "08:00"},
                "enabled": True,
            },
            {
                "id": "social-tips",
                "type": "social",
                "topic": "morning routines",
                "platform": "twitter",
                "schedule": {"every": "day", "at": ["09:00", "18:30"]},
                "enabled": True,
            },
            {
                "id": "monthly-ebook",
                "type": "ebook",
                "topic": "focus in a distracted world",
                "chapters": 5,
                "schedule": {"every": "month", "day": 1, "at": "06:00"},
                "enabled": False,
            },
        ],
        "publishing": [
            {"id": "publish-pending", "type": "pending", "schedule": "hourly", "enabled": True},
            {
                "id": "social-to-twitter",
                "type": "social",
                "platform": "twitter",
                "schedule": "daily",
                "enabled": True,
                "depends_on": ["social-tips"],
            },
        ],
        "monetization": [
            {
                "id": "affiliate-weekly",
                "type": "affiliate_content",
                "topic": "best productivity tools",
                "schedule": "weekly",
                "enabled": True,
            },
            {
                "id": "promote-ebooks",
                "type": "ebook_promotion",
                "schedule": "weekly",
                "enabled": True,
            },
            {
                "id": "weekly-sales",
                "type": "sales_report",
                "period": "week",
                "schedule": "weekly",
                "enabled": True,
            },
            {
                "id": "monthly-sales",
                "type": "sales_report",
                "period": "month",
                "schedule": "monthly",
                "enabled": True,
            },
            {
                "id": "affiliate-programs",
                "type": "affiliate_program",
                "schedule": "weekly",
                "enabled": True,
            },
            {
                "id": "monthly-bundle",
                "type": "bundle_creation",
                "schedule": "monthly",
                "enabled": True,
            },
        ],
        "maintenance": [
            {"id": "archive-logs", "type": "archive_logs", "schedule": "daily", "enabled": True},
            {
                "id": "pending-report",
                "type": "pending_report",
                "schedule": "daily",
                "enabled": True,
            },
            {"id": "health-check", "type": "health_check", "schedule": "daily", "enabled": True},
        ],
    }


def default_schedules() -> dict[str, Any]:
    """schedules.json for a new home: the seed's file, plus publishing pending and maintenance."""
    return {k: dict(v) for k, v in DEFAULT_SCHEDULES.items()}
