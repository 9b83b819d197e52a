"""Stage 6's one drawing call: :func:`render_image`.

One narrow function over the visuals renderer, so the pipeline does not depend on how
images are drawn. Pillow is imported inside it.
"""

from __future__ import annotations

from pathlib import Path


def parse_size(size: str) -> tuple[int, int]:
    """``"1200x630"`` → ``(1200, 630)``."""
    width, _, height = size.lower().partition("x")
    return int(width), int(height)


def render_image(prompt: str, size: str, path: Path) -> tuple[int, int]:
    """Draw an image for ``prompt`` at ``size`` (``WIDTHxHEIGHT``) into ``path`` (PNG),
    atomically; returns (width, height).

    Offline, with the visuals renderer (:mod:`automation_manager.visuals.render`): the
    prompt set as a fitted title on a gradient derived from it (same prompt, same
    picture), with the offline-draft mark.
    """
    from ..visuals.palette import Brand
    from ..visuals.render import render_featured

    width, height = parse_size(size)
    render_featured(prompt, "", (width, height), path, Brand(), True, topic=prompt)
    return width, height
