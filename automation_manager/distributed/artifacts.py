"""A run's files travel with its result: a worker's home is not the scheduler's.

A worker on another machine runs on its own copy of the home's three files, so what a
run makes lands under *its* ``.mp/``: the content item (``item.json``, the text, images,
video), outbox files, the run's progress file and activity log. The record the scheduler
writes points to those files, so they must end up under the scheduler's home:

- before the run the worker notes the time; after it, :func:`collect` gathers every file
  under :data:`ROOTS` written since (atomic writes: a file is either whole or absent) —
  a manifest of relative paths with their bytes (base64) — up to :data:`MAX_BYTES` in
  all; bigger files are named in ``too_large`` (the scheduler says so in its log: put
  such homes on a shared mount);
- the scheduler (:func:`unpack`) writes each one atomically under its own home, after
  checking the path stays inside one of :data:`ROOTS`, before the record is appended,
  keeping the worker's modification time: a file changed on the scheduler since (a
  person's approval) or by a later run's result is newer and is kept.

A worker that shares the scheduler's home (same machine and folder, or one shared
mount seen under the same path) sends nothing: the files are already there.

The reverse way, a run's *state* travels with the message (:func:`run_files`): the
scheduler sends the task's latest run file, so a run paused, resumed or cancelled on the
scheduler continues (or does not) on whichever worker takes its next firing.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..fsutil import atomic_write_bytes, ensure_dir

if TYPE_CHECKING:
    from ..home import Home

log = logging.getLogger("amgr.daemon")

ROOTS = ("content", "outbox", "runs", "visuals", "sales")
"""The folders under ``.mp/`` whose new files come back with a run's result."""
MAX_BYTES = 64 * 1024 * 1024
"""At most this many bytes of files per result (the result backend holds them)."""
SLACK_NS = 2_000_000_000
"""Files written this long before the run started still count (coarse file clocks)."""


def same_home(home: Home, payload: dict[str, Any]) -> bool:
    """Whether the worker runs in the scheduler's own home folder (nothing to send)."""
    return payload.get("host") == socket.gethostname() and payload.get("home") == str(home.root)


def collect(home: Home, since_ns: int) -> dict[str, Any]:
    """Files under :data:`ROOTS` written since ``since_ns``, as a JSON-able manifest."""
    files: list[dict[str, Any]] = []
    too_large: list[str] = []
    total = 0
    for root in ROOTS:
        folder = home.mp / root
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith(".") or name.endswith((".lock", ".tmp")):
                    continue  # temp files of writes in progress, lock files
                path = Path(dirpath) / name
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if not path.is_file() or path.is_symlink() or st.st_mtime_ns < since_ns - SLACK_NS:
                    continue
                rel = path.relative_to(home.mp).as_posix()
                if total + st.st_size > MAX_BYTES:
                    too_large.append(rel)
                    continue
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                total += len(data)
                files.append(
                    {
                        "path": rel,
                        "data": base64.b64encode(data).decode("ascii"),
                        "private": not (st.st_mode & 0o044),
                        "mtime_ns": st.st_mtime_ns,
                    }
                )
    return {"files": files, "too_large": too_large, "bytes": total}


def _safe(rel: str) -> PurePosixPath | None:
    path = PurePosixPath(rel)
    if path.is_absolute() or not path.parts or path.parts[0] not in ROOTS:
        return None
    if any(part in ("", ".", "..") or part.startswith(".") for part in path.parts):
        return None
    return path


def unpack(home: Home, manifest: Any, *, record_id: str) -> int:
    """Write a result's files under ``home``'s ``.mp/`` (atomically); how many."""
    if not isinstance(manifest, dict):
        return 0
    written = 0
    for entry in manifest.get("files") or []:
        rel = _safe(str(entry.get("path", "")))
        if rel is None:
            log.warning("run %s: refused a returned file outside .mp/: %r", record_id, entry)
            continue
        target = home.mp.joinpath(*rel.parts)
        mtime = int(entry.get("mtime_ns") or 0)
        try:
            if mtime and target.lstat().st_mtime_ns > mtime:
                continue  # changed here since (an approval, a later run's copy): newer wins
        except FileNotFoundError:
            pass
        ensure_dir(target.parent)
        atomic_write_bytes(
            target, base64.b64decode(entry["data"]), private=bool(entry.get("private"))
        )
        if mtime:
            os.utime(target, ns=(mtime, mtime), follow_symlinks=False)
        written += 1
    too_large = manifest.get("too_large") or []
    if too_large:
        log.warning(
            "run %s: %d file(s) too large to come back with the result (over %d MiB in "
            "all), left on the worker: %s — give the workers the scheduler's home on a "
            "shared mount",
            record_id,
            len(too_large),
            MAX_BYTES // (1024 * 1024),
            ", ".join(too_large[:5]),
        )
    return written


def run_files(home: Home, task_id: str) -> list[dict[str, Any]]:
    """The task's latest run file and activity log, for the message to a worker."""
    from ..runs.store import RunStore

    store = RunStore(home)
    latest = store.latest_for(task_id)
    if latest is None:
        return []
    out: list[dict[str, Any]] = []
    path = store.path(latest.id)
    for one in (path, path.with_suffix(".log")):
        try:
            out.append(
                {
                    "path": one.relative_to(home.mp).as_posix(),
                    "data": base64.b64encode(one.read_bytes()).decode("ascii"),
                    "private": True,
                    "mtime_ns": one.stat().st_mtime_ns,
                }
            )
        except OSError:
            continue
    return out


def place_run_files(home: Home, files: Any) -> None:
    """On the worker: the scheduler's view of the task's run, where it is newer."""
    if not isinstance(files, list):
        return
    runs = [f for f in files if isinstance(f, dict) and str(f.get("path", "")).startswith("runs/")]
    unpack(home, {"files": runs}, record_id="(run files)")
