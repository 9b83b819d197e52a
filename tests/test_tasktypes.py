"""The task-type registry: one value object per (category, type), agreeing with the
tables it replaced, with runners that load only when a run needs them."""

from __future__ import annotations

import pytest

from automation_manager.enums import TASK_TYPES, Category
from automation_manager.llm.budget import Expected, calls_model, expected_tokens
from automation_manager.runs import MULTI_STAGE

# The tables as they stood before the registry (automation_manager 2026-12), copied by
# hand: the registry and the views over it must give exactly these answers.
BEFORE_TASK_TYPES: dict[str, tuple[str, ...]] = {
    "content_creation": ("shorts", "blog", "ebook", "social"),
    "publishing": ("pending", "shorts", "blog", "ebook", "social"),
    "monetization": (
        "affiliate_content",
        "ebook_promotion",
        "bundle_creation",
        "affiliate_program",
        "sales_report",
    ),
    "maintenance": ("archive_logs", "pending_report", "health_check"),
}
BEFORE_MULTI_STAGE = {("content_creation", "ebook"), ("publishing", "pending")}
BEFORE_MODEL_TYPES = {
    "content_creation": {"shorts", "blog", "ebook", "social"},
    "monetization": {"affiliate_content", "ebook_promotion", "bundle_creation", "affiliate_program"},
}
BEFORE_EXPECTED = {
    "blog": (1_500, 2_500, 1),
    "shorts": (800, 1_200, 1),
    "social": (600, 800, 1),
    "affiliate_content": (1_500, 2_500, 1),
    "ebook_promotion": (800, 1_000, 1),
    "bundle_creation": (800, 800, 1),
    "affiliate_program": (600, 600, 1),
}
EBOOK_OUTLINE = (800, 1_500)
EBOOK_CHAPTER = (1_500, 3_000)
EBOOK_DEFAULT_CHAPTERS = 8

ALL_PAIRS = [(c, t) for c, types in BEFORE_TASK_TYPES.items() for t in types]


def ebook_tokens(chapters: int) -> tuple[int, int, int]:
    return (
        EBOOK_OUTLINE[0] + EBOOK_CHAPTER[0] * chapters,
        EBOOK_OUTLINE[1] + EBOOK_CHAPTER[1] * chapters,
        1 + chapters,
    )


def triple(expected: Expected | None) -> tuple[int, int, int] | None:
    if expected is None:
        return None
    return expected.prompt_tokens, expected.completion_tokens, expected.calls


def test_task_types_view_lists_the_same_types_in_the_same_order() -> None:
    assert {c.value: tuple(TASK_TYPES[c]) for c in Category} == BEFORE_TASK_TYPES


@pytest.mark.parametrize(("category", "kind"), ALL_PAIRS)
def test_calls_model_and_multi_stage_views_answer_as_before(category: str, kind: str) -> None:
    assert calls_model(category, kind) == (kind in BEFORE_MODEL_TYPES.get(category, set()))
    assert calls_model(Category(category), kind) == calls_model(category, kind)
    assert ((category, kind) in MULTI_STAGE) == ((category, kind) in BEFORE_MULTI_STAGE)


def test_expected_tokens_view_answers_as_before() -> None:
    for kind, tokens in BEFORE_EXPECTED.items():
        assert triple(expected_tokens(kind)) == tokens
    assert triple(expected_tokens("ebook")) == ebook_tokens(EBOOK_DEFAULT_CHAPTERS)
    assert triple(expected_tokens("ebook", chapters=12)) == ebook_tokens(12)
    assert triple(expected_tokens("ebook", chapters=0)) == ebook_tokens(EBOOK_DEFAULT_CHAPTERS)
    for kind in ("sales_report", "pending", "archive_logs", "health_check", "nonsense"):
        assert expected_tokens(kind) is None
