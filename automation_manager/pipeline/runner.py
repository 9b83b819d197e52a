"""One pipeline run: estimate, lock, then the seven stages in order, batch by batch.

A run is a multi-stage run (``.mp/runs/RUN.json``) that holds its task's run lock
(:class:`~automation_manager.runs.lock.RunLock`); its counts live in the state database
next to the items (:mod:`.store`), so a continued run (after a pause, a shutdown or a
kill -9) skips the stages it finished and, inside a stage, takes only the items still
pending: nothing is lost or done twice. Pause and cancel take effect after the current
item; every stage start and end, batch, item, skip and error is a line of the run's
activity log (``amgr runs log RUN``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..config.pipeline import MODEL_STAGES, STAGES, PipelineSettings, settings_of
from ..errors import SkipRun
from ..results import RunResult
from ..runs import activity
from .store import PipelineDB

if TYPE_CHECKING:
    from ..config.models import LLMConfig
    from ..executors.base import Outcome, RunContext
    from ..runs.tracker import RunTracker

SAFETY = 1.2
"""The estimate's safety factor (the same as the daily budget's)."""

KEYWORDS_PER_CLUSTER = 8
"""What the estimate assumes a cluster holds before stage 1 has run."""

# Tokens the estimate assumes per model call (prompt, completion).
CLUSTER_TOKENS = (500, 0)
CLUSTER_PER_KEYWORD = (15, 25)
IDEA_TOKENS = (600, 250)
PROMPT_TOKENS = (800, 300)
WORDS_TO_TOKENS = 1.5


@dataclass
class Pass:
    """Everything the stages share in one run."""

    ctx: RunContext
    settings: PipelineSettings
    db: PipelineDB
    tracker: RunTracker
    run_id: str
    budget_usd: float | None
    sleep: Callable[[float], None] = time.sleep
    started: dict[str, float] = field(default_factory=dict)

    @property
    def task_id(self) -> str:
        return self.ctx.spec.id

    def log(self, stage: str | None, message: str) -> None:
        activity.note(self.ctx.home, self.run_id, self.ctx.now(), message, stage)

    def usage(self) -> tuple[float, int, int]:
        u = self.ctx.usage
        return (u.cost_usd, u.prompt_tokens, u.completion_tokens)

    def commit(
        self, stage: str, counts: dict[str, Any], work: Callable[[Any], None] | None = None
    ) -> dict[str, Any]:
        """Items' status changes and the stage's counts, in one transaction; the run
        file's done count follows."""
        from .query import PROCESSED_KEYS

        result = self.db.commit(self.run_id, stage, counts, work, usage=self.usage())
        key = PROCESSED_KEYS[stage]
        if counts.get(key):
            done = int(result.get(key, 0))
            self.tracker.advance(stage, done)
            self.ctx.report(f"{stage} {done}", done, 0)
        return result

    def stage_budget(self, stage: str) -> float | None:
        """USD stage ``stage`` may spend in this run (its ``budget_pct`` share), or None."""
        pct = self.settings.stage(stage).budget_pct
        if pct is None or self.budget_usd is None or stage not in MODEL_STAGES:
            return None
        return self.budget_usd * pct / 100

    def over_budget(self, stage: str, result: dict[str, Any]) -> bool:
        """True (and the stage marked ``partial``) when the stage used up its share."""
        limit = self.stage_budget(stage)
        if limit is None or float(result.get("cost_usd", 0)) < limit:
            return False
        self.commit(stage, {"partial": True})
        self.log(stage, f"budget_pct reached (${limit:.4f}): the rest waits for the next run")
        return True

    def limit(self, stage: str, processed: int) -> int | None:
        """How many more items the stage may take in this run (None: no limit)."""
        cap = self.settings.stage(stage).max_per_run
        return None if cap == 0 else max(0, cap - processed)

    def checkpoint(self) -> None:
        """Between items and stages: a pause or cancel takes effect here."""
        self.tracker.checkpoint()

    def delay(self, seconds: float) -> None:
        """Wait between batches or stages; a shutdown ends the wait early."""
        if seconds > 0:
            self.ctx.cancel.wait(seconds)


def estimate(
    llm: LLMConfig, offline: bool, settings: PipelineSettings, pending: dict[str, int]
) -> float:
    """USD the next run is expected to cost (before the × 1.2), from the pending counts
    (and what stage 1–3 are expected to add for the later stages)."""
    if offline:
        return 0.0

    def cost(kind: str, prompt: float, completion: float) -> float:
        price = llm.price_for(llm.model_for(kind))
        if price is None:
            return 0.0
        return float(prompt * price.input + completion * price.output) / 1_000_000

    def cap(stage: str, count: int) -> int:
        s = settings.stage(stage)
        if not s.enabled:
            return 0
        return count if s.max_per_run == 0 else min(count, s.max_per_run)

    total = 0.0
    keywords = cap("clusters", pending["clusters"])
    if keywords:
        calls = math.ceil(keywords / settings.batch_size("clusters"))
        total += cost(
            "pipeline",
            calls * CLUSTER_TOKENS[0] + keywords * CLUSTER_PER_KEYWORD[0],
            keywords * CLUSTER_PER_KEYWORD[1],
        )
    clusters = cap("ideas", pending["ideas"] + math.ceil(keywords / KEYWORDS_PER_CLUSTER))
    total += cost("pipeline", clusters * IDEA_TOKENS[0], clusters * IDEA_TOKENS[1])
    ideas = cap("tasks", pending["tasks"] + clusters * settings.ideas_per_cluster)
    articles = cap("content", pending["content"] + ideas)
    words = settings.words_per_article * WORDS_TO_TOKENS
    total += cost("blog", articles * 1_500, articles * words)
    prompted = cap("image_prompts", pending["image_prompts"] + articles)
    total += cost("pipeline", prompted * PROMPT_TOKENS[0], prompted * PROMPT_TOKENS[1])
    return round(total, 6)


def check_estimate(ctx: RunContext, settings: PipelineSettings, est: float) -> float | None:
    """Refuse (:class:`SkipRun`, with the figures) a run its budgets cannot cover.

    :returns: the run's budget for ``budget_pct`` shares: ``max_cost_per_run_usd``, else
        what is left of today's budget, else None.
    """
    from ..llm.budget import spent_today, usd

    need = est * SAFETY
    cap = settings.max_cost_per_run_usd
    if cap is not None and need > cap:
        raise SkipRun(
            f"estimated {usd(est)} × {SAFETY:g} = {usd(need)} is above max_cost_per_run_usd "
            f"{usd(cap)} — raise max_cost_per_run_usd or lower the stages' max_per_run"
        )
    daily = ctx.config.llm.daily_budget_usd
    left: float | None = None
    if daily is not None and not ctx.llm.offline:
        now = ctx.now()
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        spent = spent_today(ctx.home, start)
        left = max(0.0, daily - spent)
        if need > left:
            raise SkipRun(
                f"estimated {usd(est)} × {SAFETY:g} = {usd(need)} but today's budget has "
                f"{usd(left)} left (daily_budget_usd {usd(daily)}, spent {usd(spent)}) — "
                "raise llm.daily_budget_usd, lower the stages' max_per_run or wait until "
                "tomorrow"
            )
    if cap is not None:
        return cap if left is None else min(cap, left)
    return left


def run_pipeline(ctx: RunContext, *, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Perform one run of a pipeline task (or continue its interrupted or resumed run)."""
    from ..executors.base import Outcome
    from ..runs.tracker import track
    from .stages import STAGE_RUNNERS

    settings = settings_of(ctx.params)
    db = PipelineDB(ctx.home)
    try:
        pending = db.pending(ctx.spec.id)
        est = estimate(ctx.config.llm, ctx.llm.offline, settings, pending)
        budget = check_estimate(ctx, settings, est)
        with track(
            ctx.home, ctx.spec, ctx.record_id, ctx.clock, ctx.cancel, exclusive=True
        ) as tracker:
            assert tracker.id is not None
            ctx.run_id = tracker.id
            p = Pass(ctx, settings, db, tracker, tracker.id, budget, sleep)
            row = db.run_row(tracker.id)
            if row is None:
                db.open_run(tracker.id, ctx.spec.id, pending, ctx.now())
                db.set_estimate(tracker.id, est)
                p.log(None, f"run started ({ctx.record_id}); pending: {_counts(pending)}")
                if est:
                    p.log(None, f"estimated cost ${est:.4f} (× {SAFETY:g} = ${est * SAFETY:.4f})")
                done: dict[str, Any] = {}
            else:
                done = row["stages"]
                p.log(None, f"run continued by {ctx.record_id}; pending: {_counts(pending)}")
            for number, name in enumerate(STAGES, 1):
                if done.get(name, {}).get("done"):
                    continue
                p.checkpoint()
                tracker.stage(name, pending.get(name, 0))
                if not settings.stage(name).enabled:
                    p.commit(name, {"skipped": True, "reason": "disabled", "done": True})
                    p.log(name, f"stage {number} skipped: disabled")
                    continue
                began = time.monotonic()
                p.log(name, f"stage {number} ({name}) started")
                result = STAGE_RUNNERS[name](p)
                elapsed = round(time.monotonic() - began, 3)
                result = p.commit(name, {"time_elapsed_s": elapsed, "done": True})
                p.log(name, f"stage {number} ({name}) done: {_counts(_shown(result))}")
                if number < len(STAGES):
                    p.delay(settings.between_stage_delay_s)
        final = db.run_row(tracker.id) or {}
    finally:
        db.close()
    return Outcome(_result(final, db_pending(ctx)), ctx.llm.provider)


def db_pending(ctx: RunContext) -> dict[str, int]:
    db = PipelineDB(ctx.home)
    try:
        return db.pending(ctx.spec.id)
    finally:
        db.close()


def _shown(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("done", "time_elapsed_s")}


def _counts(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "nothing"


def _result(row: dict[str, Any], pending: dict[str, int]) -> RunResult:
    stages = row.get("stages", {})
    made = int(stages.get("content", {}).get("content_created", 0))
    review = int(stages.get("review", {}).get("ready_for_review", 0))
    summary = (
        f"pipeline: {stages.get('clusters', {}).get('clusters_created', 0)} clusters, "
        f"{stages.get('ideas', {}).get('ideas_created', 0)} ideas, {made} articles, "
        f"{stages.get('images', {}).get('images_generated', 0)} images, {review} ready"
    )
    return RunResult(
        items=made,
        summary=summary,
        run_id=row.get("run_id"),
        stages=stages,
        initial_snapshot=row.get("snapshot", {}),
        pending=pending,
        reason=None if made or review else "nothing pending reached the content stage",
    )
