"""Action params: how each action type's params are read and checked at validation.

The parsers (:func:`parse_age`, :func:`parse_retention`, :func:`backup_dir_path`) are the
one reading of each value, used by validation and by the actions at run time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class CheckEnv:
    """What validation knows about where the task will run."""

    home: Path | None
    allow_commands: bool = False


@dataclass(frozen=True)
class ParamProblem:
    """One problem with an action's params: ``field`` is relative to the action."""

    field: str
    message: str
    fix: str


_EXAMPLES = {
    "backup_dir": '"backup_dir": "../amgr-backups" (outside .mp)',
    "older_than": '"older_than": "30d"',
    "url": '"url": "http://127.0.0.1:8080/health"',
    "argv": '"argv": ["du", "-sh", "."]',
}


def example(key: str) -> str:
    return f"set it, e.g. {_EXAMPLES.get(key, repr(key) + ': ...')}"


_AGE_UNITS = {"w": 7 * 86_400, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_AGE_RE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(weeks?|w|days?|d|hours?|h|minutes?|mins?|m|seconds?|s)\s*$", re.I
)
AGE_FIX = 'use a duration such as "30d", "7days", "12h" or "2w"'


def parse_age(value: Any) -> timedelta | None:
    """``"7d"``, ``"7days"`` (the reference's spelling), ``"12h"``, ``"2w"`` → a timedelta;
    ``None`` when ``value`` is not such a duration (or is longer than 10 years)."""
    if not isinstance(value, str):
        return None
    match = _AGE_RE.match(value)
    if match is None:
        return None
    unit = match.group(2).lower()
    seconds = float(match.group(1)) * _AGE_UNITS[unit[0]]
    if seconds > 3650 * 86_400:
        return None
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Retention:
    """How many backups to keep: those younger than ``max_age``, or the newest ``keep``."""

    max_age: timedelta | None = None
    keep: int | None = None


RETENTION_FIX = 'use a duration such as "7d" or "7days", or a count: {"keep": 7} or 7'


def parse_retention(value: Any) -> Retention | None:
    """A backup ``retention``; ``None`` when it is neither a duration nor a count ≥ 1."""
    if isinstance(value, dict) and set(value) == {"keep"}:
        value = value["keep"]
    if isinstance(value, str) and value.strip().lower().startswith("keep"):
        value = value.strip()[4:].lstrip(": ").strip()
        value = int(value) if value.isdigit() else value
    if isinstance(value, int) and not isinstance(value, bool):
        return Retention(keep=value) if 1 <= value <= 10_000 else None
    age = parse_age(value)
    return Retention(max_age=age) if age is not None and age.total_seconds() > 0 else None


def backup_dir_path(value: str, home: Path) -> Path:
    """Where ``backup_dir`` points: relative paths are relative to the home."""
    path = Path(value).expanduser()
    return (path if path.is_absolute() else home / path).resolve()


def _writable_dir(path: Path) -> bool:
    """Whether ``path`` is a writable folder, or could be made in a writable one."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def check_backup(params: Mapping[str, Any], env: CheckEnv) -> list[ParamProblem]:
    out: list[ParamProblem] = []
    raw = params.get("backup_dir")
    if not isinstance(raw, str):
        out.append(
            ParamProblem("params.backup_dir", "must be a folder path", example("backup_dir"))
        )
    elif env.home is not None:
        where = backup_dir_path(raw, env.home)
        mp = (env.home / ".mp").resolve()
        if where == mp or mp in where.parents:
            out.append(
                ParamProblem(
                    "params.backup_dir",
                    f"{raw!r} is inside .mp (a backup would contain itself)",
                    "use a folder outside .mp, e.g. ../amgr-backups or /var/backups/amgr",
                )
            )
        elif not _writable_dir(where):
            out.append(
                ParamProblem(
                    "params.backup_dir",
                    f"{raw!r} ({where}) is not a writable folder",
                    "create it or pick a folder this user can write",
                )
            )
    if "retention" in params and parse_retention(params["retention"]) is None:
        out.append(
            ParamProblem(
                "params.retention",
                f"{params['retention']!r} is not a duration or a count",
                RETENTION_FIX,
            )
        )
    if params.get("target", "home") not in ("home", "database"):
        out.append(
            ParamProblem(
                "params.target", f"unknown target {params['target']!r}", 'use "home" or "database"'
            )
        )
    return out


CLEANUP_FOLDERS: Mapping[str, str] = MappingProxyType(
    {
        "published_media": "rendered media (.mp4, .wav, .png, ...) of content already published",
        "outbox_done": "files in .mp/outbox whose item is marked done (a .done file)",
        "runs_finished": "run files in .mp/runs of runs that finished or were cancelled",
        "reports": "reports in .mp/reports written by report actions",
        "tmp": "leftovers in .mp/tmp",
    }
)


def check_cleanup(params: Mapping[str, Any], env: CheckEnv) -> list[ParamProblem]:
    out: list[ParamProblem] = []
    if parse_age(params.get("older_than")) is None:
        out.append(
            ParamProblem(
                "params.older_than", f"{params.get('older_than')!r} is not a duration", AGE_FIX
            )
        )
    folders = params.get("folders")
    if folders is not None:
        names = folders if isinstance(folders, list) else [folders]
        for name in names:
            if name not in CLEANUP_FOLDERS:
                out.append(
                    ParamProblem(
                        "params.folders",
                        f"{name!r} is not a folder cleanup knows",
                        f"use some of: {', '.join(CLEANUP_FOLDERS)}",
                    )
                )
    return out


def _number_in(
    params: Mapping[str, Any], key: str, lo: float, hi: float, out: list[ParamProblem]
) -> None:
    value = params.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        out.append(
            ParamProblem(
                f"params.{key}",
                f"{value!r} is not a number from {lo:g} to {hi:g}",
                f"use a number from {lo:g} to {hi:g}",
            )
        )


def check_http(params: Mapping[str, Any], env: CheckEnv) -> list[ParamProblem]:
    out: list[ParamProblem] = []
    url = params.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
        out.append(ParamProblem("params.url", f"{url!r} is not an http(s) URL", example("url")))
    _number_in(params, "expect", 100, 599, out)
    _number_in(params, "timeout_s", 0.1, 600, out)
    return out


def check_command(params: Mapping[str, Any], env: CheckEnv) -> list[ParamProblem]:
    out: list[ParamProblem] = []
    if not env.allow_commands:
        out.append(
            ParamProblem(
                "type",
                "command actions are off (config.json allow_commands is false)",
                'set "allow_commands": true in config.json to allow them, or remove the action',
            )
        )
    argv = params.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        out.append(
            ParamProblem(
                "params.argv",
                "must be a non-empty list of strings (program, then arguments; no shell)",
                example("argv"),
            )
        )
    _number_in(params, "timeout_s", 0.1, 86_400, out)
    _number_in(params, "memory_mb", 16, 1_048_576, out)
    _number_in(params, "cpu_s", 1, 86_400, out)
    _number_in(params, "nice", 0, 19, out)
    return out


def check_report(params: Mapping[str, Any], env: CheckEnv) -> list[ParamProblem]:
    period = params.get("period", "week")
    if period not in ("week", "weekly", "month", "monthly"):
        return [
            ParamProblem(
                "params.period", f"{period!r} is not week or month", 'use "week" or "month"'
            )
        ]
    return []
