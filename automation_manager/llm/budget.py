"""The daily model budget: what a run is expected to cost, what today has cost, and the gate.

The estimate comes from the task type's expected tokens (the registry) and the model's
price; the spend comes from the ``usage.cost_usd`` of today's run records. A run that would pass
``llm.daily_budget_usd`` (with a 1.2 safety factor on its estimate) is skipped before any
request is sent. Never imports ``openai``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import SkipRun
from ..tasktypes import REGISTRY, Expected, TaskType
from .provider import resolve_provider

if TYPE_CHECKING:
    from ..config.models import LLMConfig
    from ..home import Home

SAFETY = 1.2
"""Estimates are multiplied by this before they are compared with what is left."""


def calls_model(category: str, kind: str) -> bool:
    """Whether a run of ``category``/``kind`` calls the model (publishing never does)."""
    found = REGISTRY.find(category, kind)
    return found is not None and found.calls_model


def expected_tokens(kind: str, *, chapters: int | None = None) -> Expected | None:
    """The expected tokens of one run of ``kind``; ``None`` for types that call no model.

    An ebook is an outline plus one call per chapter (``chapters``, default 8). Prefer
    ``REGISTRY.get(category, type).expected_tokens(params)``.
    """
    found = REGISTRY.model_type(kind)
    if found is None:
        return None
    return found.expected_tokens({} if chapters is None else {"chapters": chapters})


def run_cost(config: LLMConfig, kind: TaskType, params: Mapping[str, Any] | None = None) -> float:
    """USD one run of ``kind`` with task fields ``params`` is expected to cost.

    0 for types that call no model and for models without a known price (local servers).
    """
    expected = kind.expected_tokens(params)
    price = config.price_for(config.model_for(kind.name))
    if expected is None or price is None:
        return 0.0
    return (
        expected.prompt_tokens * price.input + expected.completion_tokens * price.output
    ) / 1_000_000


def estimate_cost(config: LLMConfig, kind: str, *, chapters: int | None = None) -> float:
    """USD a run of ``kind`` is expected to cost with the model configured for it.

    0 for types that call no model and for models without a known price (local servers).
    Prefer :func:`run_cost`, which takes the task's type and fields.
    """
    found = REGISTRY.model_type(kind)
    if found is None:
        return 0.0
    return run_cost(config, found, {} if chapters is None else {"chapters": chapters})


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

    The same gate as :func:`check_run_budget` for a caller that knows only the type's
    name; a name that calls no model is never checked.
    """
    found = REGISTRY.model_type(kind)
    if found is not None:
        check_run_budget(config, found, {} if chapters is None else {"chapters": chapters}, spent)


def check_run_budget(
    config: LLMConfig,
    kind: TaskType,
    params: Mapping[str, Any] | None,
    spent: float,
    *,
    extra_usd: float = 0.0,
) -> None:
    """Raise :class:`~automation_manager.errors.SkipRun` when a run of ``kind`` with task
    fields ``params`` would pass the budget.

    :param spent: USD already spent today (see :func:`spent_today`), plus anything the
        caller knows is in flight.
    :param extra_usd: expected cost besides tokens (images, voice-over).
    No check for the offline provider, without ``llm.daily_budget_usd``, or for a run
    expected to cost nothing.
    """
    budget = config.daily_budget_usd
    offline = resolve_provider(config) == "offline"
    if budget is None or (offline and extra_usd <= 0):
        return
    estimate = (0.0 if offline else run_cost(config, kind, params)) + extra_usd
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
