"""Import each task type's runner shortly before its first run is due.

A daemon's start imports no executor (so an idle daemon stays small: no pydantic, no
content kinds). The first run of a type imports its executor and what that pulls in
(~0.25 s for pydantic and the result models). Done in that run's worker, the import
holds the import lock and much of the interpreter: every worker whose run is due in
that quarter second waits, so with a thousand tasks the first firings of the day start
tens of milliseconds late. The :class:`Warmer` does it on a side thread
:data:`AHEAD_S` before the first firing of each type instead, once per type and
process (at start, for a type due within :data:`AHEAD_S`: before serving).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..enums import Category

if TYPE_CHECKING:
    from .jobs import TaskJob

log = logging.getLogger("amgr.daemon")

AHEAD_S = 3.0
"""How long before the first firing of a type its runner is imported."""

Kind = tuple[Category, str]


class Warmer:
    """When to import which type's runner (see the module's docstring)."""

    def __init__(self) -> None:
        self._done: set[Kind] = set()
        self._at: dict[Kind, datetime] = {}

    def plan(self, jobs: Iterable[TaskJob]) -> None:
        """Plan the types of ``jobs`` (every registered job: after each registration)."""
        ahead = timedelta(seconds=AHEAD_S)
        at: dict[Kind, datetime] = {}
        for job in jobs:
            kind = (job.spec.category, job.spec.type)
            if kind in self._done:
                continue
            when = job.fire_at - ahead
            if kind not in at or when < at[kind]:
                at[kind] = when
        self._at = at

    def next_at(self) -> datetime | None:
        """The instant of the next import, or None when none is planned."""
        return min(self._at.values(), default=None)

    def run_due(self, now: datetime, *, wait: bool = False) -> None:
        """Import every type whose instant has come: on one side thread, or here with
        ``wait`` (a start whose first firings are near: nothing else runs yet)."""
        due = [kind for kind, when in self._at.items() if when <= now]
        if not due:
            return
        for kind in due:
            del self._at[kind]
            self._done.add(kind)
        if wait:
            _import(due)
        else:
            threading.Thread(target=_import, args=(due,), name="amgr-warm", daemon=True).start()


def _import(kinds: list[Kind]) -> None:
    from .. import notify  # noqa: F401  (every finished run is told to it: see .dispatch)
    from ..tasktypes import REGISTRY

    for category, type_ in kinds:
        try:
            REGISTRY.get(category, type_).load_runner()
        except Exception as exc:  # the run itself will say what is wrong
            log.debug("could not import the runner of %s %s: %s", category.value, type_, exc)
