"""Reading a pipeline's state, for ``amgr pipeline``, ``amgr runs show`` and the dashboard.

Each function returns a typed report whose ``to_json()`` is the ``--json`` document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..config.pipeline import STAGES
from ..home import Home
from .store import PipelineDB

PENDING_LABELS: dict[str, str] = {
    "clusters": "keywords not clustered",
    "ideas": "clusters without ideas",
    "tasks": "ideas not queued",
    "content": "tasks not written",
    "image_prompts": "articles without image prompts",
    "images": "prompts without images",
    "review": "articles ready for review",
}

PROCESSED_KEYS: dict[str, str] = {
    "clusters": "keywords_processed",
    "ideas": "clusters_processed",
    "tasks": "ideas_processed",
    "content": "tasks_processed",
    "image_prompts": "content_processed",
    "images": "images_processed",
    "review": "articles_processed",
}


@dataclass
class PipelineStatus:
    """Pending count per stage of one pipeline, and its totals."""

    task_id: str
    pending: dict[str, int]
    keywords: dict[str, int]
    in_review: int
    runs: int

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "pending": self.pending,
            "keywords": self.keywords,
            "in_review": self.in_review,
            "runs": self.runs,
        }


def pipeline_status(home: Home, task_id: str) -> PipelineStatus:
    """The reference's pipeline overview for ``task_id``."""
    db = PipelineDB(home)
    try:
        keywords = {
            str(r["status"]): int(r["n"])
            for r in db.rows(
                "SELECT status, count(*) AS n FROM pl_keywords WHERE task_id = ? GROUP BY status",
                (task_id,),
            )
        }
        in_review = int(
            db.value(
                "SELECT count(*) FROM pl_tasks WHERE task_id = ? AND status = 'review'", (task_id,)
            )
        )
        return PipelineStatus(
            task_id, db.pending(task_id), keywords, in_review, len(db.runs_of(task_id))
        )
    finally:
        db.close()


ITEM_SQL: dict[str, str] = {
    "keywords": "SELECT id, keyword, volume, difficulty, intent, status, cluster_id "
    "FROM pl_keywords WHERE task_id = ? ORDER BY id",
    "clusters": "SELECT id, name, intent, status, keywords, run_id, created_at "
    "FROM pl_clusters WHERE task_id = ? ORDER BY id",
    "ideas": "SELECT id, cluster_id, title, angle, target_keyword, outline, status, run_id "
    "FROM pl_ideas WHERE task_id = ? ORDER BY id",
    "tasks": "SELECT id, idea_id, cluster_id, title, words, status, content_id, run_id "
    "FROM pl_tasks WHERE task_id = ? ORDER BY id",
    "images": "SELECT p.id, p.content_id, p.role, p.position, p.prompt, p.size, p.status, "
    "i.path, i.width, i.height FROM pl_image_prompts p LEFT JOIN pl_images i "
    "ON i.prompt_id = p.id WHERE p.task_id = ? ORDER BY p.id",
}
KINDS = tuple(ITEM_SQL)


@dataclass
class StageItems:
    task_id: str
    kind: str
    items: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "kind": self.kind, "items": self.items}


def list_stage_items(home: Home, task_id: str, kind: str) -> StageItems:
    """Every item of one kind (``keywords``, ``clusters``, ``ideas``, ``tasks``,
    ``images``) of a pipeline, oldest first."""
    db = PipelineDB(home)
    try:
        rows = db.rows(ITEM_SQL[kind], (task_id,))
    finally:
        db.close()
    for row in rows:
        for key in ("keywords", "outline"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    return StageItems(task_id, kind, rows)


@dataclass
class RunDetail:
    """A pipeline run's counts: snapshot, per-stage results, progress and usage."""

    run_id: str
    task_id: str
    initial_snapshot: dict[str, int]
    stages: dict[str, dict[str, Any]]
    done: int
    planned: int
    estimate_usd: float
    cost_usd: float
    prompt_tokens: int
    completion_tokens: int

    def to_json(self) -> dict[str, Any]:
        return {
            "initial_snapshot": self.initial_snapshot,
            "stages": self.stages,
            "progress": {"done": self.done, "planned": self.planned},
            "estimate_usd": self.estimate_usd,
            "usage": {
                "cost_usd": self.cost_usd,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            },
        }


def run_detail(home: Home, run_id: str) -> RunDetail | None:
    """The pipeline counts of run ``run_id``, or None for a run that is not a pipeline's."""
    db = PipelineDB(home)
    try:
        row = db.run_row(run_id)
    finally:
        db.close()
    if row is None:
        return None
    snapshot = {k: int(v) for k, v in row["snapshot"].items()}
    stages = {name: row["stages"][name] for name in STAGES if name in row["stages"]}
    done = sum(int(stages.get(s, {}).get(PROCESSED_KEYS[s], 0)) for s in STAGES)
    return RunDetail(
        run_id,
        str(row["task_id"]),
        snapshot,
        stages,
        min(done, sum(snapshot.values())) if snapshot else done,
        sum(snapshot.values()),
        float(row["estimate_usd"]),
        float(row["cost_usd"]),
        int(row["prompt_tokens"]),
        int(row["completion_tokens"]),
    )


def set_cluster_enabled(home: Home, task_id: str, cluster_id: int, enabled: bool) -> bool:
    """Disable a cluster (its ideas and tasks stay out of later stages) or enable it
    again; False when the pipeline has no such cluster."""
    db = PipelineDB(home)
    try:
        with db.tx() as conn:
            if enabled:
                had = conn.execute(
                    "SELECT count(*) FROM pl_ideas WHERE cluster_id = ?", (cluster_id,)
                ).fetchone()[0]
                status = "ideas" if had else "new"
                cur = conn.execute(
                    "UPDATE pl_clusters SET status = ? WHERE id = ? AND task_id = ? "
                    "AND status = 'disabled'",
                    (status, cluster_id, task_id),
                )
                found = conn.execute(
                    "SELECT 1 FROM pl_clusters WHERE id = ? AND task_id = ?", (cluster_id, task_id)
                ).fetchone()
                return found is not None
            cur = conn.execute(
                "UPDATE pl_clusters SET status = 'disabled' WHERE id = ? AND task_id = ?",
                (cluster_id, task_id),
            )
            return cur.rowcount > 0
    finally:
        db.close()


@dataclass
class Estimate:
    """What the next run of a pipeline is expected to cost, and whether it may start."""

    task_id: str
    pending: dict[str, int]
    estimate_usd: float
    with_safety_usd: float
    max_cost_per_run_usd: float | None
    daily_budget_usd: float | None
    spent_today_usd: float
    enough: bool

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def estimate_next_run(workspace: Any, task_id: str, now: Any) -> Estimate:
    """The cost estimate of ``task_id``'s next run (× 1.2) against its budgets."""
    from ..config.pipeline import settings_of
    from ..llm.budget import SAFETY, spent_today
    from ..llm.provider import resolve_provider
    from .runner import estimate

    spec = workspace.task(task_id)
    settings = settings_of(spec.task.params())
    llm = workspace.config.llm
    offline = resolve_provider(llm) == "offline"
    db = PipelineDB(workspace.home)
    try:
        pending = db.pending(task_id)
    finally:
        db.close()
    est = estimate(llm, offline, settings, pending)
    spent = spent_today(workspace.home, now.replace(hour=0, minute=0, second=0, microsecond=0))
    need = est * SAFETY
    enough = settings.max_cost_per_run_usd is None or need <= settings.max_cost_per_run_usd
    daily = None if offline else llm.daily_budget_usd
    if daily is not None:
        enough = enough and need <= max(0.0, daily - spent)
    return Estimate(
        task_id,
        pending,
        est,
        round(need, 6),
        settings.max_cost_per_run_usd,
        daily,
        spent,
        enough,
    )
