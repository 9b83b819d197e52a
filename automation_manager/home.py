"""Where a home's files live. HOME is ``--home``, else ``$AMGR_HOME``, else the cwd."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "config.json"
TASKS_FILE = "tasks.json"
SCHEDULES_FILE = "schedules.json"
#: The folder of everything amgr writes in a home. Nothing below it is ever written
#: through a symlink (see :mod:`automation_manager.fsutil`).
STATE_DIR = ".mp"


@dataclass(frozen=True)
class Home:
    """The paths of one amgr home. Creating a ``Home`` touches nothing on disk."""

    root: Path

    @classmethod
    def resolve(cls, option: str | os.PathLike[str] | None = None) -> Home:
        """Pick the home from the option, ``$AMGR_HOME`` or the current directory."""
        raw = option if option is not None else os.environ.get("AMGR_HOME") or os.getcwd()
        return cls(Path(raw).expanduser().resolve())

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def tasks_path(self) -> Path:
        return self.root / TASKS_FILE

    @property
    def schedules_path(self) -> Path:
        return self.root / SCHEDULES_FILE

    @property
    def mp(self) -> Path:
        return self.root / STATE_DIR

    @property
    def logs_dir(self) -> Path:
        return self.mp / "automation" / "logs"

    @property
    def archive_dir(self) -> Path:
        return self.logs_dir / "archive"

    @property
    def content_dir(self) -> Path:
        return self.mp / "content"

    @property
    def state_dir(self) -> Path:
        return self.mp / "state"

    @property
    def publish_dir(self) -> Path:
        return self.mp / "publish"

    @property
    def outbox_dir(self) -> Path:
        return self.mp / "outbox"

    @property
    def sales_dir(self) -> Path:
        return self.mp / "sales"

    @property
    def locks_dir(self) -> Path:
        return self.mp / "locks"

    @property
    def daemon_lock_path(self) -> Path:
        return self.locks_dir / "daemon.lock"

    @property
    def edit_lock_path(self) -> Path:
        """Held while tasks.json/config.json are edited by amgr."""
        return self.locks_dir / "edit.lock"


_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
_FULL = {errno.ENOSPC, errno.EDQUOT}
_NOT_A_FOLDER = {errno.ENOTDIR, errno.EEXIST}


def unusable_home(exc: OSError, root: Path) -> str | None:
    """One line naming the folder and the fix, when ``exc`` means the home (or its
    ``.mp/``) cannot be used: not writable, on a full disk, a file where a folder must
    be. None for any other error.
    """
    raw = getattr(exc, "path", None) or exc.filename
    if raw is None:
        return None
    path = Path(os.fsdecode(raw))
    try:
        path.relative_to(root)
    except ValueError:
        return None
    state = root / STATE_DIR
    reason = exc.strerror or str(exc)
    if exc.errno in _NOT_WRITABLE:
        where = state if state.exists() else root
        return (
            f"{where} is not writable ({reason}: {path}) — amgr keeps its state in "
            f"{state}: make {where} writable by this user (e.g. `chmod u+w {where}` or "
            f"chown it), or pass --home DIR with a writable folder"
        )
    if exc.errno in _FULL:
        said = getattr(exc, "message", None) or f"disk full under {state}: cannot write {path}"
        return (
            f"{said} — free space on that disk (`df -h {root}`), or move .mp to a bigger "
            "disk (it may be a symlink)"
        )
    if exc.errno in _NOT_A_FOLDER:
        blocker = next((p for p in (path, *path.parents) if p.is_file()), None)
        if blocker is not None:
            return (
                f"{blocker} is a file where amgr needs a folder — move it away "
                f"(amgr recreates {blocker.name} as a folder)"
            )
    return None


def missing_home(root: Path) -> str | None:
    """One line when ``root`` does not exist (or is not a folder), else None."""
    if root.is_dir():
        return None
    if root.exists():
        return f"{root} is a file, not a folder — pass --home DIR with the home folder"
    return (
        f"{root}: no such folder — run `amgr init {root}` to create a home there, "
        "or pass --home DIR"
    )
