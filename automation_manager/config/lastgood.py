"""The last configuration the daemon loaded, for read-only commands while a file is broken.

Each time the daemon loads the three files without a problem it keeps their parsed
content in ``.mp/state/last-good.json`` (atomic, 0600, secrets masked, written only when
it changed). ``status``, ``history``, ``content list|show``, ``runs list|show``,
``plan`` and ``tasks list|show`` fall back to it — with one warning naming the problem —
when a file fails validation, so a person can see that the daemon is alive while they
fix the file. Commands that change or run something never use it: they refuse (exit 2).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import AmgrError, ConfigError
from ..fsutil import atomic_write_json, ensure_dir
from ..home import CONFIG_FILE, SCHEDULES_FILE, TASKS_FILE, Home

if TYPE_CHECKING:
    from .loader import Workspace

log = logging.getLogger(__name__)

FILE_NAME = "last-good.json"


def _path(home: Home) -> Any:
    return home.state_dir / FILE_NAME


def _digest(files: dict[str, Any]) -> str:
    """A change detector of the files as parsed: sorted compact JSON (msgspec, in C: a
    home of 10,000 tasks in milliseconds), every registered secret form masked, hashed."""
    import msgspec

    from ..secrets import REGISTRY

    data = REGISTRY.mask_bytes(msgspec.json.encode(files, order="sorted"))
    return hashlib.sha256(data).hexdigest()


def remember(ws: Workspace, now: datetime) -> None:
    """Keep ``ws``'s files as the last good configuration (no write when unchanged).

    Unchanged files cost one digest; only a change pays for the masked copy and the
    write. Never raises: a disk that cannot take it only costs the read-only fallback.
    """
    from ..secrets import REGISTRY
    from .facts import remember as remember_facts

    REGISTRY.register_config(ws.config)
    remember_facts(ws)  # and what `history` needs, to start without validating
    raw = {name: ws.raw.get(name) for name in (CONFIG_FILE, TASKS_FILE, SCHEDULES_FILE)}
    try:
        digest = _digest(raw)
    except (TypeError, ValueError) as exc:  # never for parsed JSON; never costs the load
        log.warning("could not keep the last good configuration: %s", exc)
        return
    path = _path(ws.home)
    try:
        if path.exists():
            old = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(old, dict) and old.get("digest") == digest:
                return
        files = REGISTRY.scrub(raw)
        ensure_dir(ws.home.state_dir)
        body = {"saved_at": now.isoformat(), "digest": digest, "files": files}
        atomic_write_json(path, body, private=True)
    except (OSError, ValueError, AmgrError) as exc:
        log.warning("could not keep the last good configuration: %s", exc)


@dataclass(frozen=True)
class Fallback:
    """The workspace a read-only command uses while a file is broken, and whence."""

    workspace: Workspace
    source: str
    """``the last good configuration the daemon loaded at …``, or ``the defaults``."""


def fallback(home: Home) -> Fallback:
    """The last good configuration, else the defaults (no tasks), as a workspace."""
    from .loader import load_workspace

    path = _path(home)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        files = body["files"]
        saved = datetime.fromisoformat(body["saved_at"])
        overrides = {name: files.get(name) for name in (CONFIG_FILE, TASKS_FILE, SCHEDULES_FILE)}
        when = saved.strftime("%Y-%m-%d %H:%M")
        return Fallback(
            load_workspace(home, overrides=overrides),
            f"the last good configuration the daemon loaded at {when}",
        )
    except (OSError, ValueError, KeyError, TypeError, ConfigError):
        pass
    empty: dict[str, Any] = {CONFIG_FILE: {}, TASKS_FILE: {}, SCHEDULES_FILE: None}
    return Fallback(load_workspace(home, overrides=empty), "the defaults (no tasks)")
