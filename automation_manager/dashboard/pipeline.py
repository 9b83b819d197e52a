"""The Pipeline page's adapter over :mod:`automation_manager.pipeline` (issue 13).

Each ``pipeline`` task gets a card per stage with its pending count
(``pipeline.query.pipeline_status``, what ``amgr pipeline status`` shows), a Run now
button, its keyword list, a CSV import (parsed by ``pipeline.keywords.parse_text`` and
stored by ``store_keywords``, as ``amgr keywords import`` does) and a disable button per
keyword. The pipeline package (and scikit-learn behind it) is imported only when the
page is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from ..manager import AutomationManager

SHOWN_KEYWORDS = 200


def available() -> bool:
    """Whether this build has the pipeline (it always has since issue 13)."""
    return True


def _task_ids(mgr: AutomationManager) -> list[str]:
    return [
        s.id
        for s in mgr.workspace.tasks
        if s.category.value == "content_creation" and s.type == "pipeline"
    ]


def pipeline(mgr: AutomationManager) -> dict[str, Any]:
    """``{"available", "tasks": [{"id", "status", "keywords"}]}`` for the page and its JSON."""
    from ..pipeline.keywords import list_keywords
    from ..pipeline.query import pipeline_status
    from ..pipeline.store import PipelineDB

    doc: dict[str, Any] = {"available": True, "tasks": []}
    home = mgr.workspace.home
    for task_id in _task_ids(mgr):
        status = pipeline_status(home, task_id).to_json()
        db = PipelineDB(home)
        try:
            rows = list_keywords(db, task_id)[:SHOWN_KEYWORDS]
        finally:
            db.close()
        doc["tasks"].append({"id": task_id, "status": status, "keywords": rows})
    return doc


def _known(mgr: AutomationManager, task_id: str) -> None:
    if task_id not in _task_ids(mgr):
        raise UsageError(f"{task_id}: no pipeline task has this id (see `amgr tasks list`)")


def import_keywords(mgr: AutomationManager, task_id: str, text: str, name: str) -> dict[str, Any]:
    """An uploaded keyword file, parsed and stored as ``amgr keywords import`` does."""
    from ..pipeline.keywords import parse_text, store_keywords
    from ..pipeline.store import PipelineDB

    _known(mgr, task_id)
    found, bad = parse_text(text, name)
    db = PipelineDB(mgr.workspace.home)
    try:
        summary = store_keywords(db, task_id, found, mgr.now())
    finally:
        db.close()
    summary.bad = bad
    result: dict[str, Any] = summary.to_json()
    return result


def disable_keyword(mgr: AutomationManager, task_id: str, keyword: str) -> dict[str, Any]:
    """``amgr keywords disable TASK KEYWORD``."""
    from ..pipeline.keywords import disable_keyword as disable
    from ..pipeline.store import PipelineDB

    _known(mgr, task_id)
    db = PipelineDB(mgr.workspace.home)
    try:
        changed = int(disable(db, task_id, keyword))
    finally:
        db.close()
    return {"task_id": task_id, "keyword": keyword, "disabled": changed}
