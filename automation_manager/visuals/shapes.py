"""The pixel sizes each platform and role expects."""

from __future__ import annotations

FEATURED = (1200, 630)
INLINE = (1200, 675)
COVER = (1600, 2560)
THUMBNAIL = (1280, 720)
THUMBNAIL_VERTICAL = (1080, 1920)
VIDEO = (1080, 1920)
CARD_SQUARE = (1080, 1080)
CARD_PORTRAIT = (1080, 1350)
CARD_WIDE = (1200, 675)

PORTRAIT_PLATFORMS = ("instagram", "threads", "pinterest", "tiktok")
SQUARE_PLATFORMS = ("facebook",)


def card_size(platform: str | None) -> tuple[int, int]:
    """A social card's size: 1080×1350 for Instagram-shaped platforms, 1080×1080 for
    square feeds, 1200×675 for X/Mastodon/LinkedIn-shaped ones (the default)."""
    name = (platform or "").lower()
    if any(p in name for p in PORTRAIT_PLATFORMS):
        return CARD_PORTRAIT
    if any(p in name for p in SQUARE_PLATFORMS):
        return CARD_SQUARE
    return CARD_WIDE
