"""Multi-stage runs: an ebook or ``publishing pending`` that works through items in stages.

Which types keep a run file is the task-type registry's answer
(``REGISTRY.get(category, type).multi_stage``). A run's state lives in
``.mp/runs/<run-id>.json`` (:class:`~.models.RunState`); the executor drives it through
a :class:`~.tracker.RunTracker`, and ``amgr runs`` reads it and asks for pause, resume
or cancel through :class:`~.store.RunStore`.
"""

from __future__ import annotations

from .models import Control, RunPhase, RunState, StageCount

__all__ = ["Control", "RunPhase", "RunState", "StageCount"]
