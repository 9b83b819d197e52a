"""Archiving old run logs: daily files past ``log_retention_days`` become gzip archives.

An archive is ``.mp/automation/logs/archive/YYYY-MM-DD.jsonl.gz`` (or ``.json.gz`` for
the seed's legacy files) and :mod:`automation_manager.logs.reader` reads it like the
original; its column index is written alongside. Each step is crash-safe: the archive
is written to a temp file, fsynced and renamed into place before the original is
removed, so a crash leaves either the original, or both (the next run then only removes
the original), never neither.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path

from ..fsutil import atomic_write_bytes, fsync_dir
from ..home import Home
from .index import build_index, load_index, save_index, stamp_of
from .kept import index_path
from .reader import decode_line, gunzip, log_files, open_day


def archive_old_logs(home: Home, retention_days: int, now: datetime) -> list[Path]:
    """Compress every daily log file older than ``retention_days`` into ``archive/``.

    A file dated before ``now``'s date minus ``retention_days`` is archived; today's
    and the retained days' files are never touched. Running it again does nothing new.

    :returns: the archives written or completed, oldest first.
    :raises ValueError: when ``retention_days`` is negative.
    """
    if retention_days < 0:
        raise ValueError(f"log_retention_days must be 0 or more, not {retention_days}")
    cutoff = now.date() - timedelta(days=retention_days)
    done: list[Path] = []
    for file in sorted(log_files(home), key=lambda f: f.day):
        if file.compressed or file.day >= cutoff or file.day >= now.date():
            continue
        done.append(archive_file(home, file.path, file.day))
    index_closed_logs(home, now)
    return done


def index_closed_logs(home: Home, now: datetime) -> int:
    """Build the missing or stale column index of every closed day's file (not today's).

    ``history`` builds them on first use too; doing it here, daily, keeps even the first
    query of a day fast. Returns how many indexes were (re)built.
    """
    built = 0
    for file in log_files(home):
        if file.legacy or file.day >= now.date():
            continue
        if load_index(index_path(home.logs_dir, file.path), file.path) is None:
            open_day(home, file, now.tzinfo, keep=True, data=False)
            built += 1
    return built


def archive_file(home: Home, path: Path, day: date) -> Path:
    """Move one daily file into its gzip archive, merging with an existing archive.

    Lines appended to a day's file after that day was archived (a late record) are added
    to the end of its archive, so nothing is lost and nothing is counted twice.
    """
    target = home.archive_dir / f"{path.name}.gz"
    original = path.read_bytes()
    existing = _read_archive(target)
    if existing is None:
        merged = original
    elif existing.endswith(original):
        merged = None  # a crash after the rename: the archive already holds it
    else:
        sep = b"" if not existing or existing.endswith(b"\n") else b"\n"
        merged = existing + sep + original
    if merged is not None:
        data = gzip.compress(merged, compresslevel=6, mtime=0)
        atomic_write_bytes(target, data, private=True)
        if not path.name.endswith(".json"):  # legacy files are converted when read
            idx = build_index(merged, decode_line)
            save_index(index_path(home.logs_dir, target), stamp_of(target), idx)
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)
    index_path(home.logs_dir, path).unlink(missing_ok=True)
    return target


def _read_archive(target: Path) -> bytes | None:
    try:
        return gunzip(target.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, EOFError, zlib.error) as exc:
        raise OSError(
            f"{target}: the archive is damaged ({exc}); move it aside, then archive again"
        ) from exc
