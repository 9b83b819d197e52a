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
  checking the path stays inside one of :data:`ROOTS`, before the record is appended.

A worker that shares the scheduler's home (same machine and folder, or one shared
mount seen under the same path) sends nothing: the files are already there.

The reverse way, a run's *state* travels with the message (:func:`run_files`): the
scheduler sends the task's latest run file, so a run paused, resumed or cancelled on the
scheduler continues (or does not) on whichever worker takes its next firing.
"""

from __future__ import annotations

import base64
import json
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
        ensure_dir(target.parent)
        atomic_write_bytes(
            target, base64.b64decode(entry["data"]), private=bool(entry.get("private"))
        )
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


def run_files(home: Home, task_id: str) -> dict[str, str]:
    """The task's latest run file (relative path → text) for the message to a worker."""
    from ..runs.store import RunStore

    store = RunStore(home)
    latest = store.latest_for(task_id)
    if latest is None:
        return {}
    path = store.path(latest.id)
    try:
        return {path.relative_to(home.mp).as_posix(): path.read_text(encoding="utf-8")}
    except OSError:
        return {}


def place_run_files(home: Home, files: Any) -> None:
    """On the worker: the scheduler's view of the task's run replaces the worker's."""
    if not isinstance(files, dict):
        return
    for rel_text, text in files.items():
        rel = _safe(str(rel_text))
        if rel is None or rel.parts[0] != "runs" or not isinstance(text, str):
            continue
        target = home.mp.joinpath(*rel.parts)
        if _updated_at(target) > _updated_at(text):
            continue  # the worker's own file is newer (a run it continued since)
        ensure_dir(target.parent)
        atomic_write_bytes(target, text.encode("utf-8"), private=True)


def _updated_at(source: Path | str) -> str:
    """A run file's ``updated_at`` (ISO text, UTC offsets alike: compared as instants)."""
    from datetime import UTC, datetime

    try:
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
        stamp = datetime.fromisoformat(str(json.loads(text)["updated_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    return stamp.astimezone(UTC).isoformat()
