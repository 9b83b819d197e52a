"""The library face: :class:`AutomationManager`, the seed's class API over the engine.

The CLI is a thin shell over this class; anything the CLI can do, a script can do here.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .config import TaskSpec, Workspace, load_workspace
from .config import edit as edits
from .config.tasks import Task
from .engine.clock import Clock, system_clock
from .engine.runner import RunRequest, execute_run
from .enums import Category, ProcessType, ScheduleType, Trigger
from .errors import ConfigError, Problem
from .executors.base import ProgressFn
from .home import CONFIG_FILE, TASKS_FILE, Home
from .logs.records import RunRecord
from .tasktypes import REGISTRY

if TYPE_CHECKING:
    from .operations.stats import ExecutionStats, TaskStats


class AutomationManager:
    """Schedules, runs and reports on content automation for one home folder.

    :param home: the home folder (default: ``$AMGR_HOME`` or the current directory).
    :param clock: returns the current aware time; inject one in tests.
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        google_credentials_path: str | None = None,
        dropbox_token: str | None = None,
    ) -> None:
        self.home = Home.resolve(home)
        self._clock = clock
        self._workspace: Workspace | None = None
        self._config_raw: dict[str, Any] | None = None
        # The seed's credentials: used by youtube/gdrive platforms that name no client
        # file of their own, and by dropbox platforms (before their token_env).
        self.google_credentials_path = google_credentials_path
        self.dropbox_token = dropbox_token

    # -- loading -------------------------------------------------------------------------

    @property
    def workspace(self) -> Workspace:
        """The validated home (loaded on first use; :meth:`reload` re-reads the files)."""
        if self._workspace is None:
            self._workspace = load_workspace(self.home)
            self._seed_credentials(self._workspace)
        return self._workspace

    def use_workspace(self, ws: Workspace) -> Workspace:
        """Use ``ws`` instead of loading the files (a read-only fallback); returns it."""
        self._workspace = ws
        return ws

    def _seed_credentials(self, ws: Workspace) -> None:
        """Give the constructor's credentials to the platforms that name none."""
        from .config.platforms_google import seed_credentials

        seed_credentials(
            ws.config.platforms,
            google_credentials_path=self.google_credentials_path,
            dropbox_token=self.dropbox_token,
        )

    def reload(self) -> Workspace:
        """Re-read the three files (drops unsaved changes to :attr:`config`)."""
        self._workspace = None
        self._config_raw = None
        return self.workspace

    @property
    def injected_clock(self) -> Clock | None:
        """The clock given to the constructor; None when the workspace's zone decides."""
        return self._clock

    @property
    def clock(self) -> Clock:
        return self._clock or system_clock(self.workspace.timezone_name)

    def now(self) -> datetime:
        return self.clock()

    @property
    def config(self) -> dict[str, Any]:
        """config.json as a dict (seed API: change it, then call :meth:`save_config`)."""
        if self._config_raw is None:
            self._config_raw = dict(self.workspace.raw.get(CONFIG_FILE) or {})
        return self._config_raw

    @property
    def tasks(self) -> dict[str, list[dict[str, Any]]]:
        """tasks.json as a dict of lists (read-only view; edit with the task methods)."""
        raw = self.workspace.raw.get(TASKS_FILE) or {}
        return {c.value: list(raw.get(c.value) or []) for c in Category}

    def save_config(self) -> None:
        """Validate and atomically write :attr:`config` to config.json."""
        edits.save_config(self.home, self.config)
        self.reload()

    # -- task edits (seed API: by index; also by id) -------------------------------------

    def add_task(self, task_type: str, task_data: dict[str, Any]) -> str:
        """Add a task to category ``task_type``; returns its id (generated when missing)."""
        category = edits.category_of(task_type)

        def change(data: dict[str, Any]) -> str:
            task = dict(task_data)
            task.setdefault("enabled", True)
            if not task.get("id"):
                task["id"] = edits.new_task_id(category, task, edits.all_ids(data))
            data.setdefault(category.value, []).append(task)
            return str(task["id"])

        task_id = edits.edit_file(self.home, TASKS_FILE, change)
        self.reload()
        return task_id

    def remove_task(self, task_type: str, task_index: int | str) -> dict[str, Any]:
        """Remove a task by index within its category (seed) or by id. Returns it."""
        category = edits.category_of(task_type) if task_type else None

        def change(data: dict[str, Any]) -> dict[str, Any]:
            cat, idx = edits.find_task(data, category, task_index)
            removed: dict[str, Any] = data[cat].pop(idx)
            return removed

        removed = edits.edit_file(self.home, TASKS_FILE, change)
        self.reload()
        return removed

    def update_task(
        self, task_type: str, task_index: int | str, task_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Merge ``task_data`` into a task found by index (seed) or id. Returns the new task."""
        category = edits.category_of(task_type) if task_type else None

        def change(data: dict[str, Any]) -> dict[str, Any]:
            cat, idx = edits.find_task(data, category, task_index)
            updated = {**data[cat][idx], **task_data}
            data[cat][idx] = updated
            return dict(updated)

        updated = edits.edit_file(self.home, TASKS_FILE, change)
        self.reload()
        return updated

    # -- running ---------------------------------------------------------------------------

    def resolve_task(
        self, category: str, task: dict[str, Any] | str | None, type_: str | None = None
    ) -> TaskSpec:
        """A :class:`TaskSpec` for a stored task id, or for an ad-hoc task dict."""
        cat = edits.category_of(category)
        ws = self.workspace
        if isinstance(task, str):
            spec = ws.task(task)
            if spec is None:
                raise ConfigError(
                    Problem(TASKS_FILE, task, "no task with this id", "see `amgr tasks list`")
                )
            if spec.category is not cat:
                raise ConfigError(
                    Problem(
                        TASKS_FILE,
                        task,
                        f"task is in {spec.category.value}, not {cat.value}",
                        f"use `amgr exec-now {spec.category.value} {spec.type} --task {task}`",
                    )
                )
            return spec
        data = dict(task or {})
        if type_ is not None:
            data.setdefault("type", type_)
        if data.get("type") not in REGISTRY.names(cat):
            raise ConfigError(
                Problem(
                    "command line",
                    "type",
                    f"unknown {cat.value} type {data.get('type')!r}",
                    f"use one of: {', '.join(REGISTRY.names(cat))}",
                )
            )
        data.setdefault("id", f"adhoc-{cat.value}-{data['type']}")
        model = _task_from_flags(cat, data, ws)
        return TaskSpec(cat, -1, model, str(model.id), None)

    def run(
        self,
        spec: TaskSpec,
        *,
        trigger: Trigger = Trigger.MANUAL,
        overrides: dict[str, Any] | None = None,
        progress: ProgressFn | None = None,
        ignore_quota: bool = False,
    ) -> RunRecord:
        """Run one task now in this thread and return its (already logged) record.

        Admitted and recorded exactly like a daemon's run (see :func:`execute_run`).
        ``overrides`` are checked like a task's fields first (:class:`ConfigError`, no
        record). ``ignore_quota`` skips only the daily quota check, for one manual run;
        its record carries ``"quota_ignored": true`` in ``params``.
        """
        ws = self.workspace
        if overrides:  # a stored task with -p values: the merged task must be able to run
            merged = {**spec.task.dump(), **overrides}
            _task_from_flags(spec.category, merged, ws)
        req = RunRequest(
            spec=spec, trigger=trigger, overrides=overrides or {}, ignore_quota=ignore_quota
        )
        recorder = self._recorder(ws)
        return execute_run(ws, req, recorder=recorder, clock=self._clock, progress=progress)

    def _recorder(self, ws: Workspace) -> Any:
        """A recorder whose records notify (a manual run has no retries: a failure is
        final and worth one message per incident)."""
        from .engine.runner import command_recorder
        from .notify import Notifier

        notifier = Notifier(ws.home, ws.config)
        return command_recorder(
            ws, self.clock, notify=lambda record, final: notifier.notify_run(record, final=final)
        )

    def execute_task_now(self, task_type: str, task_data: dict[str, Any] | str) -> dict[str, Any]:
        """Run a task of category ``task_type`` now (a dict, or a stored task's id).

        Returns the run record as a dict (``success``, ``result``, ``error``, ...).
        """
        spec = self.resolve_task(task_type, task_data)
        return self.run(spec).to_json()

    def execute_content_creation_task(self, task: dict[str, Any]) -> dict[str, Any]:
        return self.execute_task_now(Category.CONTENT_CREATION.value, task)

    def execute_publishing_task(self, task: dict[str, Any]) -> dict[str, Any]:
        return self.execute_task_now(Category.PUBLISHING.value, task)

    def execute_monetization_task(self, task: dict[str, Any]) -> dict[str, Any]:
        return self.execute_task_now(Category.MONETIZATION.value, task)

    def log_task_result(
        self, task_category: str, task: dict[str, Any], result: dict[str, Any]
    ) -> dict[str, Any]:
        """Append a record for a run made outside the engine (seed API).

        :raises RecordNotWritten: the disk refused it.
        """
        from .engine.outcomes import handed_record
        from .engine.recorder import RecordNotWritten
        from .engine.runner import command_recorder

        cat = edits.category_of(task_category)
        ws = self.workspace
        record = handed_record(
            now=self.now(),
            task_id=str(task.get("id") or f"adhoc-{cat.value}-{task.get('type')}"),
            category=cat.value,
            type_=str(task.get("type", "")),
            task=task,
            result=result,
        )
        recorder = command_recorder(ws, self.clock)
        if not recorder.write(record):
            raise RecordNotWritten(f"disk full under {ws.home.mp}: the record was not written")
        return recorder.masked(record).to_json()

    def get_task_history(
        self, days: int = 7, category: str | None = None, success_only: bool = False
    ) -> list[dict[str, Any]]:
        """Run records of the last ``days`` days, newest first (seed API)."""
        from .logs.history import HistoryQuery, query_records

        q = HistoryQuery(days=days, category=category, success_only=success_only)
        return list(query_records(self.home, q, now=self.now()))

    # -- operations (reference: operations-spec.md) -----------------------------------------

    def create_task(
        self,
        name: str,
        type: ProcessType | str = ProcessType.MAINTENANCE,
        schedule: ScheduleType | str | None = None,
        schedule_config: dict[str, Any] | None = None,
        actions: list[dict[str, Any]] | None = None,
        resources: dict[str, Any] | None = None,
        **fields: Any,
    ) -> TaskSpec:
        """The reference's ``create_task``: add a multi-action task and return it (``.id``).

        ``type`` (a :class:`ProcessType`) becomes the task's ``process_type`` and picks its
        category (content → content_creation, publishing, monetization, and maintenance /
        deployment / optimization / monitoring → maintenance); the task's ``type`` is
        ``actions``. ``schedule`` + ``schedule_config`` become an amgr schedule (see
        :func:`~automation_manager.operations.mapping.schedule_of`). Validated like any
        edit of tasks.json (:class:`ConfigError`, nothing written).
        """
        from .operations.mapping import task_of

        category, task = task_of(name, type, schedule, schedule_config, actions, resources, fields)
        task_id = self.add_task(category.value, task)
        spec = self.workspace.task(task_id)
        assert spec is not None
        return spec

    def get_task_stats(self, days: int = 7) -> list[TaskStats]:
        """Per-task statistics over the last ``days`` days (what ``amgr stats`` shows)."""
        from .operations.stats import read_stats

        return read_stats(self.home, days, self.now()).tasks

    def get_execution_stats(self, days: int = 7) -> ExecutionStats:
        """Execution statistics over the last ``days`` days (what ``amgr stats`` shows)."""
        from .operations.stats import read_stats

        return read_stats(self.home, days, self.now()).execution

    # -- the daemon ------------------------------------------------------------------------

    def setup_schedules(self) -> Any:
        """Register every enabled task with the scheduler; returns the daemon (not started)."""
        from .engine.daemon import Daemon

        daemon = Daemon(self.home, clock=self._clock, prepare=self._seed_credentials)
        daemon.setup()
        return daemon

    def run_scheduler(self, run_once: bool = False) -> int:
        """Run the daemon in the foreground (``run_once``: what is due now, then return).

        Returns the exit code the CLI would use (0, or 1 when a run failed with ``run_once``).
        """
        from .engine.daemon import Daemon

        daemon = Daemon(self.home, clock=self._clock, prepare=self._seed_credentials)
        code: int = daemon.run_once() if run_once else daemon.run_forever()
        return code


def _task_from_flags(category: Category, data: dict[str, Any], ws: Workspace) -> Task:
    """A task built from ``-p`` values, validated like one in tasks.json.

    :raises ConfigError: one ``-p: field: what — fix`` line per problem, never a raw
        pydantic dump.
    """
    from pydantic import ValidationError

    from .config.base import validate
    from .config.loader import problems_from_validation
    from .config.operations import operations_problems
    from .config.taskcheck import task_problems, with_resolved_platform

    try:
        model = validate(Task, data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation("-p", exc, Task)) from None
    problems = task_problems("-p", "", category, model, ws.config)
    problems += operations_problems("-p", "", model, ws.config, ws.home.root)
    if problems:
        raise ConfigError(problems)
    return with_resolved_platform(model, ws.config)
