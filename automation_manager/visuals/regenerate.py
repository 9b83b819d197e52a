"""``amgr content regenerate ID --only ROLE``: remake one visual of an item on purpose.

The asset is drawn again (``fresh``: the images and speech caches are skipped, so a model
is paid again, which is the point), its file replaced atomically, the item's
``meta.visuals`` updated, ``needs_visuals`` cleared, and a note added to its history. An
ebook's new cover is also put into its EPUB.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, Problem
from ..fsutil import atomic_write_bytes
from .errors import VisualsError
from .palette import Brand
from .roles import BY_KIND, ONLY

if TYPE_CHECKING:
    from ..config import Workspace
    from ..content.render import Rendered
    from ..content.store import ContentItem

TEXT_SUFFIXES = (".md", ".json", ".srt", ".txt")


@dataclass
class Regenerated:
    """What ``regenerate`` remade."""

    item_id: str
    role: str
    paths: list[str]
    images: int
    cost_usd: float
    voice: str | None = None


def _cover_into_epub(epub: bytes, png: bytes) -> bytes:
    """``epub`` with ``EPUB/images/cover.png`` replaced (``mimetype`` kept first, stored)."""
    src = zipfile.ZipFile(io.BytesIO(epub))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "EPUB/images/cover.png":
                data = png
            dst.writestr(info, data, compress_type=info.compress_type)
    return out.getvalue()


def regenerate(
    workspace: Workspace,
    item_id: str,
    only: str,
    now: datetime,
    progress: Callable[[str, int, int], None] | None = None,
) -> Regenerated:
    """Remake ``only`` for the item ``item_id``.

    :raises ConfigError: (exit 2) when the item's kind has no such visual.
    :raises VisualsError: when the visual cannot be made (the item is unchanged).
    """
    from ..content.brief import Brief
    from ..content.render import Rendered
    from ..content.store import ContentStore
    from .make import Studio, blog, cover_png, describe, social
    from .shapes import COVER

    store = ContentStore(workspace.home)
    item = store.get(store.resolve(item_id))
    allowed = BY_KIND.get(item.kind, ())
    if only not in allowed:
        raise ConfigError(
            Problem(
                "content",
                "--only",
                f"a {item.kind} item has no {only}",
                f"use one of: {', '.join(allowed)}" if allowed else "it has no visuals",
            )
        )
    folder = store.folder(item.id)
    files: dict[str, tuple[str, str | bytes]] = {}
    for key, name in item.files.items():
        path = folder / name
        if path.is_file():
            raw = path.read_bytes()
            files[key] = (name, raw.decode("utf-8") if name.endswith(TEXT_SUFFIXES) else raw)
    rendered = Rendered(item.title, files, "", dict(item.meta))
    before = dict(files)
    config = workspace.config
    studio = Studio(
        config,
        workspace.home,
        offline=item.provider in (None, "offline"),
        brand=Brand.from_config(config.brand, Path(workspace.home.root)),
        fresh=True,
        only=only,
    )
    params: dict[str, object] = {"topic": item.topic or item.title}
    if item.meta.get("target_s"):
        params["length"] = item.meta["target_s"]
    brief = Brief(
        topic=item.topic or item.title,
        platform=item.meta.get("platform"),
        language=str(item.meta.get("language") or "en"),
        params=params,
    )
    if item.kind == "blog":
        if only == "inline_image":
            _strip_inline(rendered)
        blog(studio, brief, rendered)
    elif item.kind == "social":
        social(studio, brief, rendered)
    elif item.kind == "shorts":
        from .shorts import ProgressCtx, shorts

        shorts(studio, ProgressCtx(progress) if progress else None, brief, rendered)
    else:
        png = cover_png(
            studio,
            brief,
            item.title,
            str(item.meta.get("subtitle") or ""),
            str(item.meta.get("author") or config.brand.author or ""),
        )
        rendered.files["cover"] = ("cover.png", png)
        rendered.meta.setdefault("visuals", {})["cover"] = describe("cover", "cover.png", COVER)
        if "epub" in rendered.files:
            name, epub = rendered.files["epub"]
            if isinstance(epub, bytes):
                rendered.files["epub"] = (name, _cover_into_epub(epub, png))
    written = []
    for key, (name, data) in rendered.files.items():
        if before.get(key) != (name, data):
            payload = data.encode("utf-8") if isinstance(data, str) else data
            atomic_write_bytes(folder / name, payload)
            written.append(str(folder / name))

    def apply(current: ContentItem) -> None:
        from ..content.store import StatusChange

        for key, (name, _) in rendered.files.items():
            current.files.setdefault(key, name)
        current.meta["visuals"] = rendered.meta.get("visuals", {})
        for field in ("duration_s", "voice", "target_s"):
            if field in rendered.meta:
                current.meta[field] = rendered.meta[field]
        current.meta.pop("needs_visuals", None)
        current.history.append(
            StatusChange(at=now, status=current.status, note=f"regenerated {only}")
        )

    store.update(item.id, apply)
    return Regenerated(item.id, only, written, studio.images, studio.cost_usd, studio.voice)


def _strip_inline(rendered: Rendered) -> None:
    """Remove earlier inline image links from the Markdown before placing new ones."""
    import re

    name, text = rendered.files["markdown"]
    if isinstance(text, str):
        rendered.files["markdown"] = (name, re.sub(r"\n\n!\[[^\]]*\]\(inline-\d+\.png\)", "", text))


__all__ = ["ONLY", "Regenerated", "VisualsError", "regenerate"]
