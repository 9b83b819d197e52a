"""Backups of a home: one ``.tar.gz`` with a manifest of checksums, and their restore.

A backup holds the three files and ``.mp/`` (content, runs, the publish ledger, the run
logs, sales) and the state database copied with SQLite's online backup API, so it is
consistent while a daemon writes. The database is copied first and the logs after it:
the database's log cursors then never point past what the backup's logs hold, and a
restored home's next command catches the database up from the logs. Append-only files
(``*.jsonl``) are cut at their last whole line. Not kept: locks, in-flight notes, the
daemon's ``daemon.json``, the ``history`` index cache (rebuilt on use), and temporary
files.

Restore goes into an empty folder: every member is checked against the manifest
(SHA-256 and size) in a staging folder first, so a corrupted backup leaves nothing
behind and the error names the file that does not match.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import ConfigError, Problem, TaskError
from ..fsutil import fsync_dir, storage_error
from ..home import CONFIG_FILE, SCHEDULES_FILE, STATE_DIR, TASKS_FILE, Home
from .params import Retention, backup_dir_path, parse_retention

if TYPE_CHECKING:
    from ..executors.base import RunContext

PREFIX = "amgr-backup-"
SUFFIX = ".tar.gz"
MANIFEST = "manifest.json"
FORMAT = 1
STATE_DB = f"{STATE_DIR}/state/amgr.db"
SKIPPED_PARTS = frozenset({"locks", "inflight", "waiting", ".index", "tmp"})
"""Folders under .mp never backed up: locks, in-flight notes, caches, leftovers."""
SKIPPED_FILES = frozenset({f"{STATE_DIR}/state/daemon.json"})
"""Who held the home when the backup was taken: not true of the restored one."""
DATABASE_TARGET = (f"{STATE_DIR}/automation/logs", f"{STATE_DIR}/publish")
"""What ``target: "database"`` keeps besides the state database."""


@dataclass
class BackupReport:
    """One backup written: where, how many files, how many bytes, what was pruned."""

    path: Path
    files: int
    bytes: int
    pruned: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "files": self.files,
            "bytes": self.bytes,
            "pruned": self.pruned,
        }


class _Hashing(io.RawIOBase):
    """Reads exactly ``size`` bytes of ``raw`` (a growing file stops there), hashing them."""

    def __init__(self, raw: BinaryIO, size: int) -> None:
        self.raw, self.left, self.sha = raw, size, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        want = min(len(view), self.left)
        if want <= 0:
            return 0
        data = self.raw.read(want)
        if len(data) < want:  # the file shrank under us: pad, the checksum says so
            data += b"\0" * (want - len(data))
        view[:want] = data
        self.sha.update(data)
        self.left -= want
        return want


def _members(home: Home, target: str) -> Iterator[tuple[str, Path]]:
    """``(name in the archive, path)`` of every file to keep, except the state database."""
    root = home.root
    if target == "home":
        for name in (CONFIG_FILE, TASKS_FILE, SCHEDULES_FILE):
            if (root / name).is_file():
                yield name, root / name
        tops = [home.mp]
    else:
        tops = [root / p for p in DATABASE_TARGET]
    for top in tops:
        if not top.is_dir():
            continue
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_PARTS)
            for file in sorted(files):
                path = Path(folder) / file
                rel = path.relative_to(root).as_posix()
                if (
                    rel.startswith(f"{STATE_DIR}/state/amgr.db")
                    or ".tmp" in file
                    or path.is_symlink()
                ):
                    continue
                if file.startswith(".health-") or rel in SKIPPED_FILES:
                    continue
                yield rel, path


def _copy_database(home: Home, into: Path) -> bool:
    """The state database, copied page by page with SQLite's online backup API."""
    db = home.state_dir / "amgr.db"
    if not db.is_file():
        return False
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(into)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return True


def _add(
    tar: tarfile.TarFile, name: str, path: Path, mtime: float, manifest: dict[str, Any]
) -> int:
    """Add one file (whole lines only for ``*.jsonl``); returns its size."""
    with path.open("rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        if name.endswith(".jsonl"):
            data = raw.read(size)
            data = data[: data.rfind(b"\n") + 1]
            size, source = len(data), io.BytesIO(data)
            reader = _Hashing(source, size)
        else:
            reader = _Hashing(raw, size)
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(mtime), 0o600
        tar.addfile(info, io.BufferedReader(reader))
    manifest["files"][name] = {"sha256": reader.sha.hexdigest(), "size": size}
    return size


def create_backup(
    home: Home, backup_dir: Path, now: datetime, *, target: str = "home"
) -> BackupReport:
    """Write one backup of ``home`` into ``backup_dir`` (atomically: temp file, fsync,
    rename) and return what it holds."""
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error("create the backup folder", backup_dir, exc) from exc
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    final = backup_dir / f"{PREFIX}{stamp}{SUFFIX}"
    n = 1
    while final.exists():
        n += 1
        final = backup_dir / f"{PREFIX}{stamp}-{n}{SUFFIX}"
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "home": str(home.root),
        "target": target,
        "files": {},
    }
    fd, tmp_name = tempfile.mkstemp(prefix=".amgr-backup-", suffix=".partial", dir=backup_dir)
    tmp = Path(tmp_name)
    total = 0
    try:
        with tempfile.TemporaryDirectory(prefix="amgr-db-") as scratch:
            db_copy = Path(scratch) / "amgr.db"
            with (
                os.fdopen(fd, "wb") as out,
                tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as tar,
            ):
                stamp_s = now.timestamp()
                if _copy_database(home, db_copy):  # first: see the module's docstring
                    total += _add(tar, STATE_DB, db_copy, stamp_s, manifest)
                for name, path in _members(home, target):
                    with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                        total += _add(tar, name, path, path.stat().st_mtime, manifest)
                body = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(stamp_s), 0o600
                tar.addfile(info, io.BytesIO(body))
                out.flush()
            with tmp.open("rb") as done:
                os.fsync(done.fileno())
        os.replace(tmp, final)
        fsync_dir(backup_dir)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise storage_error("write the backup", final, exc) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return BackupReport(final, len(manifest["files"]), total)


def backups_in(backup_dir: Path) -> list[Path]:
    """The backups in ``backup_dir``, oldest first (their names sort by time)."""
    if not backup_dir.is_dir():
        return []
    return sorted(
        p for p in backup_dir.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX)
    )


def _taken_at(path: Path) -> datetime | None:
    stamp = path.name[len(PREFIX) :].removesuffix(SUFFIX).split("-")[0]
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def prune(backup_dir: Path, retention: Retention, now: datetime, *, keep: Path) -> list[str]:
    """Remove the backups ``retention`` no longer keeps (never ``keep``, the newest)."""
    found = backups_in(backup_dir)
    doomed: list[Path] = []
    if retention.keep is not None:
        doomed = found[: max(0, len(found) - retention.keep)]
    elif retention.max_age is not None:
        cutoff = now - retention.max_age
        doomed = [p for p in found if (t := _taken_at(p)) is not None and t < cutoff]
    removed = []
    for path in doomed:
        if path == keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path.name)
    return removed


def backup_action(ctx: RunContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``backup`` action: one backup, then the retention."""
    home: Home = ctx.home
    where = backup_dir_path(str(params["backup_dir"]), home.root)
    now = ctx.now()
    report = create_backup(home, where, now, target=str(params.get("target", "home")))
    retention = parse_retention(params["retention"]) if "retention" in params else None
    if retention is not None:
        report.pruned = prune(where, retention, now, keep=report.path)
    return {
        "summary": f"backup {report.path.name}: {report.files} files, {report.bytes} bytes"
        + (f", pruned {len(report.pruned)}" if report.pruned else ""),
        **report.to_json(),
    }


@dataclass
class RestoreReport:
    """A verified restore: the backup, the folder it went into, what it held."""

    backup: Path
    to: Path
    files: int
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "backup": str(self.backup),
            "to": str(self.to),
            "files": self.files,
            "created_at": self.created_at,
        }


def _damaged(backup: Path, what: str) -> TaskError:
    return TaskError(f"{backup}: {what} — the backup is damaged: restore another one")


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and bool(path.parts)


def restore(backup: Path, to: Path) -> RestoreReport:
    """Restore ``backup`` into the empty (or missing) folder ``to``, verifying every file.

    :raises UsageError-like ConfigError: ``to`` is not empty, or ``backup`` is missing.
    :raises TaskError: the backup is damaged (names the file that does not match).
    """
    if not backup.is_file():
        raise ConfigError(
            Problem(
                str(backup), "", "no such backup file", "give the path of an amgr-backup-*.tar.gz"
            )
        )
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise ConfigError(
            Problem(
                str(to),
                "",
                "the restore folder is not empty",
                "restore into a new or empty folder (--to DIR)",
            )
        )
    to.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".amgr-restore-", dir=to))
    try:
        manifest, count = _extract_verified(backup, staging)
        for entry in staging.iterdir():
            os.replace(entry, to / entry.name)
        fsync_dir(to)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(backup, to, count, str(manifest.get("created_at", "")))


def _extract_verified(backup: Path, staging: Path) -> tuple[dict[str, Any], int]:
    seen: dict[str, tuple[str, int]] = {}
    manifest: dict[str, Any] | None = None
    try:
        with tarfile.open(backup, mode="r:gz") as tar:
            for member in tar:
                if not _safe_name(member.name) or not member.isfile():
                    raise _damaged(backup, f"{member.name!r} is not a plain file inside the backup")
                source = tar.extractfile(member)
                assert source is not None
                if member.name == MANIFEST:
                    manifest = json.loads(source.read())
                    continue
                dest = staging / member.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                sha = hashlib.sha256()
                with dest.open("wb") as out:
                    while chunk := source.read(1 << 20):
                        sha.update(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                os.utime(dest, (member.mtime, member.mtime))
                seen[member.name] = (sha.hexdigest(), member.size)
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as exc:
        if (
            isinstance(exc, OSError)
            and not isinstance(exc, tarfile.TarError)
            and exc.errno is not None
        ):
            raise storage_error("restore into", staging, exc) from exc
        raise _damaged(backup, f"cannot be read ({type(exc).__name__}: {exc})") from exc
    if manifest is None or not isinstance(manifest.get("files"), dict):
        raise _damaged(backup, f"it has no {MANIFEST}")
    files: dict[str, Any] = manifest["files"]
    for name, want in files.items():
        got = seen.get(name)
        if got is None:
            raise _damaged(backup, f"{name} is in the manifest but not in the backup")
        if got != (want.get("sha256"), want.get("size")):
            raise _damaged(backup, f"{name} does not match its checksum")
    extra = sorted(set(seen) - set(files))
    if extra:
        raise _damaged(backup, f"{extra[0]} is not in the manifest")
    return manifest, len(seen)
