"""Stage 6's one drawing call: :func:`render_image`.

Kept to one narrow function on purpose: the visuals work (issue 14) replaces its body
with the real renderer (a provider's images API or the offline brand renderer), and the
pipeline does not change. Pillow is imported inside it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..fsutil import atomic_write_bytes


def parse_size(size: str) -> tuple[int, int]:
    """``"1200x630"`` → ``(1200, 630)``."""
    width, _, height = size.lower().partition("x")
    return int(width), int(height)


def render_image(prompt: str, size: str, path: Path) -> tuple[int, int]:
    """Draw an image for ``prompt`` at ``size`` (``WIDTHxHEIGHT``) into ``path`` (PNG),
    atomically; returns (width, height).

    Offline: a two-colour gradient chosen from the prompt's hash with the prompt's words
    set on it, so each prompt gives its own, stable picture.
    """
    import io

    from PIL import Image, ImageDraw, ImageFont

    width, height = parse_size(size)
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    top = (digest[0], digest[1], digest[2])
    bottom = (digest[3], digest[4], digest[5])
    image = Image.new("RGB", (width, height), top)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(1, height - 1)
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    font = ImageFont.load_default()
    words = prompt.split()
    lines: list[str] = []
    line = ""
    per_line = max(10, width // 9)
    for word in words:
        if len(line) + len(word) + 1 > per_line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
        if len(lines) >= 6:
            break
    if line and len(lines) < 6:
        lines.append(line)
    light = sum(top) + sum(bottom) > 3 * 255
    ink = (20, 20, 20) if light else (245, 245, 245)
    for number, text in enumerate(lines):
        draw.text((width // 20, height // 3 + number * 16), text, fill=ink, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return width, height
