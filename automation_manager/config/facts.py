"""What a read-only command needs from a home's files, kept while they are unchanged.

Validating the three files costs pydantic and its models (~0.3 s at start-up); ``amgr
history`` needs only two things from them: the configured time zone and the names of the
environment variables that hold secrets (to mask their values in what it prints).

When the files validate in the daemon (beside :mod:`.lastgood`) or in a ``history``
that had to validate them, :func:`remember` keeps those facts in
``.mp/state/workspace-facts.json`` (atomic, 0600, written only when they changed) with
each file's identity: its size, mtime and the SHA-256 of its bytes. Other commands never
write it (a command that fails modifies no file). A read-only command asks
:func:`current`: when every file still has the bytes that validated, it gets the facts
without importing pydantic; anything else (no facts, a file changed, appeared or went, a
facts file unreadable, torn or from another amgr version) gives None and the command
validates as before.

The facts hold variable *names* and the users they log in as, never a value.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..home import CONFIG_FILE, SCHEDULES_FILE, TASKS_FILE, Home

if TYPE_CHECKING:
    from .loader import Workspace

FILE_NAME = "workspace-facts.json"
FORMAT = 1
"""Bumped whenever what is kept (or how it is derived) changes: older facts are ignored."""
FILES = (CONFIG_FILE, TASKS_FILE, SCHEDULES_FILE)
_MAX_BYTES = 8 << 20
"""Far above the loader's 4 MiB limit: a larger file cannot have validated."""


@dataclass(frozen=True)
class Facts:
    """The derived facts of a validated home."""

    timezone: str | None
    """``config.timezone``: None means the machine's zone (resolved when used)."""
    secret_names: tuple[tuple[str, str | None], ...]
    """What :func:`~automation_manager.secrets.env_names_with_users` returned."""

    @property
    def timezone_name(self) -> str:
        """The zone name, as :attr:`~.loader.Workspace.timezone_name` gives it."""
        if self.timezone:
            return self.timezone
        from ..scheduling.zones import local_zone_name

        return local_zone_name()


def _path(home: Home) -> Any:
    return home.state_dir / FILE_NAME


def _identity(path: Any) -> tuple[dict[str, Any] | None, bytes | None]:
    """The file's identity (None when it does not exist) and its bytes.

    :raises OSError: it exists but cannot be read whole (then nothing is trusted).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES:
            raise OSError(f"{path}: not a small regular file")
        data = handle.read(_MAX_BYTES + 1)
    ident = {
        "size": len(data),
        "mtime_ns": info.st_mtime_ns,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return ident, data


def _canonical(value: Any) -> str:
    """Parsed JSON as one string that tells ``true`` from ``1`` and ``1`` from ``1.0``."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def remember(ws: Workspace) -> None:
    """Keep ``ws``'s facts beside the identity of the bytes it was validated from.

    Called once the files validated. The files are read again and kept
    only when they still parse to what validated (a file edited in between is left to
    the next load). Nothing is written when the facts are unchanged, or when the home
    has no ``.mp`` yet (a cache never creates a home's state). Never raises.
    """
    from ..errors import AmgrError
    from ..fsutil import atomic_write_bytes, ensure_dir
    from ..secrets import env_names_with_users

    home = ws.home
    if not home.mp.is_dir():
        return
    try:
        files: dict[str, Any] = {}
        for name in FILES:
            ident, data = _identity(home.root / name)
            parsed = None if data is None else json.loads(data)
            if _canonical(parsed) != _canonical(ws.raw.get(name)):
                return  # changed since it was read: not these bytes that validated
            files[name] = ident
        body = {
            "format": FORMAT,
            "amgr": __version__,
            "files": files,
            "timezone": ws.config.timezone,
            "secret_names": [list(pair) for pair in env_names_with_users(ws.config)],
        }
        text = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()
        path = _path(home)
        try:
            if path.read_bytes() == text:
                return
        except OSError:
            pass
        ensure_dir(home.state_dir)
        atomic_write_bytes(path, text, private=True)
    except (OSError, ValueError, TypeError, AmgrError):
        return  # only costs the next read-only command a validation


def current(home: Home) -> Facts | None:
    """The facts kept for ``home`` when its three files are byte for byte the ones that
    last validated; else None (then validate the files)."""
    try:
        body = json.loads(_path(home).read_bytes())
        if body["format"] != FORMAT or body["amgr"] != __version__:
            return None
        kept = body["files"]
        for name in FILES:
            want = kept[name]
            path = home.root / name
            if want is None:
                if os.path.lexists(path):
                    return None
                continue
            info = os.stat(path)
            if info.st_size != want["size"]:
                return None
            ident, _ = _identity(path)
            if ident is None or ident["sha256"] != want["sha256"]:
                return None
        timezone = body["timezone"]
        names = tuple((str(n), None if u is None else str(u)) for n, u in body["secret_names"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no facts, or unreadable or torn ones: validate instead
    if timezone is not None and not isinstance(timezone, str):
        return None
    return Facts(timezone, names)
