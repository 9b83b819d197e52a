"""content_creation: shorts, blog, ebook and social, each one content item per run.

Every type asks ``ctx.llm`` for its output model with the kind's prompt and passes the
offline templates as the fallback, checks a model's answer against the request
(:mod:`..content.checks`), renders files, and stores one item: ``pending`` when
``auto_approve`` is on (for offline content only with ``auto_approve_offline`` too), else
``review``. Each run takes the next topic and angle of the task's series
(:mod:`..content.rotation`) and is made again from the next angle while it is a
near-duplicate of one of the task's earlier items (:mod:`..content.similar`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..content import ContentItem, checks
from ..content.brief import OFFLINE_LABEL, Brief, require_topic, str_param
from ..content.checks import generate_checked, text_checked
from ..content.ebook_work import EbookWork, work_key
from ..content.kinds import blog, ebook, shorts, social
from ..content.kinds.ebook import book_info
from ..content.render import Rendered, result_of, save, status_for
from ..content.rotation import Position, Rotation, choose, topics_of
from ..content.similar import (
    THRESHOLD,
    Match,
    Print,
    comparable,
    earlier_items,
    near_duplicate,
)
from ..enums import ContentStatus
from ..errors import SkipRun, TaskError
from ..text import plural
from .base import Outcome, RunContext, Runner, dispatch

MAX_TRIES = 3
"""Attempts (each from the next angle) before a run that keeps repeating is ``skipped``."""


def generated_by(ctx: RunContext, kind: str) -> str:
    """Who wrote the content: the offline templates, or the provider and model."""
    if ctx.llm.offline:
        return OFFLINE_LABEL
    return f"{ctx.llm.provider} model {ctx.config.llm.model_for(kind)}"


def store_item(
    ctx: RunContext,
    kind: str,
    brief: Brief | None,
    rendered: Rendered,
    *,
    status: ContentStatus | None = None,
    **extra: Any,
) -> Outcome:
    """Save ``rendered`` as one item of ``kind`` and describe it as the run's result.

    :param status: defaults to ``review``, or ``pending`` with ``auto_approve`` (offline
        content also needs ``auto_approve_offline``).
    """
    from ..visuals.make import attach

    extra = {**extra, **attach(ctx, kind, brief, rendered)}  # images, cover, card, video
    platform = brief.platform if brief else None
    item, files = save(
        ctx.store,
        kind,
        rendered,
        now=ctx.now(),
        status=status or status_for(ctx.config, offline=ctx.llm.offline),
        topic=brief.topic if brief else None,
        task_id=ctx.spec.id,
        record_id=ctx.record_id,
        provider=ctx.llm.provider,
        targets=[platform] if platform else [],
    )
    provider = ctx.llm.provider
    return Outcome(result_of(item, files, rendered.summary, provider, **extra), provider)


@dataclass
class Series:
    """This run's place in the task's series: topics, where it stands, what came before."""

    rotation: Rotation
    topics: list[str]
    start: Position
    earlier: list[ContentItem]
    angle: str | None

    @classmethod
    def of(cls, ctx: RunContext, kind: str) -> Series:
        topics = topics_of(ctx.params, ctx.home)
        if not topics:
            require_topic(ctx.params, kind)  # raises, naming the field and the fix
        rotation = Rotation(ctx.home, ctx.spec.id)
        return cls(
            rotation=rotation,
            topics=topics,
            start=rotation.position(),
            earlier=earlier_items(ctx.store, ctx.spec.id, kind),
            angle=str_param(ctx.params, "angle"),
        )

    def brief(self, ctx: RunContext, kind: str, attempt: int) -> Brief:
        choice = choose(self.topics, self.start, attempt, self.angle)
        base = Brief.from_params({**ctx.params, "topic": choice.topic}, kind)
        avoid = tuple(dict.fromkeys(i.title for i in self.earlier[:10]))
        return replace(base, angle=choice.angle.key, avoid=avoid, attempt=attempt)

    def repeat(self, rendered: Rendered, brief: Brief, ctx: RunContext) -> Match | None:
        text = rendered.files["markdown"][1]
        offline = ctx.llm.offline
        earlier = [i for i in self.earlier if comparable(brief.topic, offline, i)]
        return near_duplicate(
            Print.of(rendered.title, text if isinstance(text, str) else ""), ctx.store, earlier
        )

    def skipped(self, ctx: RunContext, match: Match, tries: int) -> SkipRun:
        self.rotation.advance(self.start, tries, ctx.now(), None)
        return SkipRun(
            f"would repeat {match.describe()}: {tries} attempt(s) from different angles all "
            f"came out near-duplicates (similarity >= {THRESHOLD}); add topics to the task "
            '("topics" or "topic_file") or reject the earlier item'
        )


def make_in_series(
    ctx: RunContext,
    kind: str,
    build: Callable[[Brief], Rendered],
    *,
    store_kind: str | None = None,
    extra: Callable[[Rendered], dict[str, Any]] | None = None,
) -> Outcome:
    """Make one item of the task's series: the next topic and angle, again from the next
    angle while it repeats an earlier item, ``skipped`` after :data:`MAX_TRIES`."""
    stored = store_kind or kind
    series = Series.of(ctx, stored)
    match: Match | None = None
    for attempt in range(MAX_TRIES):
        brief = series.brief(ctx, kind, attempt)
        rendered = build(brief)
        match = series.repeat(rendered, brief, ctx)
        if match is None:
            fields = extra(rendered) if extra else {}
            outcome = store_item(ctx, stored, brief, rendered, **fields)
            series.rotation.advance(
                series.start, attempt + 1, ctx.now(), outcome.run_result.content_id
            )
            if attempt:
                outcome.run_result.add(retried_near_duplicates=attempt)
            return outcome
    assert match is not None
    raise series.skipped(ctx, match, MAX_TRIES)


def _shorts(ctx: RunContext) -> Outcome:
    now = ctx.now()

    def build(brief: Brief) -> Rendered:
        script = generate_checked(
            ctx.llm,
            "shorts",
            shorts.messages(brief, ctx.config),
            shorts.ShortsScript,
            offline=lambda: shorts.offline(brief, ctx.config, now),
            check=lambda out: checks.shorts_script(out, brief),
        )
        return shorts.render(script, brief, generated_by(ctx, "shorts"), now)

    return make_in_series(ctx, "shorts", build)


def _blog(ctx: RunContext) -> Outcome:
    now = ctx.now()

    def build(brief: Brief) -> Rendered:
        post = generate_checked(
            ctx.llm,
            "blog",
            blog.messages(brief, ctx.config),
            blog.BlogPost,
            offline=lambda: blog.offline(brief, ctx.config, now),
            check=lambda out: checks.blog_post(out, brief),
        )
        return blog.render(post, brief, generated_by(ctx, "blog"), now)

    return make_in_series(ctx, "blog", build)


def _social(ctx: RunContext) -> Outcome:
    now = ctx.now()

    def build(brief: Brief) -> Rendered:
        limit = social.platform_of(brief, ctx.config)[1]
        post = generate_checked(
            ctx.llm,
            "social",
            social.messages(brief, ctx.config),
            social.SocialPost,
            offline=lambda: social.offline(brief, ctx.config, now),
            check=lambda out: checks.social_post(out, brief, limit),
        )
        return social.render(post, brief, ctx.config, generated_by(ctx, "social"), now)

    return make_in_series(ctx, "social", build, extra=lambda r: {"parts": r.meta["parts"]})


def _ebook_shape(ctx: RunContext, brief: Brief) -> dict[str, Any]:
    """Everything that shapes the text: same shape → same work folder → resume."""
    llm = ctx.llm
    return {
        "audience": brief.audience,
        "tone": brief.tone,
        "method": brief.method,
        "language": brief.language,
        "keywords": list(brief.keywords),
        "chapters": ebook.chapters_of(brief),
        "chapter_words": ebook.words_of(brief),
        "angle": brief.angle,
        "provider": llm.provider,
        "model": None if llm.offline else ctx.config.llm.model_for("ebook"),
    }


def _ebook(ctx: RunContext) -> Outcome:
    """Outline, then one call per chapter, each saved as it arrives; then the book.

    A multi-stage run (outline → chapters → assemble): a pause or cancel from
    ``amgr runs`` takes effect after the current chapter, and the saved chapters make
    the next run continue where this one stopped.
    """
    series = Series.of(ctx, "ebook")
    now = ctx.now()
    attempt = _offline_attempt(ctx, series, now) if ctx.llm.offline else 0
    brief = series.brief(ctx, "ebook", attempt)
    shape = _ebook_shape(ctx, brief)
    work = EbookWork(ctx.home, work_key(brief.topic, shape))
    with work.claimed(), ctx.multi_stage() as run:
        work.start(shape, now)
        run.stage("outline", 1)
        outline = work.load_outline(ebook.EbookOutline)
        if outline is None:
            outline = generate_checked(
                ctx.llm,
                "ebook",
                ebook.outline_messages(brief, ctx.config),
                ebook.EbookOutline,
                offline=lambda: ebook.offline_outline(brief, ctx.config, now),
                check=lambda out: checks.outline(out, brief),
            )
            outline.chapters = outline.chapters[: ebook.chapters_of(brief)]
            work.save_outline(outline)
        run.advance("outline", 1)
        total = len(outline.chapters)
        run.stage("chapters", total)
        streams = ctx.progress is not None and not ctx.llm.offline
        meter = WordMeter(ctx, total, ebook.words_of(brief)) if streams else None
        chapters: list[str] = []
        reused = 0
        for number in range(1, total + 1):
            text = work.load_chapter(number)
            if text is None:
                if ctx.cancel.is_set():
                    raise TaskError(
                        f"cancelled after chapter {number - 1}/{total}; the finished "
                        "chapters are kept and the next run continues from there"
                    )
                title = outline.chapters[number - 1].title
                raw = text_checked(
                    ctx.llm,
                    "ebook",
                    ebook.chapter_messages(brief, outline, number),
                    offline=_offline_chapter(brief, outline, number),
                    check=_chapter_check(brief, title, number),
                    max_tokens=int(ebook.words_of(brief) * 1.8) + 400,
                    on_delta=meter.chapter(number, title) if meter else None,
                )
                text = ebook.clean_chapter(raw, title)
                if not text.strip():
                    raise TaskError(f"the model returned an empty chapter {number}")
                work.save_chapter(number, text)
            else:
                reused += 1
            chapters.append(text)
            run.advance("chapters", number)
            if meter is None:  # a streamed book reports its words instead
                ctx.report(f"chapter {number}/{total}", number, total)
            run.checkpoint()
        run.stage("assemble", 1)
        imprint = book_info(ctx.config)
        by = generated_by(ctx, "ebook")
        rendered = ebook.render(outline, chapters, brief, by, now, imprint)
        match = series.repeat(rendered, brief, ctx)
        if match is not None:
            work.discard()
            raise series.skipped(ctx, match, attempt + 1)
        from ..visuals.make import ebook_cover

        cover, problem = ebook_cover(
            ctx, brief, outline.title, outline.subtitle, ebook.author_of(brief, imprint)
        )
        if cover:  # the same book, with its cover embedded
            rendered = ebook.render(outline, chapters, brief, by, now, imprint, cover=cover)
        if problem:
            rendered.meta["needs_visuals"] = problem
        outcome = store_item(ctx, "ebook", brief, rendered, chapters=total, chapters_reused=reused)
        series.rotation.advance(series.start, attempt + 1, ctx.now(), outcome.run_result.content_id)
        work.discard()
        run.advance("assemble", 1)
    made = outcome.run_result
    made.add(ebook_id=made.content_id)
    if reused:
        made.summary = f"{made.summary} (resumed: {plural(reused, 'chapter')} from an earlier run)"
    return outcome


def _offline_attempt(ctx: RunContext, series: Series, now: datetime) -> int:
    """The first attempt whose offline book is not a near-duplicate (templates cost
    nothing, so the angles are tried before the book is built); the last one else, which
    the check after assembly then skips."""
    for attempt in range(MAX_TRIES):
        brief = series.brief(ctx, "ebook", attempt)
        title, text = ebook.offline_book(brief, ctx.config, now)
        earlier = [i for i in series.earlier if comparable(brief.topic, True, i)]
        if near_duplicate(Print.of(title, text), ctx.store, earlier) is None:
            return attempt
    return MAX_TRIES - 1


class WordMeter:
    """Streams a model's chapters into the progress display: the chapter's title, words
    so far over the book's target, and an ETA from the words-per-second rate so far."""

    def __init__(self, ctx: RunContext, chapters: int, words: int) -> None:
        self.ctx, self.chapters, self.target = ctx, chapters, chapters * words
        self.words = 0
        self.started = time.monotonic()

    def chapter(self, number: int, title: str) -> Callable[[str], None]:
        def on_delta(piece: str) -> None:
            self.words += len(piece.split())
            rate = self.words / max(time.monotonic() - self.started, 1e-3)
            left = max(self.target - self.words, 0) / rate if rate else 0.0
            self.ctx.report(
                f"chapter {number}/{self.chapters}: {title} — ETA {left:.0f} s",
                min(self.words, self.target),
                self.target,
            )

        return on_delta


def _chapter_check(
    brief: Brief, title: str, number: int
) -> Callable[[str], checks.Mismatch | None]:
    return lambda raw: checks.chapter(ebook.clean_chapter(raw, title), brief, number)


def _offline_chapter(brief: Brief, outline: ebook.EbookOutline, number: int) -> Callable[[], str]:
    return lambda: ebook.offline_chapter(brief, outline, number)


def _pipeline(ctx: RunContext) -> Outcome:
    from ..pipeline.runner import run_pipeline  # the content pipeline owns its stages

    return run_pipeline(ctx)


RUNNERS: dict[str, Runner] = {
    "shorts": _shorts,
    "blog": _blog,
    "ebook": _ebook,
    "social": _social,
    "pipeline": _pipeline,
}


def run(ctx: RunContext) -> Outcome:
    """Make one content item of the task's type."""
    return dispatch(RUNNERS, ctx)
