"""What the dashboard's buttons do: the same calls as the matching ``amgr`` commands.

* Pause / Resume / Cancel: ``RunStore.pause|resume|cancel`` (``amgr runs ...``).
* Approve / Reject / Retry: ``ContentQueue.approve|reject|retry`` (``amgr content ...``).
* Enable / Disable: ``AutomationManager.update_task`` (``amgr tasks enable|disable``),
  validated against the whole home and written under the edit lock.
* Run now: ``AutomationManager.run`` (``amgr exec-now --task ID``) in a thread of the
  dashboard's process: admitted and recorded like any manual run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import AmgrError, UsageError

if TYPE_CHECKING:
    from ..config import TaskSpec
    from ..manager import AutomationManager

log = logging.getLogger("amgr.dashboard")

RUN_VERBS = ("pause", "resume", "cancel")
CONTENT_VERBS = ("approve", "reject", "retry")
TASK_VERBS = ("enable", "disable")


def change_run(mgr: AutomationManager, run_id: str, verb: str) -> dict[str, Any]:
    """``amgr runs VERB RUN --json``: the run after the change."""
    from ..runs.view import run_view
    from .views import run_store

    if verb not in RUN_VERBS:
        raise UsageError(f"{verb}: not a run action (pause, resume, cancel)")
    store = run_store(mgr)
    full = store.resolve(run_id)
    now = mgr.now()
    act = {"pause": store.pause, "resume": store.resume, "cancel": store.cancel}[verb]
    return run_view(act(full, now))


def change_item(
    mgr: AutomationManager, item_id: str, verb: str, reason: str | None = None
) -> dict[str, Any]:
    """``amgr content VERB ID --json``: the item after the change."""
    from .views import queue

    if verb not in CONTENT_VERBS:
        raise UsageError(f"{verb}: not a content action (approve, reject, retry)")
    q = queue(mgr)
    full = q.store.resolve(item_id)
    if verb == "approve":
        return q.view(q.approve(full))
    if verb == "reject":
        return q.view(q.reject(full, reason or None))
    moved, reset = q.retry(full)
    return {**q.view(moved), "reset": reset}


def change_task(mgr: AutomationManager, task_id: str, verb: str) -> dict[str, Any]:
    """``amgr tasks enable|disable ID --json``: the task as written."""
    if verb not in TASK_VERBS:
        raise UsageError(f"{verb}: not a task action (enable, disable)")
    return mgr.update_task("", task_id, {"enabled": verb == "enable"})


class Runner:
    """Starts ``Run now`` runs in threads and remembers the last outcome of each task."""

    def __init__(self) -> None:
        self._threads: dict[str, threading.Thread] = {}
        self._mutex = threading.Lock()
        self.outcomes: dict[str, str] = {}

    def start(self, make: Callable[[], AutomationManager], task_id: str) -> dict[str, Any]:
        """Run the stored task ``task_id`` now; refused while this process runs it."""
        from .views import find_spec

        mgr = make()
        spec = find_spec(mgr, task_id)
        with self._mutex:
            running = self._threads.get(spec.id)
            if running is not None and running.is_alive():
                raise UsageError(f"{spec.id}: already running from this dashboard")
            thread = threading.Thread(
                target=self._run, args=(mgr, spec), name=f"amgr-run-{spec.id}", daemon=True
            )
            self._threads[spec.id] = thread
            thread.start()
        return {"task_id": spec.id, "started": True}

    def _run(self, mgr: AutomationManager, spec: TaskSpec) -> None:
        task_id = spec.id
        try:
            record = mgr.run(spec)
            self.outcomes[task_id] = f"{record.status}: {record.error or 'done'}"
        except AmgrError as exc:
            self.outcomes[task_id] = f"not run: {exc}"
        except Exception as exc:  # a bug: keep the dashboard up, say it in its log
            log.exception("run now of %s", task_id)
            self.outcomes[task_id] = f"internal error: {type(exc).__name__}"

    def busy(self) -> bool:
        return any(t.is_alive() for t in self._threads.values())

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` s in all for runs started here (at shutdown)."""
        import time

        end = time.monotonic() + timeout
        for thread in list(self._threads.values()):
            thread.join(max(0.0, end - time.monotonic()))
