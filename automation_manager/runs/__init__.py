"""Multi-stage runs: an ebook or ``publishing pending`` that works through items in stages.

A run's state lives in ``.mp/runs/<run-id>.json`` (:class:`~.models.RunState`); the
executor drives it through a :class:`~.tracker.RunTracker`, and ``amgr runs`` reads it
and asks for pause, resume or cancel through :class:`~.store.RunStore`.
"""

from __future__ import annotations

from ..tasktypes import REGISTRY
from .models import Control, RunPhase, RunState, StageCount

MULTI_STAGE: frozenset[tuple[str, str]] = frozenset(t.key for t in REGISTRY if t.multi_stage)
"""The (category, type) pairs whose runs keep a run file: a view over the registry
(prefer ``REGISTRY.get(category, type).multi_stage``)."""

__all__ = ["MULTI_STAGE", "Control", "RunPhase", "RunState", "StageCount"]
