"""The task-type registry: the one place that knows what each (category, type) is.

>>> ebook = REGISTRY.get("content_creation", "ebook")
>>> ebook.calls_model, ebook.multi_stage, ebook.ebook_quota
(True, True, True)
>>> ebook.expected_tokens({"chapters": 3}).calls
4
>>> REGISTRY.names("maintenance")
('archive_logs', 'pending_report', 'health_check', 'actions')

Importing this package is cheap (no executor, no pydantic model): the CLI's read-only
commands may ask it anything. ``load_runner()`` is the only question that imports an
executor.
"""

from __future__ import annotations

from .catalog import TYPES
from .model import Expected, Registry, TaskType, Tokens, UnknownTaskType

REGISTRY = Registry(TYPES)
"""Every task type amgr knows."""

__all__ = ["REGISTRY", "Expected", "Registry", "TaskType", "Tokens", "UnknownTaskType"]
