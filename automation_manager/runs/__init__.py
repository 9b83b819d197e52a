"""Multi-stage runs: an ebook or ``publishing pending`` that works through items in stages.

A run's state lives in ``.mp/runs/<run-id>.json`` (:class:`~.models.RunState`); the
executor drives it through a :class:`~.tracker.RunTracker`, and ``amgr runs`` reads it
and asks for pause, resume or cancel through :class:`~.store.RunStore`.
"""

from __future__ import annotations

from .models import Control, RunPhase, RunState, StageCount

MULTI_STAGE: frozenset[tuple[str, str]] = frozenset(
    {("content_creation", "ebook"), ("publishing", "pending")}
)
"""The (category, type) pairs whose runs keep a run file."""

__all__ = ["MULTI_STAGE", "Control", "RunPhase", "RunState", "StageCount"]
