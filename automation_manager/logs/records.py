"""The run record: one per attempt, one JSON line in ``.mp/automation/logs/YYYY-MM-DD.jsonl``."""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..enums import RunStatus, Trigger
from .redact import REDACTED, SECRET_KEY, redact

__all__ = ["REDACTED", "SECRET_KEY", "RunRecord", "Usage", "new_record_id", "redact"]


class Usage(BaseModel):
    """Tokens and cost summed over every model call of a run."""

    model_config = ConfigDict(extra="allow")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    def add(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 8),
            calls=self.calls + other.calls,
        )


class RunRecord(BaseModel):
    """What happened in one attempt of one task."""

    model_config = ConfigDict(extra="allow")

    id: str
    timestamp: datetime
    task_id: str
    category: str
    type: str
    trigger: Trigger = Trigger.MANUAL
    attempt: int = 1
    scheduled_for: datetime | None = None
    status: RunStatus
    success: bool
    params: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    duration_ms: int = 0
    usage: Usage | None = None
    provider: str | None = None
    run_id: str | None = None
    process_type: str | None = None
    """The task's process type (``content``, ``maintenance``, ...; see ``config.operations``)."""
    resources_used: dict[str, float] | None = None
    """What the run used: ``cpu_s`` (its thread and child processes) and ``peak_rss_mb``."""

    def to_line(self) -> str:
        return self.model_dump_json(exclude_none=False)


_counter = 0


def new_record_id(now: datetime | None = None) -> str:
    """Time-sortable unique id: ``r`` + ms since epoch (hex) + pid + counter + random."""
    global _counter
    _counter = (_counter + 1) % 0xFFFF
    ms = int((now.timestamp() if now else time.time()) * 1000)
    return f"r{ms:012x}{os.getpid() % 0xFFFF:04x}{_counter:04x}{os.urandom(2).hex()}"
