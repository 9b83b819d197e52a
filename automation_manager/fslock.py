"""A file lock whose file goes with its last release (per-run lock files)."""

from __future__ import annotations

import contextlib
import os

from filelock import FileLock


class RemovableLock(FileLock):
    """A :class:`~filelock.FileLock` whose file is removed by its last release, while it
    is still held, so per-run lock files do not pile up in ``.mp/locks/``.

    Safe because filelock re-opens the path when the file it locked turns out removed
    (``st_nlink == 0``): a waiter never holds a lock on a removed file.
    """

    def release(self, force: bool = False) -> None:
        """Release; the last release removes the lock file first."""
        if self.is_locked and (force or self.lock_counter <= 1):
            with contextlib.suppress(OSError):
                os.unlink(self.lock_file)
        super().release(force)
