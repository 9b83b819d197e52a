"""What an executor gets and gives back.

An executor is a function ``run(ctx: RunContext) -> Outcome`` per category; it reads
``ctx.params``, writes content through ``ctx.store``, calls the model through
``ctx.llm`` and raises an :class:`~automation_manager.errors.AmgrError` on failure.
What it made is a :class:`~automation_manager.results.RunResult`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..logs.records import Usage

if TYPE_CHECKING:  # RunResult only in annotations: `status` need not build its model
    from ..config import TaskSpec, Workspace
    from ..content import ContentStore
    from ..llm import LLMClient
    from ..results import RunResult
    from ..runs.tracker import RunTracker

ProgressFn = Callable[[str, int, int], None]
"""``progress(label, done, total)``: called as a long run advances (ebook chapters, items)."""


@dataclass
class RunContext:
    """Everything one run may use. Built by the engine; executors only read it."""

    workspace: Workspace
    spec: TaskSpec
    params: dict[str, Any]
    clock: Callable[[], datetime]
    record_id: str
    progress: ProgressFn | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    _llm: LLMClient | None = None
    usage: Usage = field(default_factory=Usage)
    run_id: str | None = None
    """The multi-stage run this attempt works on (set by :meth:`multi_stage`)."""
    on_usage: Callable[[Usage], None] | None = None
    """Told the run's usage totals after each model call (the engine notes them)."""

    @property
    def config(self) -> Any:
        return self.workspace.config

    @property
    def home(self) -> Any:
        return self.workspace.home

    @property
    def store(self) -> ContentStore:
        from ..content import ContentStore  # a daemon's start needs no content models

        return ContentStore(self.workspace.home)

    @property
    def llm(self) -> LLMClient:
        """The model client for this run (created on first use; ``openai`` imported lazily)."""
        if self._llm is None:
            from ..llm import get_client

            self._llm = get_client(
                self.workspace.config.llm, usage=self.usage, on_usage=self.on_usage
            )
        return self._llm

    def now(self) -> datetime:
        return self.clock()

    def report(self, label: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(label, done, total)

    @contextmanager
    def multi_stage(self, *, start_new: bool = True) -> Iterator[RunTracker]:
        """Work as a multi-stage run (``.mp/runs/<id>.json``), resuming the task's
        interrupted or resumed run if there is one; see :mod:`automation_manager.runs`.

        :param start_new: False: track nothing unless there is a run to continue.
        """
        from ..runs.tracker import track

        with track(
            self.workspace.home,
            self.spec,
            self.record_id,
            self.clock,
            self.cancel,
            start_new=start_new,
        ) as tracker:
            self.run_id = tracker.id
            yield tracker


@dataclass
class Outcome:
    """What a successful run produced, and the provider that produced it."""

    run_result: RunResult
    provider: str | None = None

    @property
    def result(self) -> dict[str, Any]:
        """The JSON the run record keeps as ``result``."""
        return self.run_result.to_json()


Runner = Callable[[RunContext], Outcome]


def dispatch(runners: Mapping[str, Runner], ctx: RunContext) -> Outcome:
    """Run the function that ``runners`` has for the task's type.

    The loader already refuses unknown types; this guards direct library use.
    """
    from ..errors import TaskError

    runner = runners.get(ctx.spec.type)
    if runner is None:
        raise TaskError(
            f"{ctx.spec.category.value} has no type {ctx.spec.type!r}: "
            f"use one of {', '.join(runners)}"
        )
    return runner(ctx)
