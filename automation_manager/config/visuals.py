"""The models of the ``brand``, ``images`` and ``tts`` sections of config.json.

They shape every visual amgr makes (:mod:`automation_manager.visuals`): the palette, font
and logo of the offline renders, the images model and its price per image, the speech
model of the shorts' voice-over. A path is checked when a render uses it, so a missing
logo marks the item ``needs_visuals`` instead of stopping the daemon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

import annotated_types as at

from . import limits as L
from .base import After, Model
from .limits import Name, Url, line

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
SIZE = re.compile(r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")

DEFAULT_IMAGE_PRICES: dict[str, float] = {
    # USD per image at medium quality and the default size, public list prices.
    "gpt-image-1": 0.042,
    "gpt-image-1-mini": 0.011,
    "dall-e-3": 0.040,
    "dall-e-2": 0.020,
}
DEFAULT_TTS_PRICE_PER_1K_CHARS = 0.015


def _hex(value: list[str]) -> list[str]:
    for color in value:
        if not HEX_COLOR.match(color):
            raise ValueError(f"{color!r} is not a colour: use #RRGGBB, e.g. #1e3a8a")
    return value


def _size(value: str) -> str:
    if value != "auto" and not SIZE.match(value):
        raise ValueError(f"{value!r} is not a size: use WIDTHxHEIGHT, e.g. 1536x1024, or auto")
    return value


@dataclass(kw_only=True)
class BrandConfig(Model):
    """``brand``: what offline images look like. Empty: a palette derived from the topic."""

    colors: Annotated[list[str], at.MaxLen(5), After(_hex)] = field(default_factory=list)
    font: Annotated[str, line(4096)] | None = None
    logo: Annotated[str, line(4096)] | None = None
    author: Annotated[str, line(200)] | None = None


@dataclass(kw_only=True)
class ImagesConfig(Model):
    """``images``: which model draws featured images, covers, cards and thumbnails."""

    provider: Literal["offline", "openai"] = "offline"
    model: Name = "gpt-image-1"
    size: Annotated[str, After(_size)] = "1536x1024"
    quality: Literal["auto", "low", "medium", "high", "standard", "hd"] | None = None
    base_url: Url | None = None
    api_key_env: str | None = None
    prices: dict[Name, Annotated[float, at.Ge(0), at.Le(L.MAX_PRICE_USD)]] = field(
        default_factory=dict
    )
    images_per_article: Annotated[int, at.Ge(0), at.Le(6)] = 0
    timeout_s: Annotated[float, at.Gt(0), at.Le(L.MAX_LLM_TIMEOUT_S)] = 120.0
    max_retries: Annotated[int, at.Ge(0), at.Le(20)] = 3

    def price(self) -> float:
        """USD per image for the configured model (0 when unknown and not configured)."""
        return self.prices.get(self.model, DEFAULT_IMAGE_PRICES.get(self.model, 0.0))


@dataclass(kw_only=True)
class TtsConfig(Model):
    """``tts``: the shorts' voice. ``auto``: espeak-ng when on PATH, else a silent video."""

    provider: Literal["auto", "openai", "espeak", "none"] = "auto"
    model: Name = "gpt-4o-mini-tts"
    voice: Name = "alloy"
    base_url: Url | None = None
    api_key_env: str | None = None
    price_per_1k_chars: Annotated[float, at.Ge(0), at.Le(L.MAX_PRICE_USD)] = (
        DEFAULT_TTS_PRICE_PER_1K_CHARS
    )
    timeout_s: Annotated[float, at.Gt(0), at.Le(L.MAX_LLM_TIMEOUT_S)] = 120.0
