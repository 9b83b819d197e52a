"""What a run's visuals are expected to cost, for the budget estimate (× 1.2 like tokens)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config.models import Config

IMAGES_PER_KIND = {"blog": 1, "social": 1, "ebook": 1, "shorts": 2}
SPOKEN_CHARS_PER_SECOND = 15
"""About 2.6 words a second of about 5.7 characters: the narration of one second."""


def expected_cost(config: Config, kind: str, params: Mapping[str, Any] | None = None) -> float:
    """USD the images and voice of one run of ``kind`` are expected to cost (0 offline)."""
    params = params or {}
    cost = 0.0
    if config.images.provider == "openai" and kind in IMAGES_PER_KIND:
        count = IMAGES_PER_KIND[kind]
        if kind == "blog":
            count += config.images.images_per_article
        cost += count * config.images.price()
    if kind == "shorts" and config.tts.provider == "openai":
        try:
            seconds = float(params.get("length", 45))
        except (TypeError, ValueError):
            seconds = 45.0
        chars = seconds * SPOKEN_CHARS_PER_SECOND
        cost += chars / 1000 * config.tts.price_per_1k_chars
    return round(cost, 6)
