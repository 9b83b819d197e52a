"""What ``amgr history`` adds up, as a typed report.

:class:`HistorySummary` is the ``summary`` of ``amgr history --json`` (its
:meth:`~automation_manager.reports.Report.to_json`, key for key) and what the table view
renders from; :class:`~automation_manager.logs.history.HistoryScan` builds it.
"""

from __future__ import annotations

from ..reports import Report


class Filters(Report):
    """The query's filters; None where a filter was not given."""

    category: str | None
    type: str | None
    task_id: str | None
    status: str | None
    """``success`` (--success-only), ``failed`` (--failed-only) or None."""

    def described(self) -> str:
        """`` matching category blog, status failed`` (empty without filters)."""
        parts = [f"{key} {value}" for key, value in self.items() if value is not None]
        return f" matching {', '.join(parts)}" if parts else ""


class Durations(Report):
    """Nearest-rank percentiles of the runs that ran (skipped ones excluded), in ms."""

    p50: int | None
    p95: int | None
    max: int | None


class Tokens(Report):
    prompt: int
    completion: int
    total: int


class DayTotals(Report):
    """One local day: runs, failed or interrupted ones, tokens and cost."""

    runs: int
    failed: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class TypeTotals(Report):
    """Model use of one ``category/type``."""

    runs_with_usage: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class ErrorPattern(Report):
    """Similar errors grouped (numbers and ids taken out), with the newest example."""

    pattern: str
    count: int
    example: str
    last_seen: str


class HistorySummary(Report):
    """The totals of every record a history query matched."""

    since: str
    until: str
    days: int
    filters: Filters
    runs: int
    by_status: dict[str, int]
    """Runs per status, statuses sorted by name."""
    success_rate: float | None
    """Successes over runs that ran (not skipped); None when nothing ran."""
    duration_ms: Durations
    tokens: Tokens
    cost_usd: float
    per_day: dict[str, DayTotals]
    """ISO date → totals, newest day first."""
    per_type: dict[str, TypeTotals]
    """``category/type`` → model use, sorted by kind."""
    errors: list[ErrorPattern]
    """The most common error patterns, most frequent first."""
    unreadable_lines: int
    files_read: int
