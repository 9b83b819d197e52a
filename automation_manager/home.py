"""Where a home's files live. HOME is ``--home``, else ``$AMGR_HOME``, else the cwd."""

from __future__ import annotations

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
