"""Running a multi-action task: its actions in order, as one run.

Each action's outcome (type, status, duration, result, error) goes into the record's
``result.actions``. ``on_error: "stop"`` (the default) ends the run at the first failed
action, the rest are ``not_run``; ``"continue"`` runs them all. The run fails when any
action failed, and its record still holds every action's outcome. ``dry_run`` (``exec-now
--dry-run``) runs only the cleanup actions, listing what they would remove; the others
are ``not_run``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from collections.abc import Mapping
from typing import Any

from ..errors import AmgrError, TaskError
from ..executors.base import Outcome, RunContext
from ..results import RunResult
from .registry import ACTIONS

log = logging.getLogger(__name__)


class ActionsFailed(TaskError):
    """At least one action failed; ``partial_result`` holds every action's outcome."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.partial_result = result


def run(ctx: RunContext) -> Outcome:
    """Run the task's ``actions`` in order (the runner of every ``actions`` type)."""
    actions = ctx.params.get("actions") or []
    stop = (ctx.params.get("on_error") or "stop") == "stop"
    dry_run = bool(ctx.params.get("dry_run"))
    outcomes: list[dict[str, Any]] = []
    failed: list[str] = []
    for index, action in enumerate(actions):
        name = str(action.get("type"))
        params = dict(action.get("params") or {})
        if dry_run and name == "cleanup":
            params["dry_run"] = True
        elif dry_run:
            outcomes.append({"type": name, "status": "not_run", "reason": "dry run"})
            continue
        if failed and stop:
            outcomes.append(
                {"type": name, "status": "not_run", "reason": "an earlier action failed"}
            )
            continue
        if ctx.cancel.is_set():
            outcomes.append({"type": name, "status": "not_run", "reason": "the run was cancelled"})
            continue
        ctx.report(f"action {index + 1}/{len(actions)}: {name}", index, len(actions))
        outcomes.append(_perform(ctx, name, params))
        if outcomes[-1]["status"] == "failed":
            failed.append(f"{name}: {outcomes[-1]['error']}")
    done = sum(1 for o in outcomes if o["status"] == "success")
    summary = f"{done} of {len(actions)} action{'s' if len(actions) != 1 else ''} succeeded"
    skipped = sum(1 for o in outcomes if o["status"] == "not_run")
    if skipped:
        summary += f", {skipped} not run" + (" (dry run)" if dry_run else "")
    if failed:
        raise ActionsFailed(
            f"{len(failed)} action{'s' if len(failed) != 1 else ''} failed: " + "; ".join(failed),
            {"summary": summary, "actions": outcomes},
        )
    return Outcome(RunResult(summary=summary, actions=outcomes))


def _perform(ctx: RunContext, name: str, params: dict[str, Any]) -> dict[str, Any]:
    kind = ACTIONS.find(name)
    t0 = time.monotonic()
    out: dict[str, Any] = {"type": name}
    try:
        if kind is None:  # the loader refuses these; this guards direct library use
            raise TaskError(f"unknown action type {name!r}: {ACTIONS.suggestion(name)}")
        result = kind.load()(ctx, params)
    except AmgrError as exc:
        out.update(status="failed", error=str(exc))
    except Exception as exc:  # one broken action must still leave its outcome
        log.error("action %s crashed:\n%s", name, traceback.format_exc())
        out.update(status="failed", error=f"internal error: {type(exc).__name__}: {exc}")
    else:
        out.update(status="success", result=result)
    out["duration_ms"] = int((time.monotonic() - t0) * 1000)
    return out


def _as_task(ctx: RunContext, params: Mapping[str, Any]) -> RunContext:
    """The run's context with an action's params, for the maintenance runners."""
    return dataclasses.replace(ctx, params=dict(params))


def health_check_action(ctx: RunContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """The maintenance ``health_check``, as an action."""
    from ..executors.maintenance import health_check

    return health_check(_as_task(ctx, params)).result


def archive_logs_action(ctx: RunContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """The maintenance ``archive_logs``, as an action."""
    from ..executors.maintenance import archive_logs

    return archive_logs(_as_task(ctx, params)).result
