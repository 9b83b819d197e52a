"""Which closed days of the run log lack a current kept index, and the keeper that
builds them.

``history`` and the dashboard keep the index of every closed day they read (see
:mod:`.index`), so a query reads a few bytes per record instead of decoding it. The
daemon does not wait for a query: at start-up and once a day after midnight it starts
the keeper (``python -m automation_manager.logs.kept HOME DAY``), a short-lived, niced
child process that builds the missing ones, so the first ``history`` over a year is as
fast as the next. The check the daemon makes is a few directory listings and ``stat``
calls, without importing the index code, so the daemon stays light.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..home import Home

if TYPE_CHECKING:
    import subprocess

#: The format of a kept index (see :func:`~.index.save_index`); another is rebuilt.
VERSION = 9
INDEX_DIR = ".index"
_LIVE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.jsonl(\.gz)?$")
#: A kept index's first bytes: its magic, CRC and length line, then its header, which
#: begins with the version.
_HEAD = 64


def index_path(logs_dir: Path, source: Path) -> Path:
    """Where the index of ``source`` (a day's file or its archive) is kept."""
    return logs_dir.joinpath(INDEX_DIR, f"{source.name}.idx")


def _current(index: Path, log_mtime_ns: int) -> bool:
    """Whether ``index`` is of this version and newer than its log (a light check: a
    query still checks the log's exact size and time)."""
    try:
        st = os.stat(index)
        if st.st_mtime_ns < log_mtime_ns:
            return False
        with open(index, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError:
        return False
    return b'{"v":%d,' % VERSION in head


def stale_days(home: Home, before: date) -> list[Path]:
    """The log files (live days and their archives) of days before ``before`` whose kept
    index is missing, of another version or older than the file: newest day first."""
    found: list[tuple[str, Path]] = []
    for folder in (home.logs_dir, home.archive_dir):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            m = _LIVE.match(name)
            if m is None or m[1] >= before.isoformat():
                continue
            path = folder / name
            try:
                mtime = os.stat(path).st_mtime_ns
            except OSError:
                continue
            if not _current(index_path(home.logs_dir, path), mtime):
                found.append((m[1], path))
    found.sort(key=lambda item: item[0], reverse=True)
    return [path for _, path in found]


def start_keeper(home_root: Path, before: date) -> subprocess.Popen[bytes]:
    """The keeper for the closed days of ``home_root`` before ``before``, started."""
    import subprocess  # only when there is something to keep: the daemon stays light

    return subprocess.Popen(
        [sys.executable, "-m", "automation_manager.logs.kept", str(home_root), str(before)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,  # a Ctrl-C meant for the daemon is not the keeper's
    )


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def keep(home_root: Path, before: date) -> int:
    """Build and keep the index of every stale closed day (:func:`stale_days`), newest
    first, in this process; returns how many were kept."""
    from .reader import build_kept_index, log_file

    home = Home(home_root)
    logs_dir = home.logs_dir
    done = 0
    for path in stale_days(home, before):
        file = log_file(path)
        if file is None:
            continue
        try:
            build_kept_index(logs_dir, file)
        except Exception as exc:  # a cache: the next query builds it instead
            # (an unreadable or vanished file)
            print(f"amgr: could not index {path}: {exc}", file=sys.stderr)
            continue
        if not index_path(logs_dir, path).exists() and _size(path):
            # not written (a full disk, a read-only folder): the others would not be either
            print(f"amgr: could not keep the history index of {path}", file=sys.stderr)
            break
        done += 1
    return done


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m automation_manager.logs.kept HOME YYYY-MM-DD", file=sys.stderr)
        return 2
    import gc
    import signal

    # a stop (the daemon's, at its own stop) ends the file being written cleanly
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(OSError):
        os.nice(10)  # after the daemon's runs, never before them
    gc.disable()  # building an index makes no reference cycles
    keep(Path(argv[0]), date.fromisoformat(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
