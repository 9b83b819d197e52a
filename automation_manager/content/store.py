"""The content store: ``.mp/content/<item-id>/item.json`` plus the item's files.

An item moves ``draft`` → ``review`` → ``pending`` → ``published`` | ``failed``
(or ``rejected``). Every change rewrites ``item.json`` atomically under a lock.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock
from pydantic import BaseModel, Field

from ..enums import ContentStatus
from ..errors import ConfigError, Problem
from ..fsutil import atomic_write_bytes, atomic_write_json, ensure_dir, is_safe_id
from ..home import Home
from ..ids import resolve_prefix
from ..secrets import REGISTRY


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII, lowercase, dash-separated: safe in URLs and file names."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "item"


class StatusChange(BaseModel):
    at: datetime
    status: ContentStatus
    note: str = ""


class ContentItem(BaseModel):
    """One piece of content and where it stands."""

    id: str
    kind: str
    title: str
    topic: str | None = None
    status: ContentStatus = ContentStatus.DRAFT
    created_at: datetime
    task_id: str | None = None
    record_id: str | None = None
    provider: str | None = None
    files: dict[str, str] = Field(default_factory=dict)
    """Role → path relative to the item folder, e.g. ``{"markdown": "post.md"}``."""
    meta: dict[str, Any] = Field(default_factory=dict)
    targets: list[str] = Field(default_factory=list)
    """Platforms this item should go to; empty = every platform that accepts its kind."""
    history: list[StatusChange] = Field(default_factory=list)
    planned: dict[str, datetime] = Field(default_factory=dict)
    """Platform → when the publishing window plans to send it."""
    published: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Platform → {"remote_id", "url", "at", "status"} for each completed publish."""
    errors: dict[str, str] = Field(default_factory=dict)


class ContentStore:
    """Reads and writes items under ``home.content_dir``."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.root = home.content_dir

    def _lock(self) -> FileLock:
        ensure_dir(self.home.locks_dir)
        return FileLock(str(self.home.locks_dir / "content.lock"), timeout=30)

    def folder(self, item_id: str) -> Path:
        if not is_safe_id(item_id):
            raise ConfigError(
                Problem(
                    "content",
                    "id",
                    f"{item_id!r} is not a content id",
                    "use an id shown by `amgr content list`",
                )
            )
        return self.root / item_id

    def new_id(self, kind: str, title: str, now: datetime) -> str:
        stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
        return f"{kind}-{stamp}-{slugify(title, 40)}-{os.urandom(2).hex()}"

    def create(
        self,
        kind: str,
        title: str,
        files: dict[str, tuple[str, bytes | str]],
        *,
        now: datetime,
        status: ContentStatus = ContentStatus.DRAFT,
        **fields: Any,
    ) -> ContentItem:
        """Write the item's files, then its ``item.json`` (so a visible item is complete).

        :param files: role → (file name, content).
        """
        item_id = self.new_id(kind, title, now)
        folder = self.folder(item_id)
        rel: dict[str, str] = {}
        for role, (name, data) in files.items():
            payload = data.encode("utf-8") if isinstance(data, str) else data
            atomic_write_bytes(folder / name, payload)
            rel[role] = name
        item = ContentItem(
            id=item_id,
            kind=kind,
            title=title,
            created_at=now,
            status=status,
            files=rel,
            history=[StatusChange(at=now, status=status, note="created")],
            **fields,
        )
        self.save(item)
        return item

    def save(self, item: ContentItem) -> None:
        """Write ``item.json``, private and masked: it keeps each platform's answer
        (``published``) and error message (``errors``)."""
        data = REGISTRY.scrub(item.model_dump(mode="json"))
        atomic_write_json(self.folder(item.id) / "item.json", data, private=True)

    def get(self, item_id: str) -> ContentItem:
        path = self.folder(item_id) / "item.json"
        try:
            return ContentItem.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise ConfigError(
                Problem(
                    "content", item_id, "no such content item", "see `amgr content list` for ids"
                )
            ) from None

    def ids(self) -> list[str]:
        """Every item folder's id (those holding an ``item.json``), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(c.name for c in self.root.iterdir() if (c / "item.json").is_file())

    def resolve(self, given: str) -> str:
        """The full id ``given`` names: itself or the one id it is a unique prefix of.

        :raises UsageError: (exit 2) for no item or several, listing the candidates.
        """
        if is_safe_id(given) and (self.root / given / "item.json").is_file():
            return given
        return resolve_prefix("content item", given, self.ids(), hint="amgr content list")

    def path_of(self, item: ContentItem, role: str) -> Path | None:
        name = item.files.get(role)
        return self.folder(item.id) / name if name else None

    def items(self) -> Iterator[ContentItem]:
        """Every readable item, oldest first (ids sort by creation time within a kind)."""
        if not self.root.is_dir():
            return
        found: list[ContentItem] = []
        for child in self.root.iterdir():
            meta = child / "item.json"
            if meta.is_file():
                try:
                    found.append(ContentItem.model_validate_json(meta.read_bytes()))
                except ValueError:
                    continue
        found.sort(key=lambda i: (i.created_at, i.id))
        yield from found

    def update(self, item_id: str, change: Any) -> ContentItem:
        """Apply ``change(item)`` under the store lock and save atomically."""
        with self._lock():
            item = self.get(item_id)
            change(item)
            self.save(item)
            return item

    def set_status(
        self, item_id: str, status: ContentStatus, now: datetime, note: str = ""
    ) -> ContentItem:
        def apply(item: ContentItem) -> None:
            item.status = status
            item.history.append(StatusChange(at=now, status=status, note=note))

        return self.update(item_id, apply)
