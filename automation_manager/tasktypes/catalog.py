"""The task types amgr ships, one entry each: the facts the README's "Fields by type"
table, the budget and the quotas rely on.

Token figures are what a typical run's prompts and answers come to with the default
prompts; the daily budget multiplies them by the model's price (``llm.budget``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..enums import Category
from .model import Expected, TaskType, Tokens

if TYPE_CHECKING:
    from ..executors.base import Runner

CC, PUB, MON, MAINT = (
    Category.CONTENT_CREATION,
    Category.PUBLISHING,
    Category.MONETIZATION,
    Category.MAINTENANCE,
)


@dataclass(frozen=True)
class LazyRunner:
    """A runner named by its executor and type; the executor is imported on first call.

    Keeps ``import automation_manager.tasktypes`` free of the executors (and so of the
    content kinds, pydantic output models and EPUB writer they pull in).
    """

    load: Callable[[str], Runner]
    name: str

    def __call__(self) -> Runner:
        return self.load(self.name)


def _content_creation(name: str) -> Runner:
    from ..executors import content_creation

    return content_creation.RUNNERS[name]


def _publishing(name: str) -> Runner:
    """Every publishing type is one session; ``run`` reads the kind from the task's type."""
    from ..executors import publishing

    return publishing.run


def _monetization(name: str) -> Runner:
    from ..executors import monetization

    return monetization.RUNNERS[name]


def _maintenance(name: str) -> Runner:
    from ..executors import maintenance

    return maintenance.RUNNERS[name]


_LOADERS: dict[Category, Callable[[str], Runner]] = {
    CC: _content_creation,
    PUB: _publishing,
    MON: _monetization,
    MAINT: _maintenance,
}

BRIEF: dict[str, str] = {
    "topic": "what the piece is about (required unless topics or topic_file; under 300 characters)",
    "audience": "who it is for (default: newcomers who want practical advice)",
    "tone": "how it should sound (default: friendly, clear and practical)",
    "method": "the shape of the piece, e.g. story, tips, howto, myths",
    "language": 'a language tag such as "en" (default) or "pt-BR"',
    "keywords": "words to use naturally: a list, or one comma-separated string",
    "platform": "where the piece will be posted (sets social limits and targets)",
    "topics": "a list of topics, one per run in order (instead of topic)",
    "topic_file": "a file of topics, one per line, relative to the home (instead of topic)",
    "angle": "keep one angle (how-to, mistakes, checklist, ...) instead of rotating them",
}
"""The fields every written kind reads (:class:`~automation_manager.content.brief.Brief`)."""

PUBLISH: dict[str, str] = {
    "max_items": "send at most this many items in one run (default: max_items_per_run)",
    "item_id": "send just this content item",
    "ebook_id": "send just this item (the seed's name for item_id)",
}
PER_EBOOK = {"ebook_id": "just this ebook (default: every ebook without one yet)"}

PIPELINE: dict[str, str] = {
    "platform": "where approved articles are published (a name in config.json platforms)",
    "stages": "per stage (clusters, ideas, tasks, content, image_prompts, images, review): "
    "enabled, batch_size, max_per_run (0 = unlimited), budget_pct, concurrency",
    "ideas_per_cluster": "ideas made from each cluster, 1–20 (default 3)",
    "images_per_article": "in-article images besides the featured one, 0–10 (default 2)",
    "min_keywords": "stage 1 is skipped while fewer keywords wait (default 5)",
    "within_stage_delay_s": "seconds between batches of a stage (default 0)",
    "between_stage_delay_s": "seconds between stages (default 0)",
    "auto_approve": "articles go to pending instead of review (default false)",
    "max_cost_per_run_usd": "refuse a run whose estimate (× 1.2) is above this",
    "words_per_article": "target words of each article, 200–6000 (default 1200)",
    "image_size": 'featured and in-article image size, e.g. "1200x630" (default)',
}
"""The pipeline's fields (validated by ``config/pipeline.py``)."""

EBOOK_OUTLINE = Expected(800, 1_500)
EBOOK_CHAPTER = Expected(1_500, 3_000)
EBOOK_CHAPTERS = 8
"""Chapters an ebook's estimate assumes when the task names none (the executor's own
default is 5: the budget errs on the side of more)."""


def _entry(
    category: Category,
    name: str,
    summary: str,
    *,
    tokens: Tokens | Expected | None = None,
    required: tuple[str, ...] = (),
    fields: dict[str, str] | None = None,
    multi_stage: bool = False,
    ebook_quota: bool = False,
) -> TaskType:
    """One entry; every content_creation type counts toward the content quota."""
    return TaskType(
        category=category,
        name=name,
        summary=summary,
        load_runner=LazyRunner(_LOADERS[category], name),
        tokens=Tokens(tokens) if isinstance(tokens, Expected) else tokens,
        multi_stage=multi_stage,
        content_quota=category is CC,
        ebook_quota=ebook_quota,
        required=required,
        fields=fields or {},
    )


def _publish_kind(kind: str) -> TaskType:
    fields = {
        "platform": "the platform to send to (a name in config.json platforms; "
        "default: every platform accepting the kind)"
    }
    fields |= PUBLISH
    return _entry(
        PUB,
        kind,
        f"send pending {kind} items to the task's platform (or each accepting one)",
        fields=fields,
    )


ACTIONS_FIELDS: dict[str, str] = {
    "actions": 'the actions to run in order: [{"type": "backup", "params": {...}}, ...]',
    "on_error": '"stop" (default: the first failed action ends the run) or "continue"',
    "dry_run": "cleanup actions list what they would remove and remove nothing",
}
"""A multi-action task's fields (see ``automation_manager.operations``)."""


TYPES: tuple[TaskType, ...] = (
    _entry(
        CC,
        "shorts",
        "write one short-video script (SRT and shot list)",
        tokens=Expected(800, 1_200),
        required=("topic",),
        fields=BRIEF | {"length": "running time in seconds, 10–180 (default 45)"},
    ),
    _entry(
        CC,
        "blog",
        "write one blog article",
        tokens=Expected(1_500, 2_500),
        required=("topic",),
        fields=BRIEF
        | {
            "length": "short, medium (default), long, or a word count from 200 to 6000",
            "slug": "the post's URL slug (default: made from the title)",
            "faq": "true: add an FAQ section and its FAQPage JSON-LD",
            "images_per_article": "inline images after the first headings, 0–6 "
            "(default: images.images_per_article)",
        },
    ),
    _entry(
        CC,
        "ebook",
        "write an ebook: an outline, then one call per chapter, resumable",
        tokens=Tokens(EBOOK_OUTLINE, EBOOK_CHAPTER, "chapters", EBOOK_CHAPTERS),
        required=("topic",),
        fields=BRIEF
        | {
            "chapters": "how many chapters, 1–30 (default 5)",
            "chapter_words": "target words per chapter, 300–5000 (default 1200)",
            "author": 'the author the EPUB names (default: config.json "author")',
        },
        multi_stage=True,
        ebook_quota=True,
    ),
    _entry(
        CC,
        "social",
        "write one social post or thread",
        tokens=Expected(600, 800),
        required=("topic",),
        fields=BRIEF
        | {
            "limit": "characters per post, 50–100000 (default: the platform's limit)",
            "length": "auto (default), short (one post) or thread",
        },
    ),
    _entry(
        CC,
        "pipeline",
        "keywords → clusters → ideas → tasks → articles → image prompts → images → review",
        tokens=Expected(2_000, 2_000),
        fields=PIPELINE,
        multi_stage=True,
    ),
    _entry(
        PUB,
        "pending",
        "send every pending item to each of its targets that is due now",
        fields={"platform": "only send to this platform (default: every target)"} | PUBLISH,
        multi_stage=True,
    ),
    *(_publish_kind(kind) for kind in ("shorts", "blog", "ebook", "social")),
    _entry(
        MON,
        "affiliate_content",
        "write an affiliate article (a blog item) with links from affiliate_links",
        tokens=Expected(1_500, 2_500),
        required=("topic",),
        fields=BRIEF | {"links": "names from config.json affiliate_links (default: by topic)"},
    ),
    _entry(
        MON,
        "ebook_promotion",
        "write promotion copy for ebooks that have none",
        tokens=Expected(800, 1_000),
        fields=PER_EBOOK,
    ),
    _entry(
        MON,
        "bundle_creation",
        "bundle ebooks into one offer with its sales copy",
        tokens=Expected(800, 800),
        fields={
            "ebook_ids": "the ebooks to bundle (default: every ebook; needs bundle_min_ebooks)"
        },
    ),
    _entry(
        MON,
        "affiliate_program",
        "write affiliate-program terms for ebooks that have none",
        tokens=Expected(600, 600),
        fields=PER_EBOOK,
    ),
    _entry(
        MON,
        "sales_report",
        "summarise .mp/sales/ records over a period",
        fields={
            "period": "day, week, month (default), year, today, this_month, last_N_days, "
            "YYYY, YYYY-MM, YYYY-MM-DD, all, ... (see the README)"
        },
    ),
    _entry(MAINT, "archive_logs", "gzip run logs older than log_retention_days"),
    _entry(
        MAINT,
        "pending_report",
        "count content by status and list what has waited too long",
        fields={"older_than_h": "hours an item may wait in pending or review (default 24)"},
    ),
    _entry(
        MAINT,
        "health_check",
        "check disk, home, platforms and the model provider",
        fields={
            "min_free_mb": "free disk space below this fails the check (default 200)",
            "warn_free_pct": "free disk space below this percent is a warning (default 10)",
            "provider_timeout_s": "how long the model provider may take to answer (default 5)",
            "sleep_s": "wait this long first, stopping early when cancelled (default 0)",
        },
    ),
    _entry(
        MAINT,
        "actions",
        "run a list of actions (backup, cleanup, report, checks, ...) in order as one run",
        required=("actions",),
        fields=ACTIONS_FIELDS,
    ),
)
