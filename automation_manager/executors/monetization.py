"""monetization: affiliate content, ebook promotion and affiliate programs, bundles, sales.

Work that finds nothing to do (no ebooks yet, every ebook already promoted, too few
ebooks for a bundle) is a success with ``items: 0`` and a ``reason`` saying why, so a
scheduled chore on a fresh home reads as "nothing to do", not as a failure.
Runs that go through several ebooks stop at ``max_items_per_run``; the rest wait for
the next run (``remaining`` in the result).

Affiliate articles are ``blog`` items and go through review and publishing like any
post. Promotion copy, bundles and sales reports are material for the owner, not posts
a platform takes: they are stored as ``draft`` items, out of the publish queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..config.models import Config
from ..config.periods import normalise_period
from ..content import ContentItem, ContentStore
from ..content.brief import Brief, list_param, str_param
from ..content.catalog import EbookFacts, ebooks, facts
from ..content.kinds import affiliate, affiliate_terms, bundle, promotion, sales_report
from ..content.render import Rendered, save
from ..content.sales import build_report, load_sales, period_window
from ..enums import ContentStatus
from ..errors import AmgrError, TaskError
from ..fsutil import atomic_write_text
from ..results import RunResult
from .base import Outcome, RunContext, Runner, dispatch
from .content_creation import generated_by, make_in_series, store_item

MAKE_EBOOK = '`amgr exec-now content_creation ebook -p topic="..."`'


def nothing(reason: str, **extra: Any) -> Outcome:
    """A successful run that had nothing to do, and says why."""
    return Outcome(RunResult(items=0, reason=reason, summary=reason, files=[], **extra))


def _ebook(store: ContentStore, ebook_id: str) -> ContentItem:
    try:
        item = store.get(ebook_id)
    except AmgrError:
        raise TaskError(
            f"ebook_id {ebook_id!r} is not a content item: use an ebook id from "
            "`amgr content list` (or leave ebook_id out to use every ebook)"
        ) from None
    if item.kind != "ebook":
        raise TaskError(
            f"ebook_id {ebook_id!r} is a {item.kind}, not an ebook: use an ebook id "
            "from `amgr content list`"
        )
    return item


def _batch(items: list[ContentItem], config: Config) -> tuple[list[ContentItem], int]:
    limit = config.max_items_per_run
    batch = items[:limit] if limit else items
    return batch, len(items) - len(batch)


def _affiliate_content(ctx: RunContext) -> Outcome:
    if not ctx.config.affiliate_links:
        raise TaskError(
            f"affiliate_content needs affiliate links and there are none: {affiliate.LINKS_FIX}"
        )
    now = ctx.now()
    disclosure = ctx.config.affiliate_disclosure or affiliate.DISCLOSURE

    def build(brief: Brief) -> Rendered:
        links = affiliate.select_links(ctx.config, brief)
        article = ctx.llm.generate(
            "affiliate_content",
            affiliate.messages(brief, links),
            affiliate.AffiliateArticle,
            offline=lambda: affiliate.offline(brief, links, now),
        )
        by = generated_by(ctx, "affiliate_content")
        return affiliate.render(article, brief, links, by, now, disclosure=disclosure)

    return make_in_series(
        ctx,
        "affiliate_content",
        build,
        store_kind="blog",
        extra=lambda r: {"links": list(r.meta["links"])},
    )


def _per_ebook(
    ctx: RunContext,
    label: str,
    todo: list[ContentItem],
    one: Callable[[ContentItem, EbookFacts, datetime], list[str]],
) -> dict[str, Any]:
    """Run ``one`` for each ebook in the batch; collect ids and files."""
    batch, remaining = _batch(todo, ctx.config)
    done: list[str] = []
    files: list[str] = []
    for number, item in enumerate(batch, 1):
        if ctx.cancel.is_set():
            remaining += len(batch) - len(done)
            break
        files += one(item, facts(item), ctx.now())
        done.append(item.id)
        ctx.report(f"{label} {number}/{len(batch)}", number, len(batch))
    return {"ebooks": done, "files": files, "remaining": remaining}


def _ebook_promotion(ctx: RunContext) -> Outcome:
    store = ctx.store
    wanted = str_param(ctx.params, "ebook_id")
    if wanted:
        todo = [_ebook(store, wanted)]
    else:
        every = ebooks(store)
        todo = [e for e in every if not e.meta.get("promotion_id")]
        if not every:
            return nothing(
                f"nothing to promote: there are no ebooks yet; make one with {MAKE_EBOOK}"
            )
        if not todo:
            return nothing(
                f"nothing to promote: all {len(every)} ebooks already have "
                "promotion copy (pass -p ebook_id=ID to write it again)"
            )
    made: list[str] = []
    links = ctx.config.product_links
    problem = promotion.missing_links(links, [facts(e) for e in _batch(todo, ctx.config)[0]])
    if problem is not None:
        raise problem

    def one(item: ContentItem, book: EbookFacts, now: datetime) -> list[str]:
        copy = ctx.llm.generate(
            "ebook_promotion",
            promotion.messages(book),
            promotion.Promotion,
            offline=lambda: promotion.offline(book, now),
        )
        url = promotion.product_link(links, book) or ""
        rendered = promotion.render(copy, book, generated_by(ctx, "ebook_promotion"), now, url)
        new, files = save(
            store,
            "promotion",
            rendered,
            now=now,
            status=ContentStatus.DRAFT,
            topic=book.topic,
            task_id=ctx.spec.id,
            record_id=ctx.record_id,
            provider=ctx.llm.provider,
        )

        def mark(ebook: ContentItem) -> None:
            ebook.meta["promotion_id"] = new.id
            ebook.meta.setdefault("promotion_ids", []).append(new.id)

        store.update(item.id, mark)
        made.append(new.id)
        return files

    out = _per_ebook(ctx, "promotion", todo, one)
    titles = ", ".join(f'"{store.get(i).title}"' for i in out["ebooks"])
    summary = f"promotion copy for {len(out['ebooks'])} ebook(s): {titles}"
    if out["remaining"]:
        summary += f"; {out['remaining']} more next run (max_items_per_run)"
    return Outcome(
        RunResult(
            items=len(made),
            content_ids=made,
            content_id=made[0] if made else None,
            promoted=out["ebooks"],
            files=out["files"],
            remaining=out["remaining"],
            summary=summary,
            provider=ctx.llm.provider,
        ),
        ctx.llm.provider,
    )


def _affiliate_program(ctx: RunContext) -> Outcome:
    store = ctx.store
    wanted = str_param(ctx.params, "ebook_id")
    every = [_ebook(store, wanted)] if wanted else ebooks(store)
    todo = [e for e in every if wanted or "affiliate_program" not in e.meta]
    if not every:
        return nothing(
            f"no affiliate program to set up: there are no ebooks yet; make one with {MAKE_EBOOK}"
        )
    if not todo:
        return nothing(
            f"no affiliate program to set up: all {len(every)} ebooks already have "
            "one (pass -p ebook_id=ID to redo it)"
        )

    def one(item: ContentItem, book: EbookFacts, now: datetime) -> list[str]:
        terms = ctx.llm.generate(
            "affiliate_program",
            affiliate_terms.messages(book),
            affiliate_terms.AffiliateTerms,
            offline=lambda: affiliate_terms.offline(book, now),
        )
        by = generated_by(ctx, "affiliate_program")
        name = "affiliate-terms.md"
        path = store.folder(item.id) / name
        atomic_write_text(path, affiliate_terms.render_terms(terms, book, by, now))

        def attach(ebook: ContentItem) -> None:
            ebook.files["affiliate_terms"] = name
            ebook.meta["affiliate_program"] = {
                **terms.model_dump(),
                "terms_file": name,
                "created_at": now.isoformat(),
                "record_id": ctx.record_id,
                "generated_by": by,
            }

        store.update(item.id, attach)
        return [str(path)]

    out = _per_ebook(ctx, "affiliate program", todo, one)
    summary = f"affiliate program terms for {len(out['ebooks'])} ebook(s)"
    if out["remaining"]:
        summary += f"; {out['remaining']} more next run (max_items_per_run)"
    return Outcome(
        RunResult(
            items=0,
            updated=len(out["ebooks"]),
            ebooks=out["ebooks"],
            files=out["files"],
            remaining=out["remaining"],
            summary=summary,
            provider=ctx.llm.provider,
        ),
        ctx.llm.provider,
    )


def _bundle_creation(ctx: RunContext) -> Outcome:
    store = ctx.store
    need = ctx.config.bundle_min_ebooks
    chosen = list_param(ctx.params, "ebook_ids")
    books = [_ebook(store, i) for i in dict.fromkeys(chosen)] if chosen else ebooks(store)
    by_title: dict[str, ContentItem] = {}
    for book in books:  # the same title twice is one ebook made twice: list it once
        by_title.setdefault(" ".join(book.title.lower().split()), book)
    books = list(by_title.values())
    if len(books) < need:
        verb = "exists" if len(books) == 1 else "exist"
        return nothing(
            f"bundle needs at least {need} ebooks; {len(books)} {verb}", ebooks=len(books)
        )
    ids = {b.id for b in books}
    for existing in store.items():
        if existing.kind == "bundle" and set(existing.meta.get("ebook_ids") or []) == ids:
            return nothing(
                f"a bundle of these {len(ids)} ebooks already exists: {existing.id}",
                bundle_id=existing.id,
            )
    infos = [facts(b) for b in books]
    now = ctx.now()
    copy = ctx.llm.generate(
        "bundle_creation",
        bundle.messages(infos),
        bundle.BundleCopy,
        offline=lambda: bundle.offline(infos, now),
    )
    rendered = bundle.render(copy, infos, generated_by(ctx, "bundle_creation"), now)
    outcome = store_item(
        ctx,
        "bundle",
        None,
        rendered,
        status=ContentStatus.DRAFT,
        ebook_ids=sorted(ids),
        price_usd=rendered.meta["price_usd"],
    )
    outcome.run_result.add(bundle_id=outcome.run_result.content_id)
    return outcome


def _sales_report(ctx: RunContext) -> Outcome:
    period = normalise_period(str_param(ctx.params, "period", "month") or "month")
    now = ctx.now()
    window = period_window(period, now)
    report = build_report(load_sales(ctx.home.sales_dir, now.tzinfo), window)
    rendered = sales_report.render(report, now)
    item, files = save(
        ctx.store,
        "report",
        rendered,
        now=now,
        status=ContentStatus.DRAFT,
        task_id=ctx.spec.id,
        record_id=ctx.record_id,
    )
    data = report.as_dict()
    return Outcome(
        RunResult(
            items=1,
            content_id=item.id,
            title=item.title,
            files=files,
            summary=rendered.summary,
            period=data["period"],
            start=data["start"],
            end=data["end"],
            totals=data["totals"],
            products=len(data["by_product"]),
            channels=len(data["by_channel"]),
            skipped_lines=data["skipped_lines"],
        )
    )


RUNNERS: dict[str, Runner] = {
    "affiliate_content": _affiliate_content,
    "ebook_promotion": _ebook_promotion,
    "bundle_creation": _bundle_creation,
    "affiliate_program": _affiliate_program,
    "sales_report": _sales_report,
}


def run(ctx: RunContext) -> Outcome:
    """Run one monetization task of the task's type."""
    return dispatch(RUNNERS, ctx)
