"""One error hierarchy for everything amgr raises on purpose.

User-facing errors carry enough to print one clear line: which file, which field,
what is wrong and how to fix it. The CLI maps each class to an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass


class AmgrError(Exception):
    """Base of every error amgr raises deliberately."""

    exit_code = 1


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
