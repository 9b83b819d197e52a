"""An item's preview: each of its files as the page shows it.

Markdown becomes HTML through the publishers' renderer (``publishers.post.render_html``,
the HTML a blog receives), with raw HTML in the text escaped first: a model's output is
shown, never run. Images, videos (HTML5 ``<video>``), the social card and the EPUB cover
are served from the item's folder by ``/content/ID/file/ROLE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

IMAGES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
VIDEOS = (".mp4", ".webm", ".ogv", ".mov")
TEXTS = (".txt", ".srt", ".vtt", ".json", ".csv", ".yaml", ".yml")
MAX_TEXT = 256 * 1024
_FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)
_COMMENT = re.compile(r"<!--.*?-->[ \t]*\n?", re.S)
"""Comments a destination reads but never shows (the offline label of a social draft):
the page says who wrote the item in its header instead."""


@dataclass(frozen=True)
class Preview:
    role: str
    name: str
    kind: str
    """``article``, ``image``, ``video``, ``text`` or ``file`` (a download link)."""
    html: Markup | None = None
    text: str | None = None


def article_html(markdown_text: str) -> Markup:
    """Markdown (front matter and HTML comments dropped) as HTML, with any other raw
    HTML shown as text."""
    from ..publishers.post import render_html

    body = _COMMENT.sub("", _FRONT.sub("", markdown_text, count=1))
    return Markup(render_html(body.replace("&", "&amp;").replace("<", "&lt;")))


def previews(doc: dict[str, Any]) -> list[Preview]:
    """The previews of an item view (``amgr content show --json``), images first."""
    out: list[Preview] = []
    for role, raw in doc["files"].items():
        path = Path(raw)
        suffix = path.suffix.lower()
        if suffix in IMAGES:
            out.append(Preview(role, path.name, "image"))
        elif suffix in VIDEOS:
            out.append(Preview(role, path.name, "video"))
        elif suffix == ".md":
            out.append(Preview(role, path.name, "article", html=article_html(_read(path))))
        elif suffix in TEXTS:
            out.append(Preview(role, path.name, "text", text=_read(path)))
        else:
            out.append(Preview(role, path.name, "file"))
    order = {"image": 0, "video": 1, "article": 2, "text": 3, "file": 4}
    return sorted(out, key=lambda p: order[p.kind])


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_TEXT + 1)
    except OSError as exc:
        return f"(cannot read {path.name}: {exc.strerror})"
    text = data[:MAX_TEXT].decode("utf-8", "replace")
    return text + ("\n… (cut)" if len(data) > MAX_TEXT else "")
