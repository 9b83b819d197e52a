"""Reading and changing run files, safely across processes.

Every change is a read-modify-write under the run's state lock, written atomically, so
the executor's progress and the user's pause or cancel never overwrite each other. While
an executor works on a run it holds the run's *live* lock; a run marked ``running`` whose
live lock is free was interrupted (crash, daemon restart) and the task's next run
continues it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from filelock import Timeout
from pydantic import ValidationError

from ..errors import UsageError
from ..fslock import RemovableLock
from ..fsutil import atomic_write_json, ensure_dir, is_safe_id
from ..home import Home
from ..ids import resolve_prefix
from ..secrets import REGISTRY
from .models import Control, RunPhase, RunState

log = logging.getLogger(__name__)


def ended(store: RunStore, run_id: str) -> bool:
    """Whether ``run_id`` is over (or gone): a lock it still holds is left over."""
    try:
        state = store.load(run_id)
    except UsageError:
        return True
    return state is None or state.status in (
        RunPhase.COMPLETED,
        RunPhase.FAILED,
        RunPhase.CANCELLED,
    )


class RunStore:
    """The run files of one home (``.mp/runs/``)."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.folder = home.mp / "runs"

    # -- files -----------------------------------------------------------------------------

    def path(self, run_id: str) -> Path:
        """The run file of ``run_id``; a UsageError (exit 2) for an unsafe id."""
        if not is_safe_id(run_id):
            raise UsageError(f"{run_id!r} is not a run id: see `amgr runs list`")
        return self.folder / f"{run_id}.json"

    def load(self, run_id: str) -> RunState | None:
        """The run, or None when there is no such file."""
        path = self.path(run_id)
        try:
            return RunState.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (ValidationError, ValueError) as exc:
            raise UsageError(f"{path}: unreadable run file ({exc}); move it aside") from None

    def get(self, run_id: str) -> RunState:
        """The run; a UsageError (exit 2) naming ``amgr runs list`` when it is unknown."""
        state = self.load(run_id)
        if state is None:
            raise UsageError(f"no run {run_id}: see `amgr runs list`")
        return state

    def resolve(self, given: str) -> str:
        """The full run id ``given`` names: itself or the one id it is a unique prefix of.

        :raises UsageError: (exit 2) for no run or several, listing the candidates.
        """
        if is_safe_id(given) and (self.folder / f"{given}.json").is_file():
            return given
        ids = sorted(p.stem for p in self.folder.glob("*.json")) if self.folder.is_dir() else []
        return resolve_prefix("run", given, ids, hint="amgr runs list")

    def all(self) -> list[RunState]:
        """Every readable run, oldest first; an unreadable file is logged and left out."""
        runs: list[RunState] = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                runs.append(RunState.model_validate_json(path.read_bytes()))
            except (OSError, ValidationError, ValueError) as exc:
                log.warning("skipping unreadable run file %s: %s", path, exc)
        return sorted(runs, key=lambda r: (r.started_at, r.id))

    def latest_for(self, task_id: str) -> RunState | None:
        """The task's most recently started run."""
        runs = [r for r in self.all() if r.task_id == task_id]
        return runs[-1] if runs else None

    def save(self, state: RunState) -> None:
        """Write a new run file (an existing one is changed with :meth:`update`)."""
        data = REGISTRY.scrub(state.model_dump(mode="json"))
        atomic_write_json(self.path(state.id), data, private=True)

    def update(self, run_id: str, change: Callable[[RunState], None], now: datetime) -> RunState:
        """Apply ``change`` to the stored run under its state lock and write it back."""
        with self._state_lock(run_id):
            state = self.get(run_id)
            change(state)
            state.updated_at = now
            self.save(state)
            return state

    # -- locks -----------------------------------------------------------------------------

    # Both locks remove their file on release (while still holding it), so
    # ``.mp/locks/`` does not grow by two files for every run ever made.

    def _state_lock(self, run_id: str) -> RemovableLock:
        ensure_dir(self.home.locks_dir)
        return RemovableLock(str(self.home.locks_dir / f"run-{run_id}.lock"), timeout=30)

    def live_lock(self, run_id: str) -> RemovableLock:
        """Held by the executor working on the run, for as long as it works."""
        ensure_dir(self.home.locks_dir)
        return RemovableLock(str(self.home.locks_dir / f"run-{run_id}.live.lock"))

    def is_live(self, run_id: str) -> bool:
        """True while some process is working on the run."""
        lock = self.live_lock(run_id)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return True
        lock.release()
        return False

    def shown_status(self, state: RunState) -> str:
        """The status a person is shown: ``queued`` for a run that may go on but that no
        process works on now (resumed, or its process ended): the task's next run
        continues it. Otherwise the stored phase."""
        if state.status is RunPhase.RUNNING and not self.is_live(state.id):
            return "queued"
        return state.status.value

    # -- the user's controls ---------------------------------------------------------------

    def pause(self, run_id: str, now: datetime) -> RunState:
        """Ask a running run to pause after its current item (at once when none works on it)."""
        return self._control(run_id, Control.PAUSE, now)

    def cancel(self, run_id: str, now: datetime) -> RunState:
        """Cancel a running or paused run (a running one stops after its current item)."""
        return self._control(run_id, Control.CANCEL, now)

    def _control(self, run_id: str, control: Control, now: datetime) -> RunState:
        allowed = {RunPhase.RUNNING} | ({RunPhase.PAUSED} if control is Control.CANCEL else set())
        live = self.is_live(run_id)

        def change(state: RunState) -> None:
            if state.status not in allowed:
                can = "running or paused" if control is Control.CANCEL else "running"
                raise UsageError(
                    f"run {run_id} is {state.status.value}: only a {can} run can be "
                    f"{'cancelled' if control is Control.CANCEL else 'paused'}"
                )
            if live and state.status is RunPhase.RUNNING:
                state.control, state.control_at = control, now
                return
            state.status = RunPhase.PAUSED if control is Control.PAUSE else RunPhase.CANCELLED
            state.reason = f"{'paused' if control is Control.PAUSE else 'cancelled'} by user"
            state.control, state.control_at = None, now

        state = self.update(run_id, change, now)
        what, done = ("pause", "paused") if control is Control.PAUSE else ("cancel", "cancelled")
        if state.control is not None:
            self.note(run_id, now, f"{what} asked by user: takes effect after the current item")
        else:
            self.note(run_id, now, f"{done} by user at {state.where()}")
        if state.status is RunPhase.CANCELLED:
            from .lock import RunLock

            RunLock(self.home).release(state.task_id, run_id)
        return state

    def note(self, run_id: str, now: datetime, message: str) -> None:
        """One line in the run's activity log (``amgr runs log``)."""
        from . import activity

        activity.note(self.home, run_id, now, message)

    def resume(self, run_id: str, now: datetime) -> RunState:
        """Make a paused run resumable: the task's next run continues it.

        The run takes its task's run lock again; when another run holds it the resume
        is refused (exit 2) and the run stays paused.
        """
        from .lock import RunLock

        current = self.get(run_id)
        if current.status is RunPhase.PAUSED:
            holder = RunLock(self.home).take(
                current.task_id, run_id, now, lambda other: ended(self, other)
            )
            if holder is not None:
                other = self.load(holder)
                status = other.status.value if other else "running"
                raise UsageError(
                    f"run {run_id} cannot resume: run {holder} of task {current.task_id} is "
                    f"{status} — wait for it, or cancel it with amgr runs cancel {holder}"
                )

        def change(state: RunState) -> None:
            if state.status is not RunPhase.PAUSED:
                raise UsageError(
                    f"run {run_id} is {state.status.value}: only a paused run can be resumed"
                )
            state.status, state.reason, state.control = RunPhase.RUNNING, None, None

        state = self.update(run_id, change, now)
        self.note(run_id, now, f"resumed by user at {state.where()}")
        return state
