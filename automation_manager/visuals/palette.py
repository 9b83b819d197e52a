"""Colours and fonts of offline visuals: from ``brand`` or derived from the topic."""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import VisualsError

if TYPE_CHECKING:
    from ..config.visuals import BrandConfig

FONTS = Path(__file__).parent / "fonts"
BOLD = FONTS / "DejaVuSans-Bold.ttf"
REGULAR = FONTS / "DejaVuSans.ttf"

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """Two background stops, an accent, and the text colour that reads on them."""

    top: RGB
    bottom: RGB
    accent: RGB
    text: RGB


@dataclass(frozen=True)
class Brand:
    """What offline renders look like (``brand`` in config.json, paths resolved).

    :param colors: ``#RRGGBB`` strings; empty derives a palette from the topic.
    :param font: a TrueType/OpenType file for titles (default: the shipped DejaVu Sans).
    :param logo: an image drawn in a corner.
    """

    colors: tuple[str, ...] = ()
    font: Path | None = None
    logo: Path | None = None
    author: str | None = None

    @classmethod
    def from_config(cls, config: BrandConfig | None, base: Path | None = None) -> Brand:
        """The brand of ``config``; relative paths are relative to ``base`` (the home)."""
        if config is None:
            return cls()

        def path(value: str | None) -> Path | None:
            if not value:
                return None
            p = Path(value).expanduser()
            return p if p.is_absolute() or base is None else base / p

        return cls(tuple(config.colors), path(config.font), path(config.logo), config.author)

    def palette(self, topic: str) -> Palette:
        """The brand's colours, or a deterministic one from ``topic`` (same topic, same look)."""
        if self.colors:
            stops = [_rgb(c) for c in self.colors]
            top = stops[0]
            bottom = stops[1] if len(stops) > 1 else _shade(top, 0.55)
            accent = stops[2] if len(stops) > 2 else _shade(top, 1.6)
        else:
            digest = hashlib.sha256(topic.strip().lower().encode("utf-8")).digest()
            hue = digest[0] / 255
            top = _hsv(hue, 0.65, 0.55)
            bottom = _hsv((hue + 0.08 + digest[1] / 255 * 0.1) % 1, 0.75, 0.25)
            accent = _hsv((hue + 0.5) % 1, 0.7, 0.95)
        light = _luma(top) + _luma(bottom) > 2 * 150
        return Palette(top, bottom, accent, (20, 20, 24) if light else (255, 255, 255))

    def title_font(self) -> Path:
        """The font file for titles; a configured one must exist and load."""
        if self.font is None:
            return BOLD
        if not self.font.is_file():
            raise VisualsError(
                "config.json: brand.font",
                f"{self.font} is not found",
                "give the path of a .ttf or .otf file, or remove brand.font to use DejaVu Sans",
            )
        from PIL import ImageFont

        try:
            ImageFont.truetype(str(self.font), 20)
        except OSError:
            raise VisualsError(
                "config.json: brand.font",
                f"{self.font} is not a font Pillow can read",
                "give a TrueType (.ttf) or OpenType (.otf) file",
            ) from None
        return self.font


def _rgb(color: str) -> RGB:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return (round(r * 255), round(g * 255), round(b * 255))


def _shade(color: RGB, factor: float) -> RGB:
    return (
        min(255, round(color[0] * factor)),
        min(255, round(color[1] * factor)),
        min(255, round(color[2] * factor)),
    )


def _luma(color: RGB) -> float:
    return 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
