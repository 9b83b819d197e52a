"""Admission by LLM budget: skip a run whose estimated cost would pass ``daily_budget_usd``.

Runs still in flight have not logged their usage yet, so their estimates count as spent:
several model runs admitted together can never pass the budget between them.
"""

from __future__ import annotations

from datetime import datetime

from ..config import Workspace


def in_flight_estimate(ws: Workspace, exclude: str | None) -> float:
    """Estimated cost of the model runs the daemon has in flight (other than ``exclude``)."""
    from ..llm.budget import calls_model, estimate_cost
    from .state import StateStore

    total = 0.0
    for run in StateStore(ws.home).inflight():
        if run.record_id == exclude or not calls_model(run.category, run.type):
            continue
        chapters = run.params.get("chapters") if run.type == "ebook" else None
        total += estimate_cost(
            ws.config.llm, run.type, chapters=chapters if isinstance(chapters, int) else None
        )
    return total


def check_llm_budget(
    ws: Workspace,
    kind: str,
    now: datetime,
    chapters: int | None = None,
    record_id: str | None = None,
) -> None:
    """Raise SkipRun when today's spend, plus what is in flight, plus 1.2 × this run's
    estimate would pass the budget."""
    llm = ws.config.llm
    if llm.daily_budget_usd is None:
        return
    from ..llm import uses_model
    from ..llm.budget import check_budget, spent_today

    if not uses_model(llm):
        return
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    spent = spent_today(ws.home, day_start) + in_flight_estimate(ws, record_id)
    check_budget(llm, kind, spent, chapters=chapters)
