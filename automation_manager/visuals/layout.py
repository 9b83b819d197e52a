"""Pillow drawing: gradient backgrounds, titles fitted to a box, the logo, the draft mark.

A title is set in the largest size at which its wrapped lines fit the box; a word too
long for a line is broken, and text that still cannot fit at the smallest size is cut
with an ellipsis, so nothing ever runs off the image.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import VisualsError
from .palette import REGULAR, RGB, Brand, Palette

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

OFFLINE_MARK = "amgr offline draft"


@lru_cache(maxsize=64)
def font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A loaded font (cached: loading a face costs a few milliseconds)."""
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


@lru_cache(maxsize=8192)
def _has_glyph(path: str, ch: str) -> bool:
    """Whether the font draws ``ch`` (and not its missing-glyph box)."""
    face = font(path, 24)
    missing = bytes(face.getmask("\U0010ffff"))
    return bytes(face.getmask(ch)) != missing


def check_glyphs(text: str, font_path: Path) -> None:
    """Refuse text the font cannot draw: a box instead of a letter is worse than no image."""
    lacking = sorted({ch for ch in text if not ch.isspace() and not _has_glyph(str(font_path), ch)})
    if lacking:
        shown = "".join(lacking[:12])
        raise VisualsError(
            "config.json: brand.font",
            f"{font_path.name} has no glyphs for {shown!r}",
            "set brand.font to a font that covers them (e.g. Noto Sans CJK for Chinese, "
            "Japanese or Korean)",
        )


def background(size: tuple[int, int], palette: Palette) -> Image.Image:
    """A vertical gradient from ``palette.top`` to ``palette.bottom``, with a soft accent band."""
    from PIL import Image, ImageDraw

    w, h = size
    mask = Image.linear_gradient("L").resize((w, h))
    img = Image.composite(
        Image.new("RGB", size, palette.bottom), Image.new("RGB", size, palette.top), mask
    )
    draw = ImageDraw.Draw(img)
    band = max(6, h // 90)
    draw.rectangle([0, h - band, w, h], fill=palette.accent)
    return img


def _width(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont) -> float:
    return draw.textlength(text, font=face)


def _break_word(
    draw: ImageDraw.ImageDraw, word: str, face: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    pieces, current = [], ""
    for ch in word:
        if current and _width(draw, current + ch, face) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    return [*pieces, current] if current else pieces


def wrap(
    draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels (long words broken)."""
    lines: list[str] = []
    for word in text.split():
        parts = _break_word(draw, word, face, width) if _width(draw, word, face) > width else [word]
        for part in parts:
            if lines and _width(draw, f"{lines[-1]} {part}", face) <= width:
                lines[-1] = f"{lines[-1]} {part}"
            else:
                lines.append(part)
    return lines


@dataclass
class Fitted:
    """A text block set to fit: its face, lines and line height."""

    face: ImageFont.FreeTypeFont
    lines: list[str]
    line_height: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


def fit(
    draw: ImageDraw.ImageDraw,
    text: str,
    font_path: Path,
    box: tuple[int, int],
    *,
    max_size: int,
    min_size: int = 18,
    max_lines: int = 6,
) -> Fitted:
    """The largest size at which ``text`` wraps into ``box`` (width, height) pixels."""
    width, height = box
    check_glyphs(text, font_path)
    size = max_size
    while True:
        face = font(str(font_path), size)
        line_height = round(size * 1.18)
        words = text.split()
        lines = wrap(draw, " ".join(words), face, width)
        whole = all(_width(draw, w, face) <= width for w in words)  # no word broken
        fits = whole and len(lines) * line_height <= height and len(lines) <= max_lines
        if fits or size <= min_size:
            break
        size = max(min_size, int(size * 0.9))
    keep = max(1, min(max_lines, height // line_height))
    if len(lines) > keep:
        lines = lines[:keep]
        last = lines[-1]
        while last and _width(draw, last + "…", face) > width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return Fitted(face, lines, line_height)


def draw_block(
    draw: ImageDraw.ImageDraw,
    block: Fitted,
    xy: tuple[int, int],
    fill: RGB,
    *,
    align: str = "left",
    width: int = 0,
    shadow: bool = True,
) -> int:
    """Draw ``block`` with its top-left (or top-centre) at ``xy``; return the y below it."""
    x, y = xy
    for text in block.lines:
        tx = x
        if align == "center":
            tx = x + round((width - _width(draw, text, block.face)) / 2)
        if shadow:
            draw.text((tx + 2, y + 3), text, font=block.face, fill=(0, 0, 0))
        draw.text((tx, y), text, font=block.face, fill=fill)
        y += block.line_height
    return y


def draft_mark(img: Image.Image, palette: Palette) -> None:
    """The ``amgr offline draft`` pill in the bottom-right corner."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    w, h = img.size
    size = max(14, min(w, h) // 40)
    face = font(str(REGULAR), size)
    text_w = round(draw.textlength(OFFLINE_MARK, font=face))
    pad = size // 2
    right, bottom = w - size, h - size * 2
    box = (right - text_w - 2 * pad, bottom - size - 2 * pad, right, bottom)
    draw.rounded_rectangle(box, radius=pad, fill=(0, 0, 0))
    draw.text((box[0] + pad, box[1] + pad), OFFLINE_MARK, font=face, fill=(255, 255, 255))


def paste_logo(img: Image.Image, brand: Brand) -> None:
    """``brand.logo`` in the top-right corner, about an eighth of the width."""
    if brand.logo is None:
        return
    from PIL import Image, UnidentifiedImageError

    if not brand.logo.is_file():
        raise VisualsError(
            "config.json: brand.logo",
            f"{brand.logo} is not found",
            "give the path of a PNG or JPEG logo, or remove brand.logo",
        )
    try:
        with Image.open(brand.logo) as raw:
            logo = raw.convert("RGBA")
    except (UnidentifiedImageError, OSError):
        raise VisualsError(
            "config.json: brand.logo",
            f"{brand.logo} is not an image",
            "give a PNG or JPEG file",
        ) from None
    w, h = img.size
    target = max(32, min(w, h) // 8)
    logo.thumbnail((target, target))
    margin = max(16, min(w, h) // 30)
    img.paste(logo, (w - logo.width - margin, margin), logo)


def png_bytes(img: Image.Image) -> bytes:
    """The image as PNG bytes (fast compression: these are drafts, re-encoded by platforms)."""
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=3)
    return out.getvalue()
