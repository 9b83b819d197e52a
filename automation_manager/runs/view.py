"""A run as one JSON document: what ``amgr runs show --json`` prints and the dashboard
serves (one home for it, so the two never disagree)."""

from __future__ import annotations

from typing import Any

from .models import RunState


def run_view(state: RunState, home: Any = None) -> dict[str, Any]:
    """The run's fields, its done/planned counts, ``shown_status`` (``queued`` for a run
    no process works on now, with ``home``), and for a pipeline run (with ``home``) the
    pipeline's detail: current stage, snapshot, per-stage results, usage."""
    count = state.progress()
    out = {**state.model_dump(mode="json"), "done": count.done, "planned": count.planned}
    if home is not None:
        from .store import RunStore

        out["shown_status"] = RunStore(home).shown_status(state)
    if home is not None and state.type == "pipeline":
        from ..pipeline.query import run_detail

        detail = run_detail(home, state.id)
        if detail is not None:
            out["current_stage"] = state.stage
            out.update(detail.to_json())
    return out
