"""A short's visuals: two thumbnails, then ``video.mp4`` with its voice and timed SRT.

Called by :func:`.make.make` for shorts items and by ``content regenerate``; the video
itself is made by :mod:`.video`, the voice by :mod:`.voice`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .make import Studio, add_asset, mode, text_of
from .shapes import THUMBNAIL, THUMBNAIL_VERTICAL, VIDEO

if TYPE_CHECKING:
    from ..content.brief import Brief
    from ..content.render import Rendered
    from ..executors.base import RunContext


class ProgressCtx:
    """The two things :func:`shorts` uses of a run context, for renders outside a run."""

    def __init__(self, progress: Any) -> None:
        import threading

        self.progress = progress
        self.cancel = threading.Event()

    def report(self, label: str, done: int, total: int) -> None:
        self.progress(label, done, total)


def shorts(
    studio: Studio, ctx: RunContext | ProgressCtx | None, brief: Brief, rendered: Rendered
) -> None:
    """thumbnail.png (1280×720), thumbnail-vertical.png (1080×1920), video.mp4, SRT."""
    from ..content.kinds import shorts as kind
    from .render import render_thumbnail
    from .video import Segment, render_short

    script = kind.ShortsScript.model_validate(json.loads(text_of(rendered, "json")))
    title = rendered.title
    rendered.meta["target_s"] = kind.seconds_of(brief)
    for key, name, size in (
        ("thumbnail", "thumbnail.png", THUMBNAIL),
        ("thumbnail_vertical", "thumbnail-vertical.png", THUMBNAIL_VERTICAL),
    ):
        if not studio.wants("thumbnail"):
            break
        png = studio.image(
            f"Eye-catching video thumbnail, no text, for a short video titled '{title}'",
            size,
            lambda p, s=size: render_thumbnail(
                title, p, studio.brand, studio.offline, topic=brief.topic, size=s
            ),
        )
        add_asset(rendered, key, "thumbnail", name, png, size, alt=title)
    if mode() != "all" or not studio.wants("video"):
        return
    on_screen = [script.title] + [b.on_screen_text for b in script.beats] + [script.call_to_action]
    segments = [
        Segment(label, spoken, shown, end - start)
        for (start, end, label, spoken, _), shown in zip(
            kind.timeline(script), on_screen, strict=True
        )
    ]

    def progress(share: float) -> None:
        if ctx is not None:
            ctx.report("rendering video", round(share * 100), 100)

    from .video import fitted, paced
    from .voice import cached_speech

    target = kind.seconds_of(brief)
    segments = fitted(segments, target)
    speech = paced(cached_speech(studio, segments, brief.language), segments, target)
    limits = None
    spec = getattr(ctx, "spec", None)  # a run's context (not a regenerate outside a run)
    declared = spec.task.resources if spec is not None else None
    if declared is not None:  # the encoder runs under the task's share
        from ..operations.resources import child_limits

        limits = child_limits(declared, home=studio.home.root)
    video = render_short(
        segments,
        config=studio.config,
        brand=studio.brand,
        topic=brief.topic,
        offline=studio.offline,
        language=brief.language,
        progress=progress,
        cancel=ctx.cancel if ctx is not None else None,
        speech=speech,
        limits=limits,
    )
    studio.voice = video.speech.provider
    studio.cost_usd = round(studio.cost_usd + video.speech.cost_usd, 6)
    studio.calls += video.speech.calls
    if video.speech.note:
        studio.notes.append(video.speech.note)
    alt = f"{title}: {script.description}"
    add_asset(rendered, "video", "video", "video.mp4", video.mp4, VIDEO, video.duration_s, alt=alt)
    rendered.files["srt"] = (rendered.files.get("srt", ("captions.srt", ""))[0], video.srt)
    rendered.meta["duration_s"] = video.duration_s
    rendered.meta["voice"] = video.speech.provider
    description = f"{script.description}\n\n{' '.join(rendered.meta.get('hashtags', []))}\n"
    rendered.files["description"] = ("description.txt", description)
