"""Which visuals each kind of item has (what ``content regenerate --only`` may name)."""

from __future__ import annotations

BY_KIND: dict[str, tuple[str, ...]] = {
    "blog": ("featured_image", "inline_image"),
    "ebook": ("cover",),
    "social": ("card",),
    "shorts": ("thumbnail", "video"),
}
ONLY = ("featured_image", "inline_image", "cover", "card", "thumbnail", "video")
