"""One executor module per category; each has a ``RUNNERS`` table of ``run(ctx) -> Outcome``.

Which runner a (category, type) uses is the task-type registry's answer
(:attr:`~automation_manager.tasktypes.TaskType.load_runner`); this package never
imports its category modules itself.
"""

from __future__ import annotations

from .base import Outcome, RunContext, Runner

__all__ = ["Outcome", "RunContext", "Runner"]
