"""content_creation: shorts, blog, ebook and social, each one content item per run.

Every type asks ``ctx.llm`` for its output model with the kind's prompt and passes the
offline templates as the fallback, renders files, and stores one item: ``pending`` when
``auto_approve`` is on, else ``review``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..content.brief import OFFLINE_LABEL, Brief
from ..content.ebook_work import EbookWork, work_key
from ..content.kinds import blog, ebook, shorts, social
from ..content.render import Rendered, result_of, save, status_for
from ..enums import ContentStatus
from ..errors import TaskError
from ..text import plural
from .base import Outcome, RunContext, Runner, dispatch


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

    :param status: defaults to ``review``, or ``pending`` with ``auto_approve``.
    """
    platform = brief.platform if brief else None
    item, files = save(
        ctx.store,
        kind,
        rendered,
        now=ctx.now(),
        status=status or status_for(ctx.config),
        topic=brief.topic if brief else None,
        task_id=ctx.spec.id,
        record_id=ctx.record_id,
        provider=ctx.llm.provider,
        targets=[platform] if platform else [],
    )
    provider = ctx.llm.provider
    return Outcome(result_of(item, files, rendered.summary, provider, **extra), provider)


def _shorts(ctx: RunContext) -> Outcome:
    brief = Brief.from_params(ctx.params, "shorts")
    now = ctx.now()
    script = ctx.llm.generate(
        "shorts",
        shorts.messages(brief, ctx.config),
        shorts.ShortsScript,
        offline=lambda: shorts.offline(brief, ctx.config, now),
    )
    return store_item(
        ctx, "shorts", brief, shorts.render(script, brief, generated_by(ctx, "shorts"), now)
    )


def _blog(ctx: RunContext) -> Outcome:
    brief = Brief.from_params(ctx.params, "blog")
    now = ctx.now()
    post = ctx.llm.generate(
        "blog",
        blog.messages(brief, ctx.config),
        blog.BlogPost,
        offline=lambda: blog.offline(brief, ctx.config, now),
    )
    return store_item(ctx, "blog", brief, blog.render(post, brief, generated_by(ctx, "blog"), now))


def _social(ctx: RunContext) -> Outcome:
    brief = Brief.from_params(ctx.params, "social")
    now = ctx.now()
    post = ctx.llm.generate(
        "social",
        social.messages(brief, ctx.config),
        social.SocialPost,
        offline=lambda: social.offline(brief, ctx.config, now),
    )
    by = generated_by(ctx, "social")
    rendered = social.render(post, brief, ctx.config, by, now)
    return store_item(ctx, "social", brief, rendered, parts=rendered.meta["parts"])


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
        "provider": llm.provider,
        "model": None if llm.offline else ctx.config.llm.model_for("ebook"),
    }


def _ebook(ctx: RunContext) -> Outcome:
    """Outline, then one call per chapter, each saved as it arrives; then the book.

    A multi-stage run (outline → chapters → assemble): a pause or cancel from
    ``amgr runs`` takes effect after the current chapter, and the saved chapters make
    the next run continue where this one stopped.
    """
    brief = Brief.from_params(ctx.params, "ebook")
    now = ctx.now()
    shape = _ebook_shape(ctx, brief)
    work = EbookWork(ctx.home, work_key(brief.topic, shape))
    with work.claimed(), ctx.multi_stage() as run:
        work.start(shape, now)
        run.stage("outline", 1)
        outline = work.load_outline(ebook.EbookOutline)
        if outline is None:
            outline = ctx.llm.generate(
                "ebook",
                ebook.outline_messages(brief, ctx.config),
                ebook.EbookOutline,
                offline=lambda: ebook.offline_outline(brief, ctx.config, now),
            )
            outline.chapters = outline.chapters[: ebook.chapters_of(brief)]
            work.save_outline(outline)
        run.advance("outline", 1)
        total = len(outline.chapters)
        run.stage("chapters", total)
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
                raw = ctx.llm.text(
                    "ebook",
                    ebook.chapter_messages(brief, outline, number),
                    offline=_offline_chapter(brief, outline, number),
                    max_tokens=int(ebook.words_of(brief) * 1.8) + 400,
                )
                text = ebook.clean_chapter(raw, outline.chapters[number - 1].title)
                if not text.strip():
                    raise TaskError(f"the model returned an empty chapter {number}")
                work.save_chapter(number, text)
            else:
                reused += 1
            chapters.append(text)
            run.advance("chapters", number)
            ctx.report(f"chapter {number}/{total}", number, total)
            run.checkpoint()
        run.stage("assemble", 1)
        rendered = ebook.render(outline, chapters, brief, generated_by(ctx, "ebook"), now)
        outcome = store_item(ctx, "ebook", brief, rendered, chapters=total, chapters_reused=reused)
        work.discard()
        run.advance("assemble", 1)
    made = outcome.run_result
    made.add(ebook_id=made.content_id)
    if reused:
        made.summary = f"{made.summary} (resumed: {plural(reused, 'chapter')} from an earlier run)"
    return outcome


def _offline_chapter(brief: Brief, outline: ebook.EbookOutline, number: int) -> Callable[[], str]:
    return lambda: ebook.offline_chapter(brief, outline, number)


RUNNERS: dict[str, Runner] = {
    "shorts": _shorts,
    "blog": _blog,
    "ebook": _ebook,
    "social": _social,
}


def run(ctx: RunContext) -> Outcome:
    """Make one content item of the task's type."""
    return dispatch(RUNNERS, ctx)
