"""The visuals of one content item, added to its rendered files before it is stored.

:func:`attach` is the one call the content executor makes. Per kind: a blog post gets a
``featured_image`` (and ``inline_image``s after its first headings with
``images.images_per_article``), an ebook a ``cover`` (see :func:`cover_png`, embedded in
its EPUB), a social post a ``card`` in its platform's shape, a short two ``thumbnail``s
and a ``video``. A :class:`~.errors.VisualsError` keeps the text and marks the item
``needs_visuals`` with the message instead of failing the run.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import VisualsError
from .palette import Brand
from .shapes import COVER, FEATURED, INLINE, card_size

if TYPE_CHECKING:
    from ..config.models import Config
    from ..content.brief import Brief
    from ..content.render import Rendered
    from ..executors.base import RunContext
    from ..home import Home

_HEADING = re.compile(r"^## (.+)$", re.M)
MODE_ENV = "AMGR_VISUALS"
"""``all`` (default), ``images`` (no shorts video: slow machines, CI) or ``none``."""


def mode() -> str:
    """What visuals to make: ``AMGR_VISUALS`` (``all``, ``images`` or ``none``)."""
    value = os.environ.get(MODE_ENV, "all").strip().lower()
    return value if value in ("all", "images", "none") else "all"


@dataclass
class Studio:
    """What every visual of one run needs: config, home, brand, and what was spent."""

    config: Config
    home: Home
    offline: bool
    """The offline provider wrote the text: offline renders carry the draft mark."""
    brand: Brand
    fresh: bool = False
    images: int = 0
    calls: int = 0
    """Paid model calls (images and speech clips)."""
    cost_usd: float = 0.0
    voice: str | None = None
    notes: list[str] = field(default_factory=list)
    only: str | None = None
    """Make just this role (``amgr content regenerate --only``); None: every one."""

    def wants(self, role: str) -> bool:
        return self.only is None or self.only == role

    @classmethod
    def of(cls, ctx: RunContext, *, fresh: bool = False) -> Studio:
        offline = bool(getattr(ctx.llm, "offline", True))
        brand = Brand.from_config(ctx.config.brand, Path(ctx.home.root))
        return cls(ctx.config, ctx.home, offline, brand, fresh)

    def alt(self, prompt: str, text: str) -> str:
        """Alt text: the prompt of a model's image, else the words drawn on the render."""
        return prompt if self.uses_model else text

    @property
    def uses_model(self) -> bool:
        return self.config.images.provider == "openai"

    def image(self, prompt: str, size: tuple[int, int], offline_render: Any) -> bytes:
        """PNG bytes: from the images model when configured, else ``offline_render(path)``."""
        if self.uses_model:
            from .images import draw

            drawn = draw(self.config, self.home, prompt, size, fresh=self.fresh)
            if not drawn.cached:
                self.images += 1
                self.calls += 1
                self.cost_usd = round(self.cost_usd + drawn.cost_usd, 6)
            return drawn.png
        with tempfile.TemporaryDirectory(prefix="amgr-img-") as tmp:
            path = Path(tmp) / "image.png"
            offline_render(path)
            return path.read_bytes()


def describe(
    role: str,
    name: str,
    size: tuple[int, int],
    duration: float | None = None,
    alt: str | None = None,
) -> dict[str, Any]:
    """What ``content show`` lists of one visual (and the alt text platforms attach)."""
    media = {"png": "image/png", "mp4": "video/mp4", "srt": "application/x-subrip"}
    entry: dict[str, Any] = {
        "role": role,
        "name": name,
        "media_type": media.get(name.rsplit(".", 1)[-1], "application/octet-stream"),
        "width": size[0],
        "height": size[1],
    }
    if duration is not None:
        entry["duration_s"] = duration
    if alt:
        entry["alt"] = alt
    return entry


def add_asset(
    rendered: Rendered,
    key: str,
    role: str,
    name: str,
    data: bytes,
    size: tuple[int, int],
    duration: float | None = None,
    *,
    alt: str | None = None,
) -> None:
    """Add one visual to the item's files and note its role, size and alt text."""
    rendered.files[key] = (name, data)
    rendered.meta.setdefault("visuals", {})[key] = describe(role, name, size, duration, alt)


def text_of(rendered: Rendered, role: str) -> str:
    """A text file of the item being rendered."""
    data = rendered.files[role][1]
    return data.decode("utf-8") if isinstance(data, bytes) else data


def per_article(brief: Brief, config: Config) -> int:
    """Inline images wanted: the task's ``images_per_article`` (0–6), else the config's."""
    from ..content.brief import int_param

    if "images_per_article" in brief.params:
        return int_param(brief.params, "images_per_article", 0, 0, 6)
    return config.images.images_per_article


def blog(studio: Studio, brief: Brief, rendered: Rendered) -> None:
    """featured.png, and inline-N.png after the first N ``##`` headings of post.md."""
    title = rendered.title
    subtitle = str(rendered.meta.get("description") or brief.topic)
    prompt = f"Editorial header illustration for an article titled '{title}' about {brief.topic}"
    if studio.wants("featured_image"):
        _featured(studio, brief, rendered, title, subtitle, prompt)
    wanted = per_article(brief, studio.config)
    if not wanted or "markdown" not in rendered.files or not studio.wants("inline_image"):
        return
    _inline(studio, brief, rendered, wanted)


def _featured(
    studio: Studio, brief: Brief, rendered: Rendered, title: str, subtitle: str, prompt: str
) -> None:
    from .render import render_featured

    png = studio.image(
        prompt,
        FEATURED,
        lambda p: render_featured(
            title, subtitle, FEATURED, p, studio.brand, studio.offline, topic=brief.topic
        ),
    )
    alt = studio.alt(prompt, f"{title} — {subtitle}")
    add_asset(rendered, "featured_image", "featured_image", "featured.png", png, FEATURED, alt=alt)


def with_inline_link(text: str, n: int, file: str, alt: str) -> str:
    """``text`` (Markdown) with ``![alt](file)`` after its ``n``-th ``##`` heading (once;
    unchanged when there is no such heading or the link is there)."""
    if f"]({file})" in text:
        return text
    headings = list(_HEADING.finditer(text))
    if n < 1 or n > len(headings):
        return text
    end = headings[n - 1].end()
    alt = alt.replace("]", "").replace("[", "")
    return text[:end] + f"\n\n![{alt}]({file})" + text[end:]


def _inline(studio: Studio, brief: Brief, rendered: Rendered, wanted: int) -> None:
    from .render import render_inline

    name, _ = rendered.files["markdown"]
    text = text_of(rendered, "markdown")
    headings = [m for m in _HEADING.finditer(text)][:wanted]
    for n, match in reversed(list(enumerate(headings, 1))):
        heading = match.group(1).strip()
        file = f"inline-{n}.png"
        png = studio.image(
            f"Illustration for the section '{heading}' of an article about {brief.topic}",
            INLINE,
            lambda p, h=heading: render_inline(
                h, brief.topic, p, studio.brand, studio.offline, topic=brief.topic
            ),
        )
        add_asset(rendered, f"inline_image_{n}", "inline_image", file, png, INLINE, alt=heading)
        text = with_inline_link(text, n, file, heading)
    rendered.files["markdown"] = (name, text)


def cover_png(studio: Studio, brief: Brief, title: str, subtitle: str, author: str) -> bytes:
    """The ebook's cover (1600×2560): drawn by the model, or rendered offline."""
    from .render import render_cover

    return studio.image(
        f"Book cover art, no text, for a book titled '{title}' about {brief.topic}",
        COVER,
        lambda p: render_cover(
            title, subtitle, author, p, studio.brand, studio.offline, topic=brief.topic
        ),
    )


def social(studio: Studio, brief: Brief, rendered: Rendered) -> None:
    """card.png in the platform's shape, with the post's first part."""
    from .render import render_card

    platform = str(rendered.meta.get("platform") or brief.platform or "")
    size = card_size(platform)
    data = json.loads(text_of(rendered, "json")) if "json" in rendered.files else {}
    first = (data.get("parts") or [rendered.title])[0]
    words = first.split()
    from ..content.render import clip

    text = clip(" ".join(w for w in words if not w.startswith(("#", "http"))), 140)
    text = text or rendered.title
    png = studio.image(
        f"Social media image for a post about {brief.topic}: {text[:200]}",
        size,
        lambda p: render_card(
            text,
            studio.brand.author or "",
            size,
            p,
            studio.brand,
            studio.offline,
            topic=brief.topic,
        ),
    )
    prompt = f"Social media image for a post about {brief.topic}: {text[:200]}"
    add_asset(rendered, "card", "card", "card.png", png, size, alt=studio.alt(prompt, text))


def ebook_cover(
    ctx: RunContext, brief: Brief, title: str, subtitle: str, author: str
) -> tuple[bytes | None, str | None]:
    """The cover to embed in the EPUB, or None and why (the item is kept either way)."""
    if mode() == "none":
        return None, None
    studio = Studio.of(ctx)
    try:
        png = cover_png(studio, brief, title, subtitle, author)
    except VisualsError as exc:
        return None, str(exc)
    _spent(ctx, studio)
    return png, None


def _ebook_done(rendered: Rendered) -> dict[str, Any]:
    if "cover" in rendered.files:
        rendered.meta.setdefault("visuals", {})["cover"] = describe(
            "cover", rendered.files["cover"][0], COVER
        )
    problem = rendered.meta.get("needs_visuals")
    if problem:
        rendered.summary = f"{rendered.summary} (needs visuals: {problem})"
        return {"needs_visuals": problem}
    return {}


def add_media_usage(ctx: RunContext, cost_usd: float, calls: int, images: int) -> None:
    """Add what images and speech bought from a model cost to the run's usage, and tell
    the engine (its reservation follows the spend)."""
    usage = ctx.usage
    usage.cost_usd = round(usage.cost_usd + cost_usd, 8)
    usage.calls += calls
    usage.extra["images"] = int(usage.extra.get("images") or 0) + images  # rides along
    if ctx.on_usage is not None:
        ctx.on_usage(usage.copy())


def _spent(ctx: RunContext, studio: Studio) -> None:
    """Add what the images and speech models cost to the run's usage (and tell the engine)."""
    if studio.calls:
        add_media_usage(ctx, studio.cost_usd, studio.calls, studio.images)


def attach(ctx: RunContext, kind: str, brief: Brief | None, rendered: Rendered) -> dict[str, Any]:
    """Add the visuals of ``kind`` to ``rendered``; return the run result's extra fields.

    Images and voice bought from a model count in the run's usage (``images``,
    ``cost_usd``).
    """
    if brief is None or kind not in ("blog", "social", "shorts", "ebook") or mode() == "none":
        return {}
    if kind == "ebook":
        return _ebook_done(rendered)
    studio = Studio.of(ctx)
    extra = make(studio, ctx, kind, brief, rendered)
    _spent(ctx, studio)
    return extra


def make(
    studio: Studio, ctx: RunContext | None, kind: str, brief: Brief, rendered: Rendered
) -> dict[str, Any]:
    """The visuals of one item; a fixable problem becomes ``needs_visuals``."""
    extra: dict[str, Any] = {}
    try:
        if kind == "blog":
            blog(studio, brief, rendered)
        elif kind == "social":
            social(studio, brief, rendered)
        elif kind == "shorts":
            from .shorts import shorts

            shorts(studio, ctx, brief, rendered)
    except VisualsError as exc:
        rendered.meta["needs_visuals"] = str(exc)
        rendered.summary = f"{rendered.summary} (needs visuals: {exc})"
        extra["needs_visuals"] = str(exc)
    if studio.images:
        extra["images"] = studio.images
    if studio.voice:
        extra["voice"] = studio.voice
    if studio.notes:
        extra["visuals_note"] = "; ".join(studio.notes)
    return extra
