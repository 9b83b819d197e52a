"""One error hierarchy for everything amgr raises on purpose.

User-facing errors carry enough to print one clear line: which file, which field,
what is wrong and how to fix it. The CLI maps each class to an exit code.
"""

from __future__ import annotations

import errno as errnos
import os
from dataclasses import dataclass
from typing import Any


class AmgrError(Exception):
    """Base of every error amgr raises deliberately."""

    exit_code = 1
    partial_result: dict[str, Any] | None = None
    """What a failed run did before it failed (a multi-action run's ``actions``): the
    record keeps it as ``result``."""


@dataclass(frozen=True)
class Problem:
    """One validation problem: ``FILE: field.path: what is wrong — how to fix it``."""

    file: str
    field: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" — {self.fix}"
        return text


class ConfigError(AmgrError):
    """Bad input: a file, a field or an argument is wrong. Exit code 2.

    :param problems: every problem found, each naming file, field and fix.
    """

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("", "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = problems
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(ConfigError):
    """Bad command-line usage (an unknown category, a bad ``-p`` value). Exit code 2."""


class LockHeldError(AmgrError):
    """Another daemon already holds this home. Exit code 3."""

    exit_code = 3

    def __init__(self, home: str, pid: int | None) -> None:
        self.pid = pid
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"another amgr daemon ({who}) already runs on {home}")


class StorageError(AmgrError, OSError):
    """A write under the home could not complete: a full disk, an I/O error, a path that
    leaves the home. Exit code 1.

    Also an :class:`OSError`, so code that already handles a failed write (and reads
    ``.errno`` / ``.strerror``) keeps doing so. Whatever was being appended was rolled
    back: the file ends with its last good line.

    :param message: one line naming the file and the cause.
    :param path: the file or folder that could not be written.
    :param errno: the system's error number (``ENOSPC``, ``EIO``, ...), None if none.
    """

    exit_code = 1

    def __init__(self, message: str, *, path: str | os.PathLike[str], errno: int | None) -> None:
        super().__init__(errno, os.strerror(errno) if errno is not None else message)
        self.message = message
        self.path = os.fspath(path)
        self.filename = self.path

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:  # picklable across worker processes
        return (_storage_error, (type(self), self.message, self.path, self.errno))

    @property
    def disk_full(self) -> bool:
        """True when the disk (or the user's quota) is full: retrying after space is
        freed will work, unlike an I/O error or an unsafe path."""
        return self.errno in (errnos.ENOSPC, errnos.EDQUOT)


def _storage_error(
    cls: type[StorageError], message: str, path: str, errno: int | None
) -> StorageError:
    return cls(message, path=path, errno=errno)


class UnsafePathError(StorageError):
    """A write under ``.mp/`` would follow a symlink (or ``..``) out of the home's state
    folder; amgr refuses instead of writing somewhere else. Exit code 1."""


class TaskError(AmgrError):
    """A task ran and failed for a reason that retrying will not fix (permanent)."""

    transient = False


class TransientError(TaskError):
    """A failure worth retrying: network, 429, 5xx, timeout.

    :param retry_after: seconds the remote side asked us to wait, if it said.
    """

    transient = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TaskTimeout(TransientError):
    """A run went past its ``timeout_s``."""


class SkipRun(AmgrError):
    """A run was not started (quota, budget, dependency, paused): recorded as ``skipped``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthError(TaskError):
    """Credentials were refused (401/403). Names the setting to fix, never the secret."""


class PublishUncertain(TransientError):
    """A send may or may not have reached the platform; reconcile before any resend."""


class RunPaused(SkipRun):
    """The user paused a multi-stage run; it stopped after its current item (``skipped``)."""


class RunCancelled(SkipRun):
    """The user cancelled a multi-stage run; it stopped after its current item (``skipped``).

    Recorded as ``skipped``, not ``failed``: the user asked for it, so it is not a failure
    to retry or to be alerted about.
    """
