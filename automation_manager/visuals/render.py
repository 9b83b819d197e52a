"""The offline renderers: one function per kind of image, each writing a PNG atomically.

Every function takes the words to set, the size, where to write, the brand and whether
the offline provider made the item (then the ``amgr offline draft`` mark is drawn), and
returns the path written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..fsutil import atomic_write_bytes
from .layout import background, draft_mark, draw_block, fit, paste_logo, png_bytes
from .palette import REGULAR, Brand
from .shapes import COVER, FEATURED, INLINE, THUMBNAIL

if TYPE_CHECKING:
    from PIL import Image


def poster(
    size: tuple[int, int],
    title: str,
    subtitle: str,
    brand: Brand,
    *,
    topic: str = "",
    offline: bool = True,
    kicker: str = "",
    footer: str = "",
    center: bool = False,
    title_share: float = 0.5,
) -> Image.Image:
    """A titled image: gradient, kicker, fitted title, subtitle, footer, logo, draft mark.

    :param title_share: the part of the height the title may take.
    """
    from PIL import ImageDraw

    w, h = size
    palette = brand.palette(topic or title)
    img = background(size, palette)
    draw = ImageDraw.Draw(img)
    margin = round(min(w, h) * 0.08)
    inner = w - 2 * margin
    title_font = brand.title_font()
    unit = min(w, h)
    blocks = []
    if kicker:
        blocks.append(
            (fit(draw, kicker.upper(), REGULAR, (inner, unit // 10), max_size=unit // 26), True)
        )
    blocks.append(
        (
            fit(
                draw,
                title,
                title_font,
                (inner, round(h * title_share)),
                max_size=unit // 7,
                min_size=max(16, unit // 40),
            ),
            False,
        )
    )
    if subtitle:
        blocks.append(
            (
                fit(
                    draw,
                    subtitle,
                    REGULAR,
                    (inner, round(h * 0.18)),
                    max_size=unit // 18,
                    max_lines=3,
                ),
                False,
            )
        )
    gap = unit // 30
    total = sum(b.height for b, _ in blocks) + gap * (len(blocks) - 1)
    y = max(margin, (h - total) // 2) if center else max(margin, round(h * 0.42 - total / 2))
    for block, accent in blocks:
        fill = palette.accent if accent else palette.text
        y = draw_block(
            draw, block, (margin, y), fill, align="center" if center else "left", width=inner
        )
        y += gap
    if footer:
        foot = fit(draw, footer, REGULAR, (inner, unit // 12), max_size=unit // 24, max_lines=1)
        draw_block(
            draw,
            foot,
            (margin, h - margin - foot.height - unit // 20),
            palette.text,
            align="center" if center else "left",
            width=inner,
            shadow=False,
        )
    paste_logo(img, brand)
    if offline:
        draft_mark(img, palette)
    return img


def _write(img: Image.Image, path: Path) -> Path:
    atomic_write_bytes(path, png_bytes(img))
    return path


def render_featured(
    title: str,
    subtitle: str,
    size: tuple[int, int] = FEATURED,
    path: Path | None = None,
    brand: Brand | None = None,
    offline: bool = True,
    *,
    topic: str = "",
) -> Path:
    """An article's featured image (1200×630 by default): title and subtitle on the left."""
    assert path is not None, "path is required"
    img = poster(size, title, subtitle, brand or Brand(), topic=topic, offline=offline)
    return _write(img, path)


def render_inline(
    heading: str,
    caption: str,
    path: Path,
    brand: Brand | None = None,
    offline: bool = True,
    *,
    topic: str = "",
    size: tuple[int, int] = INLINE,
) -> Path:
    """An illustration for one section of an article: its heading, a caption below."""
    img = poster(
        size, heading, caption, brand or Brand(), topic=topic, offline=offline, title_share=0.4
    )
    return _write(img, path)


def render_cover(
    title: str,
    subtitle: str,
    author: str,
    path: Path,
    brand: Brand | None = None,
    offline: bool = True,
    *,
    topic: str = "",
    size: tuple[int, int] = COVER,
) -> Path:
    """An ebook cover (1600×2560): title, subtitle and author, centred."""
    img = poster(
        size,
        title,
        subtitle,
        brand or Brand(),
        topic=topic,
        offline=offline,
        footer=author,
        center=True,
        title_share=0.4,
    )
    return _write(img, path)


def render_card(
    text: str,
    handle: str,
    size: tuple[int, int],
    path: Path,
    brand: Brand | None = None,
    offline: bool = True,
    *,
    topic: str = "",
) -> Path:
    """A social card: the post's first line large, the topic as kicker, centred."""
    img = poster(
        size,
        text,
        "",
        brand or Brand(),
        topic=topic,
        offline=offline,
        kicker=topic,
        footer=handle,
        center=True,
        title_share=0.55,
    )
    return _write(img, path)


def render_thumbnail(
    title: str,
    path: Path,
    brand: Brand | None = None,
    offline: bool = True,
    *,
    topic: str = "",
    size: tuple[int, int] = THUMBNAIL,
) -> Path:
    """A video thumbnail (1280×720 or 1080×1920): the title as large as it fits."""
    img = poster(
        size,
        title,
        "",
        brand or Brand(),
        topic=topic,
        offline=offline,
        center=True,
        title_share=0.6,
    )
    return _write(img, path)
