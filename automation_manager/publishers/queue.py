"""The content queue as a person sees it: list, show, approve, reject, retry.

The rules behind ``amgr content ...``: which status changes are allowed, and how each
item's platforms stand (published with a URL, ready in an outbox, planned for a time,
failed with a reason, or waiting).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..config import Workspace
from ..content import ContentItem, ContentStore, StatusChange
from ..enums import ContentStatus
from ..errors import ConfigError, Problem
from ..visuals.files import assets_of
from .ledger import Ledger, PairState
from .session import targets_of


def _refuse(item: ContentItem, action: str, why: str) -> ConfigError:
    return ConfigError(Problem("content", item.id, f"cannot {action} a {item.status} item", why))


class ContentQueue:
    """Reads and changes content items for the CLI and the library.

    :param now: the clock used for status history entries.
    """

    def __init__(self, ws: Workspace, now: Callable[[], datetime]) -> None:
        self.ws = ws
        self.now = now
        self.store = ContentStore(ws.home)
        self.tz = ZoneInfo(ws.timezone_name)

    def items(self, status: str | None = None, kind: str | None = None) -> list[ContentItem]:
        """Items oldest first, optionally only one status and one kind."""
        return [
            i
            for i in self.store.items()
            if (status is None or i.status == status) and (kind is None or i.kind == kind)
        ]

    def get(self, item_id: str) -> ContentItem:
        return self.store.get(item_id)

    def local(self, value: datetime) -> str:
        """A time in the home's zone, to the minute."""
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def where(self, item: ContentItem) -> list[dict[str, Any]]:
        """One entry per platform the item goes to or went to, with how it stands there."""
        names = dict.fromkeys(
            [
                *targets_of(dict(self.ws.config.platforms), item),
                *item.published,
                *item.planned,
                *item.errors,
            ]
        )
        out = []
        for name in names:
            entry: dict[str, Any] = {"platform": name}
            if name in item.published:
                done = item.published[name]
                entry.update(
                    state=done.get("status") or "published",
                    url=done.get("url"),
                    remote_id=done.get("remote_id"),
                    at=done.get("at"),
                )
            elif name in item.errors:
                entry.update(state="failed", error=item.errors[name])
            elif name in item.planned:
                entry.update(state="planned", at=item.planned[name].isoformat())
            else:
                entry.update(state="waiting")
            out.append(entry)
        return out

    def describe_where(self, item: ContentItem) -> str:
        """``"blog: published https://…; masto: planned 2026-01-05 09:00"``."""
        parts = []
        for entry in self.where(item):
            text = f"{entry['platform']}: {entry['state']}"
            if entry["state"] == "planned":
                text += " " + self.local(datetime.fromisoformat(entry["at"]))
            elif entry.get("url") or entry["state"] == "published":
                text += f" {entry.get('url') or entry.get('remote_id')}"
            parts.append(text)
        return "; ".join(parts)

    def view(self, item: ContentItem) -> dict[str, Any]:
        """Everything ``amgr content show`` prints, JSON-able."""
        folder = self.store.folder(item.id)
        return {
            "id": item.id,
            "kind": item.kind,
            "title": item.title,
            "topic": item.topic,
            "status": str(item.status),
            "created_at": item.created_at.isoformat(),
            "task_id": item.task_id,
            "provider": item.provider,
            "folder": str(folder),
            "files": {role: str(folder / name) for role, name in item.files.items()},
            "targets": targets_of(dict(self.ws.config.platforms), item),
            "where": self.where(item),
            "history": [
                {"at": h.at.isoformat(), "status": str(h.status), "note": h.note}
                for h in item.history
            ],
            "meta": item.meta,
            "assets": assets_of(item, folder),
        }

    # -- changes ---------------------------------------------------------------------------

    def _move(
        self, item_id: str, status: ContentStatus, note: str, check: Callable[[ContentItem], None]
    ) -> ContentItem:
        now = self.now()

        def apply(item: ContentItem) -> None:
            check(item)
            item.status = status
            item.history.append(StatusChange(at=now, status=status, note=note))

        return self.store.update(item_id, apply)

    def approve(self, item_id: str) -> ContentItem:
        """``review`` (or ``draft``) → ``pending``: publishing may send it."""

        def check(item: ContentItem) -> None:
            if item.status not in (ContentStatus.REVIEW, ContentStatus.DRAFT):
                raise _refuse(item, "approve", "only items in review (or drafts) need approval")

        return self._move(item_id, ContentStatus.PENDING, "approved", check)

    def reject(self, item_id: str, reason: str | None = None) -> ContentItem:
        """Any item not yet published → ``rejected``: never published."""

        def check(item: ContentItem) -> None:
            if item.status in (ContentStatus.PUBLISHED, ContentStatus.REJECTED):
                raise _refuse(
                    item, "reject", "a published item is already out; a rejected one stays rejected"
                )

        return self._move(item_id, ContentStatus.REJECTED, reason or "rejected", check)

    def retry(self, item_id: str) -> tuple[ContentItem, list[str]]:
        """``failed`` → ``pending`` for a fresh attempt on the platforms that failed.

        Final failures in the ledger are reset; a platform that has the item stays done
        and is never sent to again. Returns the item and the platforms reset.
        """
        item = self.store.get(item_id)
        if item.status is not ContentStatus.FAILED:
            raise _refuse(item, "retry", "only failed items can be retried")
        ledger = Ledger(self.ws.home)
        reset = []
        for name in dict.fromkeys(
            [*item.errors, *targets_of(dict(self.ws.config.platforms), item)]
        ):
            if ledger.pair(item.id, name).state is PairState.FAILED:
                ledger.record("reset", item.id, name, self.now())
                reset.append(name)

        def check(it: ContentItem) -> None:
            if it.status is not ContentStatus.FAILED:
                raise _refuse(it, "retry", "only failed items can be retried")
            it.errors.clear()

        moved = self._move(item_id, ContentStatus.PENDING, "retry", check)
        return moved, reset
