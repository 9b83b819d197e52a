"""Rotation: what a task's next item is about, and from which angle.

A task names its subject in one of three ways:

- ``topic``: one topic; each run writes from the next angle (:mod:`.angles`);
- ``topics``: a list, used in order, one per run;
- ``topic_file``: a text file (relative to the home folder), one topic per line; blank
  lines and lines starting with ``#`` are skipped.

Where a task stands is kept in ``.mp/state/rotation/TASK.json`` (``topic_position``,
``angle_position``), written atomically after each item that counts, so a restart
continues the series instead of starting it again. A run that makes a near-duplicate
tries the next angle; the positions move past every angle it tried, also when the run
ends ``skipped``, so the next run starts somewhere new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from ..errors import TaskError
from ..fsutil import atomic_write_json, ensure_dir, is_safe_id
from ..home import Home
from .angles import Angle, angle_at, angle_named
from .brief import list_param, str_param

MAX_TOPIC_LINES = 10_000


def topics_of(params: dict[str, Any], home: Home) -> list[str]:
    """The task's topics in order: ``topics``, else the lines of ``topic_file``, else
    ``[topic]`` (empty when the task has none of them)."""
    listed = list_param(params, "topics") if isinstance(params.get("topics"), list) else []
    if not listed and isinstance(params.get("topics"), str):
        listed = [t.strip() for t in str(params["topics"]).split(";") if t.strip()]
    if listed:
        return listed
    name = str_param(params, "topic_file")
    if name:
        path = Path(name).expanduser()
        path = path if path.is_absolute() else home.root / path
        try:
            lines = path.read_text(encoding="utf-8").splitlines()[:MAX_TOPIC_LINES]
        except OSError as exc:
            raise TaskError(
                f"topic_file {name!r} cannot be read ({exc.strerror or exc}): put one topic "
                f'per line in {path}, or use "topics": [...] in the task'
            ) from None
        found = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        if not found:
            raise TaskError(f"topic_file {name!r} has no topics: put one topic per line in {path}")
        return found
    topic = str_param(params, "topic")
    return [topic] if topic else []


@dataclass
class Position:
    """Where a task's series stands."""

    topic: int = 0
    angle: int = 0


class Rotation:
    """One task's series: the next topic and angle, remembered across restarts."""

    def __init__(self, home: Home, task_id: str) -> None:
        self.home = home
        self.task_id = task_id
        safe = task_id if is_safe_id(task_id) else "task"
        self.path = home.state_dir / "rotation" / f"{safe}.json"

    def _lock(self) -> FileLock:
        ensure_dir(self.home.locks_dir)
        return FileLock(str(self.home.locks_dir / "rotation.lock"), timeout=30)

    def position(self) -> Position:
        """The saved position (the start when there is none or it cannot be read)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Position(int(data.get("topic_position", 0)), int(data.get("angle_position", 0)))
        except (OSError, ValueError, TypeError, AttributeError):
            return Position()

    def advance(self, start: Position, tries: int, now: datetime, last: str | None) -> None:
        """Move past this run's topic and every angle it tried (``tries`` ≥ 1)."""
        with self._lock():
            ensure_dir(self.path.parent)
            atomic_write_json(
                self.path,
                {
                    "task_id": self.task_id,
                    "topic_position": start.topic + 1,
                    "angle_position": start.angle + max(1, tries),
                    "updated_at": now.isoformat(timespec="seconds"),
                    "last_item": last,
                },
            )


@dataclass(frozen=True)
class Choice:
    """What one attempt writes about."""

    topic: str
    angle: Angle
    attempt: int


def choose(topics: list[str], start: Position, attempt: int, fixed_angle: str | None) -> Choice:
    """The topic and angle for ``attempt`` (0-based) of a run starting at ``start``."""
    topic = topics[start.topic % len(topics)]
    named = angle_named(fixed_angle)
    if fixed_angle and named is None:
        from .angles import ANGLES

        raise TaskError(
            f"angle={fixed_angle!r} is not an angle: use one of "
            f"{', '.join(a.key for a in ANGLES)}, or leave angle out to rotate them"
        )
    angle = named if named is not None else angle_at(start.angle + attempt)
    return Choice(topic, angle, attempt)
