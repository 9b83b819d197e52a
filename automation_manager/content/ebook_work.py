"""The work folder of an ebook in progress, so a failed run resumes instead of repaying.

``.mp/content/_work/ebook-<slug>-<hash>/`` holds ``outline.json`` and one
``chapter-NN.md`` per finished chapter, each written atomically the moment it arrives.
The folder's key is a hash of everything that shapes the text (topic, audience, tone,
chapters, provider and model), so the same task after a crash finds its chapters, and a
changed task starts fresh. The folder is removed once the ebook is stored as an item.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from filelock import Timeout
from pydantic import BaseModel, ValidationError

from ..errors import TransientError
from ..fslock import RemovableLock
from ..fsutil import atomic_write_json, atomic_write_text, ensure_dir
from ..home import Home
from .store import slugify

T = TypeVar("T", bound=BaseModel)


def work_key(topic: str, shape: dict[str, Any]) -> str:
    """A stable folder name: the topic's slug plus a hash of what shapes the text."""
    blob = json.dumps({"topic": topic, **shape}, sort_keys=True, default=str)
    digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
    return f"ebook-{slugify(topic, 40)}-{digest}"


class EbookWork:
    """Outline and chapters of one ebook in progress.

    :param home: the amgr home.
    :param key: from :func:`work_key`.
    """

    def __init__(self, home: Home, key: str) -> None:
        self.home = home
        self.key = key
        self.folder = home.content_dir / "_work" / key

    @contextmanager
    def claimed(self) -> Iterator[EbookWork]:
        """Hold this ebook for one run; a second run of the same ebook fails transiently."""
        ensure_dir(self.home.locks_dir)
        # removed when the run ends: one ebook key per topic and shape would pile up
        lock = RemovableLock(str(self.home.locks_dir / f"{self.key}.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise TransientError(
                f"another run is writing this ebook ({self.key}); try again when it ends"
            ) from None
        try:
            yield self
        finally:
            lock.release()

    def start(self, shape: dict[str, Any], now: datetime) -> None:
        """Write ``work.json`` (what this folder is, for a person) unless it exists."""
        manifest = self.folder / "work.json"
        if not manifest.exists():
            atomic_write_json(manifest, {"key": self.key, "started_at": now.isoformat(), **shape})

    def load_outline(self, model: type[T]) -> T | None:
        """The saved outline, or None when there is none (or it is unreadable)."""
        try:
            return model.model_validate_json((self.folder / "outline.json").read_bytes())
        except (FileNotFoundError, ValidationError, ValueError):
            return None

    def save_outline(self, outline: BaseModel) -> None:
        """Keep the outline, so a resumed run writes the same chapters."""
        atomic_write_json(self.folder / "outline.json", outline.model_dump(mode="json"))

    def chapter_path(self, number: int) -> Path:
        """Where chapter ``number`` (1-based) is kept."""
        return self.folder / f"chapter-{number:02d}.md"

    def load_chapter(self, number: int) -> str | None:
        """A finished chapter's Markdown, or None when it has not arrived yet."""
        try:
            text = self.chapter_path(number).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return text if text.strip() else None

    def save_chapter(self, number: int, text: str) -> None:
        """Keep a chapter the moment it arrives (atomic: never a half-written chapter)."""
        atomic_write_text(self.chapter_path(number), text)

    def discard(self) -> None:
        """Remove the folder once the finished ebook is stored."""
        shutil.rmtree(self.folder, ignore_errors=True)
