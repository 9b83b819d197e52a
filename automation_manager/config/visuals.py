"""pydantic models of the ``brand``, ``images`` and ``tts`` sections of config.json.

They shape every visual amgr makes (:mod:`automation_manager.visuals`): the palette, font
and logo of the offline renders, the images model and its price per image, the speech
model of the shorts' voice-over. A path is checked when a render uses it, so a missing
logo marks the item ``needs_visuals`` instead of stopping the daemon.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import limits as L
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


class Strict(BaseModel):
    """Unknown keys refused, like every section (``models.Strict``, which imports this)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class BrandConfig(Strict):
    """``brand``: what offline images look like. Empty: a palette derived from the topic."""

    colors: Annotated[list[str], Field(max_length=5)] = Field(default_factory=list)
    font: Annotated[str, line(4096)] | None = None
    logo: Annotated[str, line(4096)] | None = None
    author: Annotated[str, line(200)] | None = None

    @field_validator("colors")
    @classmethod
    def _hex(cls, value: list[str]) -> list[str]:
        for color in value:
            if not HEX_COLOR.match(color):
                raise ValueError(f"{color!r} is not a colour: use #RRGGBB, e.g. #1e3a8a")
        return value


class ImagesConfig(Strict):
    """``images``: which model draws featured images, covers, cards and thumbnails."""

    provider: Literal["offline", "openai"] = "offline"
    model: Name = "gpt-image-1"
    size: str = "1536x1024"
    quality: Literal["auto", "low", "medium", "high", "standard", "hd"] | None = None
    base_url: Url | None = None
    api_key_env: str | None = None
    prices: dict[Name, Annotated[float, Field(ge=0, le=L.MAX_PRICE_USD)]] = Field(
        default_factory=dict
    )
    images_per_article: Annotated[int, Field(ge=0, le=6)] = 0
    timeout_s: Annotated[float, Field(gt=0, le=L.MAX_LLM_TIMEOUT_S)] = 120.0
    max_retries: Annotated[int, Field(ge=0, le=20)] = 3

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        if value != "auto" and not SIZE.match(value):
            raise ValueError(f"{value!r} is not a size: use WIDTHxHEIGHT, e.g. 1536x1024, or auto")
        return value

    def price(self) -> float:
        """USD per image for the configured model (0 when unknown and not configured)."""
        return self.prices.get(self.model, DEFAULT_IMAGE_PRICES.get(self.model, 0.0))


class TtsConfig(Strict):
    """``tts``: the shorts' voice. ``auto``: espeak-ng when on PATH, else a silent video."""

    provider: Literal["auto", "openai", "espeak", "none"] = "auto"
    model: Name = "gpt-4o-mini-tts"
    voice: Name = "alloy"
    base_url: Url | None = None
    api_key_env: str | None = None
    price_per_1k_chars: Annotated[float, Field(ge=0, le=L.MAX_PRICE_USD)] = (
        DEFAULT_TTS_PRICE_PER_1K_CHARS
    )
    timeout_s: Annotated[float, Field(gt=0, le=L.MAX_LLM_TIMEOUT_S)] = 120.0
