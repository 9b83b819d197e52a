"""Is the process that wrote a note still the one running? (pid reuse is guarded against)

A pid alone can be reused after a reboot or a long uptime, so a note also carries its
writer's start time as the kernel counts it (``/proc/PID/stat`` field 22). Where there
is no ``/proc`` the pid alone is used.
"""

from __future__ import annotations

import functools
import os


def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its end.
    fields = data[data.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else None


def own_token() -> str:
    """This process's identity: ``"<pid>:<start ticks>"`` (a fork gets its own)."""
    return _own(os.getpid())


@functools.cache
def _own(pid: int) -> str:
    return token_of(pid)


def token_of(pid: int) -> str:
    """``"<pid>:<start ticks>"`` of a running process."""
    return f"{pid}:{_start_ticks(pid) or ''}"


def is_alive(pid: int, token: str | None = None) -> bool:
    """Whether ``pid`` runs and, given its ``token`` (see :func:`own_token`), is the same
    process that wrote it."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    if token:
        _, _, ticks = token.partition(":")
        now = _start_ticks(pid)
        if ticks and now is not None and now != ticks:
            return False
    return True
