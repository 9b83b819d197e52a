"""The ``publishing`` executor: send approved content to its platforms.

- ``pending``: every ``pending`` item to each of its targets that is due now (optionally
  only to the task's ``platform``);
- ``shorts`` / ``blog`` / ``ebook`` / ``social``: pending items of that kind to the
  task's ``platform``, or, without one, to every configured platform that accepts the
  kind (as ``pending`` does for every kind).

Optional task fields: ``item_id`` (or the seed's ``ebook_id``) sends just that item;
``max_items`` caps this run (default: config.json ``max_items_per_run``). The work
itself is :class:`~automation_manager.publishers.session.PublishSession`.
"""

from __future__ import annotations

from typing import Any

from ..errors import TaskError
from ..results import RunResult
from .base import Outcome, RunContext


def _platform(ctx: RunContext) -> str | None:
    value = ctx.params.get("platform")
    known = list(ctx.workspace.config.platforms)
    choices = ", ".join(known) or '(none: add one to config.json "platforms")'
    if value is None:
        kind = ctx.spec.type
        platforms = ctx.workspace.config.platforms
        if kind == "pending" or any(kind in p.accepted_kinds(n) for n, p in platforms.items()):
            return None  # every platform that accepts the kind (an item's targets first)
        raise TaskError(
            f"publishing {kind} task {ctx.spec.id}: no configured platform accepts {kind} "
            f'items — add "platform": "NAME" to the task (or -p platform=NAME), or set '
            f'"accepts" on a platform in config.json; configured platforms: {choices}'
        )
    if not isinstance(value, str) or value not in known:
        raise TaskError(
            f"publishing task {ctx.spec.id}: platform {value!r} is not in config.json "
            f"platforms: use one of: {choices}"
        )
    return value


def _limit(ctx: RunContext) -> int | None:
    raw: Any = ctx.params.get("max_items", ctx.workspace.config.max_items_per_run)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise TaskError(f"publishing task {ctx.spec.id}: max_items must be a whole number ≥ 1")
    return raw


def _planned(ctx: RunContext, platform: str | None, item_id: str | None, limit: int | None) -> int:
    """How many sends ``pending`` sets out to do: due or not, each (item, platform) pair."""
    from ..enums import ContentStatus
    from ..publishers.session import targets_of

    platforms = dict(ctx.workspace.config.platforms)
    pairs = 0
    for item in ctx.store.items():
        if item.status is not ContentStatus.PENDING or (item_id and item.id != item_id):
            continue
        names = targets_of(platforms, item)
        if platform is not None:
            names = [platform] if (platform in item.targets or not item.targets) else []
        pairs += len(names)
    return pairs if limit is None else min(pairs, limit)


def run(ctx: RunContext) -> Outcome:
    """Publish what is due; raise when a platform or an item failed (after the rest).

    ``pending`` is a multi-stage run (stage ``publish``): a pause or cancel from
    ``amgr runs`` takes effect after the current item; the ledger makes the next run
    skip what was sent. A run with nothing to send keeps no run file.
    """
    from ..publishers.session import PublishSession

    platform = _platform(ctx)
    item = ctx.params.get("item_id") or ctx.params.get("ebook_id")
    item_id = str(item) if item else None
    limit = _limit(ctx)
    kind = None if ctx.spec.type == "pending" else ctx.spec.type
    if kind is not None:
        session = PublishSession(ctx.workspace, now=ctx.now, cancel=ctx.cancel, progress=ctx.report)
        report = session.run(kind=kind, platform=platform, item_id=item_id, limit=limit)
        report.raise_if_failed()
        return Outcome(RunResult.model_validate(report.result()))
    planned = _planned(ctx, platform, item_id, limit)
    with ctx.multi_stage(start_new=planned > 0) as tracker:
        tracker.stage("publish", planned)

        def progress(label: str, done: int, total: int) -> None:
            ctx.report(label, done, total)
            tracker.advance("publish")
            tracker.checkpoint()

        session = PublishSession(ctx.workspace, now=ctx.now, cancel=ctx.cancel, progress=progress)
        report = session.run(platform=platform, item_id=item_id, limit=limit)
        report.raise_if_failed()
    return Outcome(RunResult.model_validate(report.result()))
