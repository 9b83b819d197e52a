"""Pause, resume and cancel of multi-stage runs that run on a worker elsewhere.

On one machine ``amgr runs pause RUN`` writes the request into the run's file and the
executor reads it at its next checkpoint (between items). A worker on another machine
has its own run files, so the request also goes through Redis:

- ``amgr runs pause|cancel RUN`` on the scheduler sets ``NS:run:RUN:control``; the
  worker's checkpoint (:func:`checkpoint_control`, installed in
  :data:`automation_manager.runs.tracker.REMOTE_CONTROL`) takes it (``GETDEL``), writes
  it into its run file and stops after the current item, as locally;
- the paused (or cancelled) run file comes back with the result
  (:mod:`.artifacts`); ``amgr runs resume RUN`` changes it on the scheduler and clears
  any request still waiting; the next firing carries the run file to the worker that
  takes it, which continues the run.

A run the scheduler has no file of yet (its first attempt is running on a worker) is
found by its in-flight note: the run's id is its first record's id.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..runs.models import Control, RunPhase, RunState

if TYPE_CHECKING:
    import redis

    from ..config import Workspace
    from ..home import Home
    from ..runs.store import RunStore

log = logging.getLogger(__name__)

TTL_S = 86_400
"""A request no worker took (the run ended meanwhile) lapses after a day."""


def control_key(namespace: str, run_id: str) -> str:
    return f"{namespace}:run:{run_id}:control"


class RunControl:
    """The Redis side of run control for one namespace."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.ns = namespace

    def ask(self, run_id: str, control: Control) -> None:
        self.client.set(control_key(self.ns, run_id), control.value, ex=TTL_S)

    def clear(self, run_id: str) -> None:
        self.client.delete(control_key(self.ns, run_id))

    def take(self, run_id: str) -> Control | None:
        value = self.client.getdel(control_key(self.ns, run_id))
        return Control(str(value)) if value else None

    # -- the scheduler's `amgr runs pause|resume|cancel` -----------------------------------

    def change(self, store: RunStore, given: str, what: str, now: datetime) -> RunState:
        """Apply ``what`` to the run ``given`` names, here and on the worker running it."""
        try:
            run_id = store.resolve(given)
        except UsageError:
            note = _inflight(store.home, given)
            if note is None:
                raise
            return self._remote_only(note, what, now)
        if what == "resume":
            state = store.resume(run_id, now)
            self.clear(run_id)
            return state
        control = Control.PAUSE if what == "pause" else Control.CANCEL
        current = store.get(run_id)
        if current.status is RunPhase.RUNNING and _running_elsewhere(store.home, current):
            # a worker works on it: ask it (after its current item), as for a live run
            def change(state: RunState) -> None:
                state.control, state.control_at = control, now

            self.ask(run_id, control)
            state = store.update(run_id, change, now)
            store.note(run_id, now, f"{what} asked by user: takes effect after the current item")
            return state
        state = store.pause(run_id, now) if what == "pause" else store.cancel(run_id, now)
        if state.control is not None:
            self.ask(run_id, control)
        return state

    def _remote_only(self, note: dict[str, object], what: str, now: datetime) -> RunState:
        run_id = str(note["record_id"])
        if what == "resume":
            raise UsageError(f"run {run_id} is running on a worker: only a paused run resumes")
        control = Control.PAUSE if what == "pause" else Control.CANCEL
        self.ask(run_id, control)
        started = datetime.fromisoformat(str(note.get("started_at")))
        return RunState(
            id=run_id,
            task_id=str(note.get("task_id")),
            category=str(note.get("category")),
            type=str(note.get("type")),
            attempts=[run_id],
            started_at=started,
            updated_at=now,
            control=control,
            control_at=now,
        )


def _inflight_notes(home: Home) -> list[dict[str, object]]:
    folder = home.state_dir / "inflight"
    notes: list[dict[str, object]] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("record_id"):
            notes.append(data)
    return notes


def _inflight(home: Home, given: str) -> dict[str, object] | None:
    """The in-flight note of the run (first attempt) ``given`` names or prefixes."""
    found = [n for n in _inflight_notes(home) if str(n["record_id"]).startswith(given)]
    return found[0] if len(found) == 1 else None


def _running_elsewhere(home: Home, state: RunState) -> bool:
    """Whether a run of the task is in flight from this scheduler (on some worker)."""
    return any(n.get("task_id") == state.task_id for n in _inflight_notes(home))


def run_control(ws: Workspace) -> RunControl | None:
    """The run control of ``ws``'s namespace when its executor is celery, else None."""
    from .settings import for_namespace

    return for_namespace(ws.home, ws, RunControl)


def install_worker_control(control: RunControl) -> None:
    """On a worker: checkpoints also take requests from Redis."""
    from ..runs import tracker

    def take(run_id: str) -> Control | None:
        try:
            return control.take(run_id)
        except Exception as exc:  # the broker is away: the run goes on
            log.warning("run control: broker unreachable (%s)", exc)
            return None

    tracker.REMOTE_CONTROL = take
