"""One executor module per category; each has a ``RUNNERS`` table of ``run(ctx) -> Outcome``.

Which runner a (category, type) uses is the task-type registry's answer
(:attr:`~automation_manager.tasktypes.TaskType.load_runner`); this package never
imports its category modules itself.
"""

from __future__ import annotations

from ..enums import Category
from .base import Outcome, RunContext, Runner

__all__ = ["Outcome", "RunContext", "Runner", "executor_for"]


def executor_for(category: Category) -> Runner:
    """A runner for any type of ``category``: it asks the registry for the task's type.

    Kept for callers that know only the category; prefer
    ``REGISTRY.get(category, type).load_runner()``. An unknown type raises
    :class:`~automation_manager.tasktypes.UnknownTaskType` (a ``TaskError``) naming the
    category's types.
    """
    from ..tasktypes import REGISTRY

    def run(ctx: RunContext) -> Outcome:
        return REGISTRY.get(category, ctx.spec.type).load_runner()(ctx)

    return run
