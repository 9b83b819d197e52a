"""One executor module per category; each exposes ``run(ctx) -> Outcome``."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ..enums import Category
from .base import Outcome, RunContext

__all__ = ["Outcome", "RunContext", "executor_for"]


def executor_for(category: Category) -> Callable[[RunContext], Outcome]:
    """The ``run`` function of ``category``'s executor (imported on first use)."""
    module = importlib.import_module(f"{__name__}.{category.value}")
    run: Callable[[RunContext], Outcome] = module.run
    return run
