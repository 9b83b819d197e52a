"""The Pipeline page's adapter: stage cards and keywords once ``automation_manager.pipeline``
exists (issue 13), "no pipeline tasks" until then.

Kept to one function so the page can be filled in from the pipeline package's own
report after it is merged, without touching the routes or the template.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..manager import AutomationManager


def available() -> bool:
    """Whether the pipeline package is installed in this build."""
    return importlib.util.find_spec("automation_manager.pipeline") is not None


def pipeline(mgr: AutomationManager) -> dict[str, Any]:
    """``{"available", "tasks", "stages", "keywords"}`` for the Pipeline page and its JSON.

    ``tasks`` are the home's ``pipeline`` category tasks (each gets a Run now button);
    stages and keywords come from the pipeline package's report when it provides one.
    """
    doc: dict[str, Any] = {"available": available(), "tasks": [], "stages": [], "keywords": []}
    if not doc["available"]:
        return doc
    import importlib

    module = importlib.import_module("automation_manager.pipeline")
    doc["tasks"] = [
        {"id": s.id, "type": s.type, "enabled": s.enabled}
        for s in mgr.workspace.tasks
        if s.category.value == "pipeline"
    ]
    report = getattr(module, "dashboard_report", None)
    if callable(report):
        doc.update(report(mgr.workspace))
    return doc
