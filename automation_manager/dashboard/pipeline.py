"""The Pipeline page's adapter over ``automation_manager.pipeline`` (issue 13).

Until that package is in the build, the page says "no pipeline tasks" and the keyword
actions answer that there is no pipeline. Once it is, each ``pipeline`` task gets a card
per stage with its pending count (``pipeline.query.pipeline_status``, what ``amgr
pipeline status`` shows), a Run now button, its keyword list, a CSV import (parsed by
``pipeline.keywords.parse_text`` and stored by ``store_keywords``, as ``amgr keywords
import`` does) and a disable button per keyword. The package is reached through
``importlib`` only, so this module type-checks and imports without it.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from ..manager import AutomationManager

PACKAGE = "automation_manager.pipeline"
SHOWN_KEYWORDS = 200


def available() -> bool:
    """Whether the pipeline package is installed in this build."""
    return importlib.util.find_spec(PACKAGE) is not None


def _module(name: str) -> Any:
    if not available():
        raise UsageError("no pipeline tasks: this build has no pipeline package")
    return importlib.import_module(f"{PACKAGE}.{name}")


def _task_ids(mgr: AutomationManager) -> list[str]:
    return [s.id for s in mgr.workspace.tasks if s.category.value == "pipeline"]


def _db(mgr: AutomationManager) -> Any:
    return _module("store").PipelineDB(mgr.workspace.home)


def pipeline(mgr: AutomationManager) -> dict[str, Any]:
    """``{"available", "tasks": [{"id", "status", "keywords"}]}`` for the page and its JSON."""
    doc: dict[str, Any] = {"available": available(), "tasks": []}
    if not doc["available"]:
        return doc
    query, keywords = _module("query"), _module("keywords")
    for task_id in _task_ids(mgr):
        status = query.pipeline_status(mgr.workspace.home, task_id).to_json()
        db = _db(mgr)
        try:
            rows = keywords.list_keywords(db, task_id)[:SHOWN_KEYWORDS]
        finally:
            db.close()
        doc["tasks"].append({"id": task_id, "status": status, "keywords": rows})
    return doc


def _known(mgr: AutomationManager, task_id: str) -> None:
    if task_id not in _task_ids(mgr):
        raise UsageError(f"{task_id}: no pipeline task has this id (no such id)")


def import_keywords(mgr: AutomationManager, task_id: str, text: str, name: str) -> dict[str, Any]:
    """An uploaded keyword file, parsed and stored as ``amgr keywords import`` does."""
    keywords = _module("keywords")
    _known(mgr, task_id)
    found, bad = keywords.parse_text(text, name)
    db = _db(mgr)
    try:
        summary = keywords.store_keywords(db, task_id, found, mgr.now())
    finally:
        db.close()
    summary.bad = bad
    result: dict[str, Any] = summary.to_json()
    return result


def disable_keyword(mgr: AutomationManager, task_id: str, keyword: str) -> dict[str, Any]:
    """``amgr keywords disable TASK KEYWORD``."""
    keywords = _module("keywords")
    _known(mgr, task_id)
    db = _db(mgr)
    try:
        changed = int(keywords.disable_keyword(db, task_id, keyword))
    finally:
        db.close()
    return {"task_id": task_id, "keyword": keyword, "disabled": changed}
