"""The daily model budget: what a run is expected to cost, what today has cost, and the gate.

The estimate comes from a per-type table of expected tokens and the model's price; the
spend comes from the ``usage.cost_usd`` of today's run records. A run that would pass
``llm.daily_budget_usd`` (with a 1.2 safety factor on its estimate) is skipped before any
request is sent. Never imports ``openai``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import SkipRun
from .provider import resolve_provider

if TYPE_CHECKING:
    from ..config.models import LLMConfig
    from ..home import Home

SAFETY = 1.2
"""Estimates are multiplied by this before they are compared with what is left."""


@dataclass(frozen=True)
class Expected:
    """Tokens a typical run of one type uses, summed over its calls."""

    prompt_tokens: int
    completion_tokens: int
    calls: int = 1

    def __add__(self, other: Expected) -> Expected:
        return Expected(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.calls + other.calls,
        )

    def __mul__(self, times: int) -> Expected:
        return Expected(
            self.prompt_tokens * times, self.completion_tokens * times, self.calls * times
        )


EBOOK_OUTLINE = Expected(800, 1_500)
EBOOK_CHAPTER = Expected(1_500, 3_000)
EBOOK_CHAPTERS = 8

EXPECTED: dict[str, Expected] = {
    "blog": Expected(1_500, 2_500),
    "shorts": Expected(800, 1_200),
    "social": Expected(600, 800),
    "affiliate_content": Expected(1_500, 2_500),
    "ebook_promotion": Expected(800, 1_000),
    "bundle_creation": Expected(800, 800),
    "affiliate_program": Expected(600, 600),
}

MODEL_TYPES: dict[str, frozenset[str]] = {
    "content_creation": frozenset({"shorts", "blog", "ebook", "social"}),
    "monetization": frozenset(
        {"affiliate_content", "ebook_promotion", "bundle_creation", "affiliate_program"}
    ),
}
"""The (category, type) pairs whose runs call the model and so are budget-checked."""


def calls_model(category: str, kind: str) -> bool:
    """Whether a run of ``category``/``kind`` calls the model (publishing never does)."""
    return kind in MODEL_TYPES.get(str(category), frozenset())


def expected_tokens(kind: str, *, chapters: int | None = None) -> Expected | None:
    """The expected tokens of one run of ``kind``; ``None`` for types that call no model.

    An ebook is an outline plus one call per chapter (``chapters``, default 8).
    """
    if kind == "ebook":
        return EBOOK_OUTLINE + EBOOK_CHAPTER * (chapters or EBOOK_CHAPTERS)
    return EXPECTED.get(kind)


def estimate_cost(config: LLMConfig, kind: str, *, chapters: int | None = None) -> float:
    """USD a run of ``kind`` is expected to cost with the model configured for it.

    0 for types that call no model and for models without a known price (local servers).
    """
    expected = expected_tokens(kind, chapters=chapters)
    price = config.price_for(config.model_for(kind))
    if expected is None or price is None:
        return 0.0
    return (
        expected.prompt_tokens * price.input + expected.completion_tokens * price.output
    ) / 1_000_000


def spent_today(home: Home, day_start: datetime) -> float:
    """USD spent on the model today: ``usage.cost_usd`` summed over the day's run records.

    Reads ``.mp/automation/logs/<date of day_start>.jsonl``; a torn or unreadable line
    (a crash mid-append) is skipped, never fatal.
    """
    from ..logs.reader import day_records

    total = 0.0
    for record in day_records(home, day_start.date()):
        usage = record.get("usage")
        if isinstance(usage, dict):
            cost = usage.get("cost_usd")
            if isinstance(cost, int | float) and not isinstance(cost, bool):
                total += float(cost)
    return round(total, 8)


def usd(amount: float) -> str:
    """``$0.98``; small amounts keep enough digits to be non-zero (``$0.0012``)."""
    if amount == 0 or abs(amount) >= 0.01:
        return f"${amount:.2f}"
    return f"${amount:.4f}"


def check_budget(
    config: LLMConfig, kind: str, spent: float, *, chapters: int | None = None
) -> None:
    """Raise :class:`~automation_manager.errors.SkipRun` when this run would pass the budget.

    :param spent: USD already spent today (see :func:`spent_today`), plus anything the
        caller knows is in flight.
    No check for the offline provider, without ``llm.daily_budget_usd``, or for a run
    expected to cost nothing.
    """
    budget = config.daily_budget_usd
    if budget is None or resolve_provider(config) == "offline":
        return
    estimate = estimate_cost(config, kind, chapters=chapters)
    if estimate <= 0:
        return
    if spent + SAFETY * estimate <= budget:
        return
    state = "reached" if spent >= budget else "would be exceeded"
    raise SkipRun(
        f"daily_budget_usd {budget:.2f} {state}: spent {usd(spent)} today, this run is "
        f"estimated at {usd(estimate)} (× {SAFETY:g} safety) — raise llm.daily_budget_usd "
        "or wait until tomorrow"
    )
