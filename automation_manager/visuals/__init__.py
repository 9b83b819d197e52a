"""Visuals: featured images, inline images, covers, cards, thumbnails and shorts videos.

Offline, Pillow renders every image with a shipped font (DejaVu, under ``fonts/``) and a
palette from ``brand`` or derived from the topic; with ``images`` configured, an
OpenAI-compatible images endpoint draws them. Shorts become a 1080×1920 H.264/AAC
``video.mp4`` made by the ffmpeg that ``imageio-ffmpeg`` ships. Pillow, ffmpeg and
``openai`` are imported only inside the functions that use them.

The renderers are plain functions of their inputs, so anything (the content executor, the
pipeline's ``render_image``, the bench) can call them::

    from automation_manager.visuals import Brand, render_featured
    render_featured("Deep work", "A field guide", (1200, 630), path, Brand(), offline=True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import VisualsError
    from .palette import Brand
    from .render import (
        render_card,
        render_cover,
        render_featured,
        render_inline,
        render_thumbnail,
    )
    from .shapes import card_size

_HOMES = {
    "VisualsError": "errors",
    "Brand": "palette",
    "card_size": "shapes",
    "render_card": "render",
    "render_cover": "render",
    "render_featured": "render",
    "render_inline": "render",
    "render_thumbnail": "render",
}


def __getattr__(name: str) -> Any:
    """The public names, imported on first use (``amgr content ...`` stays fast)."""
    if name not in _HOMES:
        raise AttributeError(name)
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = [
    "Brand",
    "VisualsError",
    "card_size",
    "render_card",
    "render_cover",
    "render_featured",
    "render_inline",
    "render_thumbnail",
]
