"""Resource limits: admitting runs by their declared share, limits for child processes,
and what each run used.

A task's ``resources`` (``cpu``/``memory``/``storage`` in percent of the machine, or
``memory_mb``/``storage_mb``) is its declared share. :func:`admit` lets a run start only
while that share fits next to what the runs already running hold (a ledger in this
process, where the daemon's runs live) *and* what the machine has free (a
:class:`MachineState` from the probe: psutil by default, injectable for tests). A run
that does not fit waits, up to the task's ``resource_wait_s`` (default
:data:`DEFAULT_WAIT_S`), and is then skipped with the reason. Tasks without
``resources`` are admitted at once and never touch psutil.

:class:`Meter` measures each run's ``resources_used``: CPU seconds of the run's thread
plus its child processes, and peak RSS (the larger of the process's high-water mark and
its children's: work done in the daemon's own threads shares the daemon's memory).
"""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SkipRun

if TYPE_CHECKING:
    from ..config import TaskSpec
    from ..config.operations import Resources

DEFAULT_WAIT_S = 60.0
POLL_S = 0.25


@dataclass(frozen=True)
class MachineState:
    """What the machine has, in the units shares are counted in."""

    cpu_used_pct: float
    memory_total_mb: float
    memory_available_mb: float
    disk_total_mb: float
    disk_free_mb: float


Probe = Callable[[Path], MachineState]
"""``probe(home) -> MachineState``."""


def psutil_probe(home: Path) -> MachineState:
    """The machine now, from psutil: CPU in use, available memory, free disk under ``home``."""
    import psutil

    mem = psutil.virtual_memory()
    disk = psutil.disk_usage(str(home if home.exists() else home.parent))
    return MachineState(
        cpu_used_pct=float(psutil.cpu_percent(interval=0.1)),
        memory_total_mb=mem.total / 1_048_576,
        memory_available_mb=mem.available / 1_048_576,
        disk_total_mb=disk.total / 1_048_576,
        disk_free_mb=disk.free / 1_048_576,
    )


_probe: Probe = psutil_probe
_lock = threading.Condition()
_held: dict[str, Share] = {}
_waiting: dict[str, str] = {}
_children: dict[str, list[Any]] = {}


@contextlib.contextmanager
def use_probe(probe: Probe) -> Iterator[None]:
    """Decide admissions from ``probe`` inside the block (tests, other machines)."""
    global _probe
    previous, _probe = _probe, probe
    try:
        yield
    finally:
        _probe = previous


@dataclass(frozen=True)
class Share:
    """A run's declared share in absolute units."""

    cpu_pct: float = 0.0
    memory_mb: float = 0.0
    storage_mb: float = 0.0

    @classmethod
    def of(cls, declared: Resources, machine: MachineState) -> Share:
        memory = declared.memory_mb or (declared.memory or 0.0) * machine.memory_total_mb / 100
        storage = declared.storage_mb or (declared.storage or 0.0) * machine.disk_total_mb / 100
        return cls(declared.cpu or 0.0, memory, storage)

    def __add__(self, other: Share) -> Share:
        return Share(
            self.cpu_pct + other.cpu_pct,
            self.memory_mb + other.memory_mb,
            self.storage_mb + other.storage_mb,
        )


def why_not(share: Share, held: Share, machine: MachineState) -> str | None:
    """Why ``share`` does not fit now (``None``: it fits). Pure."""
    cpu_busy = max(machine.cpu_used_pct, held.cpu_pct)
    if share.cpu_pct and cpu_busy + share.cpu_pct > 100:
        return (
            f"cpu {share.cpu_pct:g}% does not fit ({cpu_busy:.0f}% in use, "
            f"{held.cpu_pct:g}% held by running runs)"
        )
    if share.memory_mb:
        free = min(machine.memory_available_mb, machine.memory_total_mb - held.memory_mb)
        if share.memory_mb > free:
            return (
                f"memory {share.memory_mb:.0f} MB does not fit ({free:.0f} MB free, "
                f"{held.memory_mb:.0f} MB held by running runs)"
            )
    if share.storage_mb:
        free = machine.disk_free_mb - held.storage_mb
        if share.storage_mb > free:
            return (
                f"storage {share.storage_mb:.0f} MB does not fit ({free:.0f} MB free under "
                f"the home, {held.storage_mb:.0f} MB held by running runs)"
            )
    return None


def _total_held() -> Share:
    total = Share()
    for share in _held.values():
        total = total + share
    return total


def admit(
    spec: TaskSpec, home: Path, record_id: str, *, cancel: threading.Event | None = None
) -> None:
    """Hold the run's declared share, waiting up to ``resource_wait_s`` for it to fit.

    :raises SkipRun: it did not fit in time (the reason names the resource).
    """
    declared = spec.task.resources
    if declared is None:
        return
    wait_s = spec.task.resource_wait_s if spec.task.resource_wait_s is not None else DEFAULT_WAIT_S
    deadline = time.monotonic() + wait_s
    shown: str | None = None
    try:
        while True:
            machine = _probe(home)
            share = Share.of(declared, machine)
            with _lock:
                reason = why_not(share, _total_held(), machine)
                if reason is None:
                    _held[record_id] = share
                    _waiting.pop(record_id, None)
                    return
                _waiting[record_id] = reason
                left = deadline - time.monotonic()
                if cancel is not None and cancel.is_set():
                    _waiting.pop(record_id, None)
                    raise SkipRun(f"resources: {reason}; cancelled while waiting")
                if left <= 0:
                    _waiting.pop(record_id, None)
                    raise SkipRun(f"resources: {reason}; waited {wait_s:g} s (resource_wait_s)")
            if reason != shown:
                _show_waiting(home, record_id, spec.id, reason)
                shown = reason
            with _lock:
                _lock.wait(min(POLL_S, left))  # a release wakes us at once
    finally:
        if shown is not None:
            _waiting_file(home, record_id).unlink(missing_ok=True)


def _waiting_file(home: Path, record_id: str) -> Path:
    return home / ".mp" / "state" / "waiting" / f"{record_id}.json"


def _show_waiting(home: Path, record_id: str, task_id: str, reason: str) -> None:
    """Tell ``amgr status`` (another process) why this run waits; never fails the run."""
    from ..fsutil import atomic_write_json

    with contextlib.suppress(OSError):
        atomic_write_json(_waiting_file(home, record_id), {"task_id": task_id, "reason": reason})


def waiting_reason(home: Path, record_id: str) -> str | None:
    """Why the run ``record_id`` waits for resources (any process), or ``None``."""
    import json

    try:
        reason = json.loads(_waiting_file(home, record_id).read_text()).get("reason")
    except (OSError, ValueError, AttributeError):
        return None
    return str(reason) if reason else None


def release(record_id: str) -> None:
    """Give back the run's share (idempotent)."""
    with _lock:
        if _held.pop(record_id, None) is not None:
            _lock.notify_all()
        _waiting.pop(record_id, None)


def waiting() -> dict[str, str]:
    """Runs waiting for resources in this process: record id → reason."""
    with _lock:
        return dict(_waiting)


def note_child(record_id: str, usage: Any) -> None:
    """Count a finished child process's rusage toward the run's ``resources_used``."""
    with _lock:
        _children.setdefault(record_id, []).append(usage)


@dataclass
class Meter:
    """Measures one run's ``resources_used`` (start it in the run's thread)."""

    record_id: str
    cpu0: float = 0.0

    @classmethod
    def start(cls, record_id: str) -> Meter:
        return cls(record_id, time.thread_time())

    def stop(self) -> dict[str, float]:
        """``{"cpu_s", "peak_rss_mb"}`` of the run, children included."""
        cpu = time.thread_time() - self.cpu0
        peak_kb = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        with _lock:
            kids = _children.pop(self.record_id, [])
        for usage in kids:
            cpu += usage.ru_utime + usage.ru_stime
            peak_kb = max(peak_kb, float(usage.ru_maxrss))
        return {"cpu_s": round(max(cpu, 0.0), 3), "peak_rss_mb": round(peak_kb / 1024, 1)}


@dataclass(frozen=True)
class ChildLimits:
    """Limits a child process runs under; :meth:`apply` runs in the child before exec."""

    memory_mb: float | None
    cpu_s: float | None
    nice: int

    def apply(self) -> None:
        if self.memory_mb is not None:
            limit = int(self.memory_mb * 1_048_576)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if self.cpu_s is not None:
            soft = max(1, int(self.cpu_s + 0.999))
            resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
        if self.nice:
            os.nice(self.nice)


def child_limits(
    declared: Resources | None,
    *,
    memory_mb: Any = None,
    cpu_s: Any = None,
    nice: int = 10,
    home: Path,
) -> ChildLimits:
    """The limits of a child process: its own params, else the task's ``resources``
    (``memory`` percent is read against the machine's memory)."""
    memory = float(memory_mb) if memory_mb is not None else None
    if memory is None and declared is not None:
        if declared.memory_mb is not None:
            memory = declared.memory_mb
        elif declared.memory is not None:
            memory = declared.memory * _probe(home).memory_total_mb / 100
    return ChildLimits(memory, float(cpu_s) if cpu_s is not None else None, nice)
