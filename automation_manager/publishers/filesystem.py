"""Files for static site generators: Markdown with YAML front matter.

Each item becomes ``<path>/YYYY-MM-DD-slug.md`` (the name Jekyll's ``_posts`` wants, and
fine for Hugo), written atomically, with ``title``, ``date``, ``slug``, ``description``,
``tags``, ``categories``, ``draft`` (``true`` for offline-provider content), ``generated_by``
and ``amgr_id`` in the front matter. An image is copied next to it and named in
``image``; inline images are copied next to it too (``<stem>-inline-N.png``) and the
Markdown's links point at them. The ``amgr_id`` line is how an unsure earlier write is
recognised: a file carrying it is ours, never written a second time.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config.platforms import FilesystemPlatform
from ..content.render import front_matter
from ..errors import TaskError
from ..fsutil import atomic_write_bytes, atomic_write_text
from .base import Parts, Publisher, Receipt
from .ledger import Pair
from .post import Post


class FilesystemPublisher(Publisher):
    """Writes items into a folder of a static site."""

    kind = "filesystem"
    reconciles_by_resending = False
    config: FilesystemPlatform

    @property
    def folder(self) -> Path:
        """The target folder: ``path``, relative to the home folder unless absolute."""
        path = Path(self.config.path).expanduser()
        return path if path.is_absolute() else self.env.home.root / path

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.env.home.root))
        except ValueError:
            return str(path)

    def document(self, post: Post, date: datetime, image: str | None) -> str:
        """The Markdown file's text."""
        fields: dict[str, Any] = {
            "title": post.title,
            "date": date.isoformat(timespec="seconds"),
            "slug": post.slug,
            "description": post.excerpt,
            "tags": post.tags,
            "categories": post.categories,
            "image": image,
            "draft": post.offline,
            "generated_by": post.generated_by or None,
            "amgr_id": post.item_id,
        }
        head = front_matter(
            {k: v for k, v in fields.items() if v is False or v not in (None, "", [])}
        )
        body = post.markdown or "\n\n".join(post.thread) or post.short_text()
        return f"{head}\n{body.strip()}\n"

    def send(self, post: Post, parts: Parts) -> Receipt:
        now = self.env.now()
        date = (post.when or now).astimezone(now.tzinfo)
        stem = f"{date:%Y-%m-%d}-{post.slug}"
        folder = self.folder
        target = folder / f"{stem}.md"
        suffix = 2
        while target.exists() and self._owner(target) != post.item_id:
            target = folder / f"{stem}-{suffix}.md"  # someone else's post has this name
            suffix += 1
        image = None
        try:
            if post.image is not None:
                image_path = target.with_suffix(post.image.suffix.lower())
                atomic_write_bytes(image_path, post.image.read_bytes())
                image = image_path.name
            post = self._inline_images(post, target)
            atomic_write_text(target, self.document(post, date, image))
        except OSError as exc:
            raise TaskError(
                f"{self.name}: cannot write {target}: {exc.strerror or exc}: "
                f"check {self.setting('path')} and the folder's permissions"
            ) from None
        return Receipt(remote_id=self._shown(target), url=None)

    @staticmethod
    def _inline_images(post: Post, target: Path) -> Post:
        """Copy the post's inline images next to ``target``; relink them in its Markdown."""
        markdown = post.markdown
        for role, path in post.files.items():
            if role.startswith("inline_image") and path.is_file():
                copy = target.with_name(f"{target.stem}-{path.name}")
                atomic_write_bytes(copy, path.read_bytes())
                markdown = markdown.replace(f"]({path.name})", f"]({copy.name})")
        return dataclasses.replace(post, markdown=markdown) if markdown != post.markdown else post

    @staticmethod
    def _owner(path: Path) -> str | None:
        """The ``amgr_id`` in a file's front matter, if any."""
        try:
            with open(path, encoding="utf-8") as fh:
                for _, line in zip(range(40), fh, strict=False):
                    if line.startswith("amgr_id:"):
                        value = json.loads(line.partition(":")[2].strip())
                        return value if isinstance(value, str) else None
        except (OSError, ValueError):
            return None
        return None

    def reconcile(self, post: Post, pair: Pair, parts: Parts) -> Receipt | None:
        """Ours if a file for this slug carries this item's ``amgr_id``."""
        for path in sorted(self.folder.glob(f"*-{post.slug}*.md")):
            if self._owner(path) == post.item_id:
                return Receipt(remote_id=self._shown(path), url=None)
        return None

    def check(self) -> str:
        folder = self.folder
        probe = folder
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        if not probe.is_dir():
            raise TaskError(f"{self.name}: {probe} is not a folder: fix {self.setting('path')}")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise TaskError(
                f"{self.name}: {probe} is not writable by this user: fix its permissions "
                f"or {self.setting('path')}"
            )
        if probe == folder:
            return f"{self._shown(folder)} is writable"
        return f"{self._shown(folder)} will be created (inside writable {probe})"
