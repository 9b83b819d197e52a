"""The ``cleanup`` action: remove generated files older than ``older_than``.

Only documented folders (:data:`~.registry.CLEANUP_FOLDERS`), and inside them only what
is safe to lose:

- ``published_media``: media files (video, audio, images) of content items already
  ``published`` — the item itself (``item.json``, its text) stays;
- ``outbox_done``: ``.mp/outbox/PLATFORM/ITEM/`` folders a person marked posted by
  creating a ``done`` file in them;
- ``runs_finished``: ``.mp/runs/RUN.json`` of runs ``completed``, ``failed`` or
  ``cancelled``;
- ``reports``: files in ``.mp/reports``; ``tmp``: files in ``.mp/tmp``.

Never, whatever is planted where: the run logs, the publish ledger, the state database
(anything under ``.mp/automation/logs``, ``.mp/publish`` or ``.mp/state``, any
``*.jsonl`` or ``amgr.db*``), a symlink, or anything outside ``.mp``. ``dry_run`` lists
what would go and removes nothing.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..home import Home
from ..text import plural
from .params import CLEANUP_FOLDERS, parse_age

if TYPE_CHECKING:
    from ..executors.base import RunContext

MEDIA = frozenset(
    {
        ".mp4",
        ".mov",
        ".webm",
        ".mkv",
        ".wav",
        ".mp3",
        ".ogg",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
    }
)
FINISHED_RUNS = frozenset({"completed", "failed", "cancelled"})


def protected(home: Home, path: Path) -> bool:
    """Whether ``path`` is something cleanup must never remove."""
    if path.is_symlink():
        return True
    try:
        rel = path.resolve().relative_to(home.mp.resolve())
    except ValueError:
        return True  # outside .mp
    keep = (home.logs_dir, home.publish_dir, home.state_dir, home.locks_dir)
    real = path.resolve()
    if any(real == k.resolve() or k.resolve() in real.parents for k in keep):
        return True
    names = [path.name] + [p.name for p in _walk_files(path)] if path.is_dir() else [path.name]
    return not rel.parts or any(n.endswith(".jsonl") or n.startswith("amgr.db") for n in names)


def _walk_files(folder: Path) -> Iterator[Path]:
    for entry in folder.rglob("*"):
        if entry.is_file() or entry.is_symlink():
            yield entry


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.lstat().st_mtime < cutoff
    except OSError:
        return False


def _published_media(home: Home, cutoff: float) -> Iterator[Path]:
    from ..content import ContentStore
    from ..enums import ContentStatus

    store = ContentStore(home)
    for item in store.items():
        if item.status is not ContentStatus.PUBLISHED:
            continue
        folder = store.folder(item.id)
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in MEDIA and _older(path, cutoff):
                yield path


def _outbox_done(home: Home, cutoff: float) -> Iterator[Path]:
    for marker in sorted(home.outbox_dir.glob("*/*/done")):
        if marker.is_file() and _older(marker, cutoff):
            yield marker.parent


def _runs_finished(home: Home, cutoff: float) -> Iterator[Path]:
    for path in sorted((home.mp / "runs").glob("*.json")):
        if not _older(path, cutoff):
            continue
        try:
            status = json.loads(path.read_text()).get("status")
        except (OSError, ValueError, AttributeError):
            continue
        if status in FINISHED_RUNS:
            yield path


def _plain_files(folder: Path, cutoff: float) -> Iterator[Path]:
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and _older(path, cutoff):
                yield path


def candidates(home: Home, folders: list[str], cutoff: float) -> Iterator[tuple[str, Path]]:
    """``(folder name, path)`` of everything cleanup would remove."""
    finders = {
        "published_media": lambda: _published_media(home, cutoff),
        "outbox_done": lambda: _outbox_done(home, cutoff),
        "runs_finished": lambda: _runs_finished(home, cutoff),
        "reports": lambda: _plain_files(home.mp / "reports", cutoff),
        "tmp": lambda: _plain_files(home.mp / "tmp", cutoff),
    }
    for name in folders:
        for path in finders[name]():
            if not protected(home, path):
                yield name, path


def cleanup(
    home: Home,
    older_than: str,
    now: datetime,
    *,
    folders: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Remove (or with ``dry_run`` list) what is older than ``older_than``."""
    age = parse_age(older_than)
    if age is None:  # validation refuses these; this guards direct library use
        from ..errors import TaskError

        raise TaskError(f"older_than {older_than!r} is not a duration such as 30d")
    cutoff = (now - age).timestamp()
    chosen = folders or list(CLEANUP_FOLDERS)
    listed: list[dict[str, Any]] = []
    freed = 0
    for name, path in candidates(home, chosen, cutoff):
        size = (
            sum(p.stat().st_size for p in _walk_files(path))
            if path.is_dir()
            else path.stat().st_size
        )
        listed.append({"folder": name, "path": str(path.relative_to(home.root)), "bytes": size})
        if dry_run:
            continue
        with contextlib.suppress(FileNotFoundError):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        freed += size
    verb = "would remove" if dry_run else "removed"
    total = sum(e["bytes"] for e in listed)
    return {
        "summary": f"{verb} {plural(len(listed), 'file')} ({total} bytes) older than {older_than}",
        "dry_run": dry_run,
        "removed" if not dry_run else "would_remove": listed,
        "bytes": total if dry_run else freed,
    }


def cleanup_action(ctx: RunContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``cleanup`` action."""
    folders = params.get("folders")
    if isinstance(folders, str):
        folders = [folders]
    return cleanup(
        ctx.home,
        str(params["older_than"]),
        ctx.now(),
        folders=folders,
        dry_run=bool(params.get("dry_run")),
    )
