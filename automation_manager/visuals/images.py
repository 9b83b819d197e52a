"""Images from an OpenAI-compatible images endpoint (``client.images.generate``).

Every image made is kept in ``.mp/visuals/cache/`` under a key of its model, size and
prompt, so a retried or resumed run never pays for the same image twice; ``amgr content
regenerate`` passes ``fresh=True`` to draw it again on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..fsutil import atomic_write_bytes, ensure_dir
from .errors import VisualsError

if TYPE_CHECKING:
    from ..config.models import Config
    from ..home import Home


@dataclass
class Drawn:
    """One image from the model: PNG bytes at the wanted size, and what it cost."""

    png: bytes
    cost_usd: float
    cached: bool


def cache_dir(home: Home) -> Path:
    return home.mp / "visuals" / "cache"


def cache_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def fit_to(data: bytes, size: tuple[int, int]) -> bytes:
    """The model's image cropped and scaled to fill ``size`` exactly, as PNG."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as raw:
            img = ImageOps.fit(raw.convert("RGB"), size, Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError):
        raise VisualsError(
            "config.json: images.model",
            "the images endpoint answered something that is not an image",
            "check images.base_url and images.model",
        ) from None
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=3)
    return out.getvalue()


def draw(
    config: Config, home: Home, prompt: str, size: tuple[int, int], *, fresh: bool = False
) -> Drawn:
    """An image for ``prompt`` at ``size``: from the cache, else from the model."""
    images = config.images
    key = cache_key("image", images.base_url or "", images.model, images.size, prompt)
    folder = cache_dir(home)
    cached = folder / f"{key}.png"
    if cached.is_file() and not fresh:
        return Drawn(fit_to(cached.read_bytes(), size), 0.0, True)
    from .client import endpoint_for, openai_client, with_retries

    client = openai_client(config, images.base_url, images.api_key_env, images.timeout_s)
    where = endpoint_for(config, images.base_url, images.api_key_env)

    def send() -> bytes:
        if images.quality:
            reply = client.images.generate(
                model=images.model,
                prompt=prompt[:4000],
                size=images.size,
                n=1,
                quality=images.quality,
            )
        else:
            reply = client.images.generate(
                model=images.model, prompt=prompt[:4000], size=images.size, n=1
            )
        item = reply.data[0] if reply.data else None
        if item is None or not item.b64_json:
            if item is not None and item.url:
                import httpx

                return httpx.get(item.url, timeout=images.timeout_s).content
            raise VisualsError(
                "config.json: images.model",
                f"{images.model} answered no image",
                "check the model name and that it is an image model",
            )
        return base64.b64decode(item.b64_json)

    data = with_retries(
        send, section="images", model=images.model, where=where, retries=images.max_retries
    )
    png = fit_to(data, size)
    ensure_dir(folder)
    atomic_write_bytes(cached, data)
    return Drawn(png, images.price(), False)
