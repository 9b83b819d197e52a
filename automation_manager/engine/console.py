"""The daemon's stderr: one short line per run start and finish, plus what needs a person.

``2026-05-04T09:00:00.002+02:00 start    daily-blog (scheduled, due 09:00:00)``
``2026-05-04T09:00:01.130+02:00 success  daily-blog in 1127 ms``
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta

from ..enums import Trigger
from ..errors import ConfigError
from ..logs.records import RunRecord
from ..scheduling import format_duration

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class LineFormatter(logging.Formatter):
    """``<local ISO time, ms> <message>``; warnings and errors name their level."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = (
            datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")
        )
        text = record.getMessage()
        if record.levelno >= logging.WARNING and not text.startswith(("failed", "interrupted")):
            text = f"{record.levelname.lower()}: {text}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        from ..secrets import REGISTRY

        return REGISTRY.mask(f"{stamp} {text}")  # a log line never carries a secret


def configure_logging(level: str) -> None:
    """Send the ``amgr`` loggers to stderr at ``level`` (idempotent)."""
    logger = logging.getLogger("amgr")
    if not any(getattr(h, "_amgr", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(LineFormatter())
        handler._amgr = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(LEVELS.get(level, logging.INFO))


def short_time(when: datetime | None, now: datetime | None = None) -> str:
    """``09:00:00`` (or ``2026-05-04 09:00:00`` when not today), in the instant's own zone."""
    if when is None:
        return "-"
    local = when.astimezone(now.tzinfo) if now is not None else when.astimezone()
    if now is not None and local.date() != now.date():
        return local.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return local.strftime("%H:%M:%S")


def describe_start(task_id: str, trigger: Trigger, attempt: int, due: datetime | None) -> str:
    """``start    daily-blog (scheduled, due 09:00:00)``."""
    what = trigger.value if attempt == 1 else f"{trigger.value} {attempt}"
    when = f", due {short_time(due)}" if due is not None else ""
    return f"{'start':<8} {task_id} ({what}{when})"


def describe_finish(record: RunRecord) -> str:
    """``success  daily-blog in 1127 ms`` / ``failed   x in 3 ms: the error``."""
    text = f"{record.status.value:<8} {record.task_id} in {record.duration_ms} ms"
    if record.error:
        first = record.error.splitlines()[0]
        text += f": {first[:200]}"
    return text


def reload_failure(exc: Exception) -> str:
    """Why a reload failed: a ConfigError's problems, else the exception and where to look.

    Anything may fail while reading an edit (a RecursionError from deep nesting, a
    ValueError from a huge integer, an OSError); the person reading the log needs the
    message and the files to check, not a traceback.
    """
    if isinstance(exc, ConfigError):
        return str(exc)
    text = str(exc)
    if len(text) > 500:
        text = text[:500] + "…"
    return (
        f"{type(exc).__name__} while reloading: {text} — check the last edit to "
        "config.json, tasks.json or schedules.json"
    )


def forced_stop(signal_name: str, running: int) -> str:
    """What a second SIGTERM/SIGINT does, with the number of runs it abandons."""
    if not running:
        return f"received {signal_name} again: no task is running; stopping now"
    tasks, them = ("task", "it") if running == 1 else ("tasks", "them")
    return (
        f"received {signal_name} again: not waiting for {running} running {tasks}; "
        f"recording {them} as interrupted"
    )


def clock_jump(jump: timedelta, moved: int) -> str:
    """A wall-clock jump and what the daemon does about it (``jump`` < 0: it went back)."""
    size = format_duration(timedelta(seconds=round(abs(jump.total_seconds()), 1)))
    if jump < timedelta(0):
        return (
            f"the wall clock went back {size}: {moved} interval tasks re-planned by as much "
            "(tasks on local times keep their times)"
        )
    return (
        f"the wall clock went forward {size} (set, or the machine slept): due times it "
        "skipped follow each task's misfire policy"
    )
