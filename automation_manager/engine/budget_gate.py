"""Admission by LLM budget: skip a run whose estimated cost would pass ``daily_budget_usd``."""

from __future__ import annotations

from datetime import datetime

from ..config import Workspace


def check_llm_budget(ws: Workspace, kind: str, now: datetime, chapters: int | None = None) -> None:
    """Raise SkipRun when today's spend plus 1.2 × this run's estimate passes the budget."""
    llm = ws.config.llm
    if llm.daily_budget_usd is None:
        return
    from ..llm import uses_model
    from ..llm.budget import check_budget, spent_today

    if not uses_model(llm):
        return
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    check_budget(llm, kind, spent_today(ws.home, day_start), chapters=chapters)
