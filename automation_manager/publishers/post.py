"""A content item as publishers see it: title, slug, Markdown body, short text, image.

Items come from the content store with files by role (``{"markdown": "post.md"}``) and
free-form ``meta``. This module is the one place that knows how to read them, so each
platform module only formats.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..content import ContentItem, ContentStore
from ..content.store import slugify

BODY_ROLES = ("markdown", "post", "article", "body", "book_markdown", "book_md", "script")
BODY_FILES = ("post.md", "article.md", "book.md", "script.md")
POSTS_ROLES = ("posts", "thread", "social")
IMAGE_ROLES = ("image", "cover", "featured_image", "thumbnail")
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
TEXT_TYPES = (".md", ".txt", ".json", ".srt", ".vtt", ".csv", ".html")


@dataclass
class Post:
    """Everything a platform needs to publish one item.

    :param markdown: the body, without a leading ``# Title`` that repeats the title.
    :param thread: ready-made short posts (social items), in order; else empty.
    :param links: URLs where the item is already published, by platform name.
    :param when: the planned publishing instant (the post date of a scheduled post).
    """

    item_id: str
    kind: str
    title: str
    slug: str
    markdown: str
    excerpt: str = ""
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    image: Path | None = None
    thread: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    when: datetime | None = None
    created_at: datetime | None = None
    topic: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    generated_by: str = ""
    """Who made the content (``meta["generated_by"]``): a model, or the offline templates."""
    offline: bool = False
    """Made by the offline provider: every platform labels it in the form it keeps."""

    def label(self) -> str:
        """The visible line an offline item carries (empty for model-made content)."""
        if not self.offline:
            return ""
        made_by = self.generated_by or "amgr offline provider"
        return f"[Offline draft: {made_by}. Review before posting.]"

    def short_text(self) -> str:
        """One text for a microblog: the item's posts, else title, excerpt, link, tags."""
        if self.thread:
            return "\n\n".join(self.thread)
        parts = [self.title]
        if self.excerpt:
            parts.append(self.excerpt)
        link = next(iter(self.links.values()), None)
        if link:
            parts.append(link)
        if self.tags:
            parts.append(" ".join("#" + re.sub(r"\W+", "", t) for t in self.tags))
        return "\n\n".join(p for p in parts if p)

    def image_type(self) -> str | None:
        """The image's MIME type, if the post has an image."""
        return IMAGE_TYPES.get(self.image.suffix.lower()) if self.image else None


def render_html(markdown_text: str) -> str:
    """Markdown to HTML (tables, footnotes, fenced code), as blogs store it."""
    import markdown

    return markdown.markdown(markdown_text, extensions=["extra", "sane_lists"])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return []


def _first_meta(meta: dict[str, Any], *keys: str) -> Any:
    return next((meta[k] for k in keys if meta.get(k)), None)


def _thread_from(data: Any) -> list[str]:
    if isinstance(data, dict):
        data = next(
            (data[k] for k in ("parts", "posts", "thread") if isinstance(data.get(k), list)), []
        )
    out = []
    for entry in data if isinstance(data, list) else []:
        text = entry.get("text") or entry.get("content") if isinstance(entry, dict) else entry
        if isinstance(text, str) and text.strip():
            out.append(text.strip())
    return out


def strip_front_matter(markdown: str) -> str:
    """The Markdown without a leading ``---`` YAML block (platforms add their own)."""
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 4)
        if end != -1:
            return markdown[end + 5 :].lstrip("\n")
    return markdown


def _drop_title_heading(markdown: str, title: str) -> str:
    body = strip_front_matter(markdown).lstrip()
    lines = body.splitlines()
    if lines and lines[0].startswith("# ") and lines[0][2:].strip() == title.strip():
        return "\n".join(lines[1:]).lstrip("\n")
    return body


def build_post(store: ContentStore, item: ContentItem, *, when: datetime | None = None) -> Post:
    """Read ``item``'s files and meta into a :class:`Post`."""
    folder = store.folder(item.id)
    files = {role: folder / name for role, name in item.files.items() if (folder / name).is_file()}
    by_name = {path.name: path for path in files.values()}
    body = next((files[r] for r in BODY_ROLES if r in files), None)
    body = body or next((by_name[n] for n in BODY_FILES if n in by_name), None)
    body = body or next((p for p in files.values() if p.suffix == ".md"), None)
    markdown = body.read_text(encoding="utf-8") if body else ""
    thread: list[str] = []
    posts_file = next((files[r] for r in POSTS_ROLES if r in files), None) or by_name.get(
        "posts.json"
    )
    if posts_file is not None and posts_file.suffix == ".json":
        try:
            thread = _thread_from(json.loads(posts_file.read_text(encoding="utf-8")))
        except ValueError:
            thread = []
    thread = thread or _thread_from(item.meta.get("posts"))
    image = next((files[r] for r in IMAGE_ROLES if r in files), None)
    image = image or next((p for p in files.values() if p.suffix.lower() in IMAGE_TYPES), None)
    meta = item.meta
    excerpt = _first_meta(meta, "excerpt", "meta_description", "description", "summary") or ""
    tags = _strings(_first_meta(meta, "tags", "hashtags", "keywords"))
    links = {name: str(p["url"]) for name, p in item.published.items() if p.get("url")}
    links = {k: v for k, v in links.items() if v.startswith(("http://", "https://"))}
    return Post(
        item_id=item.id,
        kind=item.kind,
        title=item.title,
        slug=slugify(str(meta.get("slug") or item.title), 80),
        markdown=_drop_title_heading(markdown, item.title),
        excerpt=str(excerpt).strip(),
        tags=[t.lstrip("#") for t in tags],
        categories=_strings(meta.get("categories")),
        image=image,
        thread=thread,
        files=files,
        links=links,
        when=when,
        created_at=item.created_at,
        topic=item.topic,
        meta=meta,
        generated_by=str(meta.get("generated_by") or ""),
        offline=item.provider == "offline",
    )
