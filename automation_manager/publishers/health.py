"""``amgr check``: is every platform and the LLM provider usable right now?

Each check is a cheap authenticated read (nothing is posted; a webhook gets a signed
``ping``). Results are remembered in ``.mp/publish/checks.json`` so a publishing run
checks a platform once per local day, before its first publish, and skips a platform
whose credentials fail instead of failing every item on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..errors import AmgrError
from ..fsutil import atomic_write_json, read_json
from ..home import Home
from ..notify import Notifier
from ..secrets import REGISTRY
from .base import PublishEnv, Sleep

if TYPE_CHECKING:
    from ..config import Workspace
    from .base import Publisher

CHECKS_FILE = "checks.json"
_lock = threading.Lock()


@dataclass(frozen=True)
class CheckResult:
    """One line of ``amgr check``.

    :param message: what was found when ``ok``; else what is wrong and what to fix.
    """

    name: str
    kind: str
    ok: bool
    message: str
    error: AmgrError | None = field(default=None, compare=False)

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name} ({self.kind}): {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "ok": self.ok, "message": self.message}


def _without_prefix(name: str, message: str) -> str:
    return message.removeprefix(f"{name}: ")


def check_publisher(publisher: Publisher) -> CheckResult:
    """Run one platform's check; a failure carries the error it raised."""
    try:
        found = publisher.check()
        return CheckResult(publisher.name, publisher.kind, True, found)
    except AmgrError as exc:
        message = _without_prefix(publisher.name, str(exc))
        return CheckResult(publisher.name, publisher.kind, False, message, exc)


def check_llm(ws: Workspace) -> CheckResult:
    """The LLM provider: offline needs nothing; a server must list its models."""
    from ..llm import check_provider

    try:
        return CheckResult("llm", "llm", True, check_provider(ws.config.llm))
    except AmgrError as exc:
        return CheckResult("llm", "llm", False, str(exc))


def check_platforms(
    ws: Workspace, *, now: Callable[[], datetime], sleep: Sleep | None = None
) -> list[CheckResult]:
    """Check every configured platform (nothing posted); remember and notify the results."""
    from . import publisher_for

    env = PublishEnv(home=ws.home, now=now, sleep=sleep or _no_wait, attempts=2)
    book = CheckBook(ws.home, Notifier(ws.home, ws.config))
    results = []
    for name, config in ws.config.platforms.items():
        publisher = publisher_for(name, config, env)
        try:
            result = check_publisher(publisher)
        finally:
            publisher.close()
        book.remember(result, now())
        results.append(result)
    return results


def run_checks(
    ws: Workspace, *, now: Callable[[], datetime], sleep: Sleep | None = None
) -> list[CheckResult]:
    """Check every configured platform, then the LLM provider (``amgr check``)."""
    return [*check_platforms(ws, now=now, sleep=sleep), check_llm(ws)]


def _no_wait(seconds: float) -> None:
    """``amgr check`` answers quickly: no waiting out a rate limit or a backoff."""


class CheckBook:
    """``.mp/publish/checks.json``: the latest check result of each platform.

    With a notifier, a failed platform check opens a ``credentials`` incident (one
    message) and the next passing check closes it (one recovery message).
    """

    def __init__(self, home: Home, notifier: Notifier | None = None) -> None:
        self.path = home.publish_dir / CHECKS_FILE
        self.notifier = notifier

    def load(self) -> dict[str, Any]:
        try:
            data = read_json(self.path)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def remember(self, result: CheckResult, at: datetime) -> None:
        with _lock:
            data = self.load()
            data[result.name] = REGISTRY.scrub({**result.to_json(), "at": at.isoformat()})
            atomic_write_json(self.path, data, private=True)
        if self.notifier is not None and result.kind != "llm":
            if result.ok:
                self.notifier.credentials_ok(result.name, at)
            else:
                self.notifier.credentials_failed(result.name, result.message, at)

    def passed_on(self, name: str, day: date, tz: Any) -> bool:
        """Whether ``name`` passed a check on local date ``day`` (in zone ``tz``)."""
        entry = self.load().get(name)
        if not isinstance(entry, dict) or not entry.get("ok"):
            return False
        try:
            at = datetime.fromisoformat(str(entry.get("at")))
        except ValueError:
            return False
        return at.astimezone(tz).date() == day
