"""The run file: what a multi-stage run set out to do, how far it got, what was asked of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class RunPhase(StrEnum):
    """Where a multi-stage run stands."""

    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"


class Control(StrEnum):
    """What the user asked a running run to do at its next checkpoint."""

    PAUSE = "pause"
    CANCEL = "cancel"


class StageCount(BaseModel):
    """Progress of one stage: ``planned`` is the snapshot taken when the stage began."""

    done: int = 0
    planned: int = 0


class RunState(BaseModel):
    """``.mp/runs/<id>.json``; ``id`` is the record id of the attempt that started it.

    :param attempts: record ids of every attempt that worked on this run, in order.
    :param control: a pause or cancel the user asked for, not yet acted on.
    :param reason: why the run is paused, cancelled or failed (for a person).
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    task_id: str
    category: str
    type: str
    status: RunPhase = RunPhase.RUNNING
    stage: str | None = None
    stages: dict[str, StageCount] = Field(default_factory=dict)
    attempts: list[str] = Field(default_factory=list)
    started_at: datetime
    updated_at: datetime
    control: Control | None = None
    control_at: datetime | None = None
    reason: str | None = None

    def progress(self) -> StageCount:
        """Counts of the current stage (zeros before the first stage)."""
        return self.stages.get(self.stage or "", StageCount())

    def where(self) -> str:
        """``chapters 2/5``: the current stage and its counts."""
        if self.stage is None:
            return "not started"
        count = self.progress()
        return f"{self.stage} {count.done}/{count.planned}"
