"""What each event means for incidents, with the words of its message: pure, no IO.

Runs: a failed final attempt opens ``task:<id>``; a success closes it. An interrupted run
opens ``interrupted:<record id>``. A run skipped by ``daily_budget_usd`` opens
``budget:<day>``. Every other record (a failure that will be retried, a skip for another
reason) changes nothing. Platforms: a failed credential check opens ``platform:<name>``,
a passing one closes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ..enums import RunStatus
from ..logs.records import RunRecord
from .incidents import IncidentKind, budget_key, interrupted_key, platform_key, task_key

BUDGET_MARK = "daily_budget_usd"
"""A skip whose reason mentions this was caused by the model budget."""


@dataclass(frozen=True)
class Opening:
    """Open (or repeat) the incident ``key``."""

    key: str
    kind: IncidentKind
    subject: str
    body: str


@dataclass(frozen=True)
class Closing:
    """Close the incident ``key`` if it is open."""

    key: str
    subject: str
    body: str


def when(moment: datetime) -> str:
    """``2025-01-05 09:00:12 CET`` — local time with its zone name, or its offset."""
    named = isinstance(moment.tzinfo, ZoneInfo)
    zone = (moment.tzname() if named else None) or moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} {zone}".rstrip()


def _task_line(record: RunRecord) -> str:
    return f"Task:    {record.task_id} ({record.category}/{record.type})"


def _exec_now(record: RunRecord) -> str:
    return f"amgr exec-now {record.category} {record.type} --task {record.task_id}"


def run_event(record: RunRecord, *, final: bool) -> Opening | Closing | None:
    """What ``record`` means for incidents.

    :param final: no retry will follow (retries exhausted, a permanent error, or a manual
        run). Only a final failure opens an incident: one failed attempt of several is not
        yet news.
    """
    status = record.status
    if status is RunStatus.SUCCESS:
        return _recovered(record)
    if status is RunStatus.FAILED and final:
        return _failed(record)
    if status is RunStatus.INTERRUPTED:
        return _interrupted(record)
    if status is RunStatus.SKIPPED and BUDGET_MARK in (record.error or ""):
        return _budget(record)
    return None


def _failed(record: RunRecord) -> Opening:
    tries = "1 attempt" if record.attempt == 1 else f"{record.attempt} attempts"
    body = "\n".join(
        [
            f"Task {record.task_id} failed after {tries} and will not be retried until its "
            "next due time.",
            "",
            _task_line(record),
            f"When:    {when(record.timestamp)}",
            f"Trigger: {record.trigger.value}",
            f"Record:  {record.id}",
            "",
            "Error:",
            f"  {record.error or '(no message)'}",
            "",
            "What to do:",
            f"  - see every attempt: amgr history --task {record.task_id} --failed-only",
            "  - fix what the error names (a setting, a credential, the input)",
            f"  - run it again now: {_exec_now(record)}",
            "",
            "Further failures of this task send no more messages; you will get one when it "
            "succeeds again.",
        ]
    )
    return Opening(
        task_key(record.task_id),
        IncidentKind.TASK_FAILED,
        f"task {record.task_id} failed",
        body,
    )


def _recovered(record: RunRecord) -> Closing:
    body = "\n".join(
        [
            f"Task {record.task_id} succeeded again.",
            "",
            _task_line(record),
            f"When:    {when(record.timestamp)}",
            f"Record:  {record.id}",
        ]
    )
    return Closing(task_key(record.task_id), f"task {record.task_id} recovered", body)


def _interrupted(record: RunRecord) -> Opening:
    body = "\n".join(
        [
            f"A run of task {record.task_id} was interrupted before it finished (amgr was "
            "stopped or the machine went down while it ran).",
            "",
            _task_line(record),
            f"Started: {when(record.timestamp)}",
            f"Record:  {record.id}",
            f"Detail:  {record.error or '(none)'}",
            "",
            "What to do:",
            "  - nothing, usually: the task runs again at its next due time, and a missed "
            "due time is caught up by its misfire policy",
            f"  - to run it now: {_exec_now(record)}",
            f"  - to see what it did: amgr history --task {record.task_id}",
        ]
    )
    return Opening(
        interrupted_key(record.id),
        IncidentKind.INTERRUPTED,
        f"run of task {record.task_id} interrupted",
        body,
    )


def _budget(record: RunRecord) -> Opening:
    day = record.timestamp.date()
    body = "\n".join(
        [
            f"The daily model budget for {day.isoformat()} is reached: task "
            f"{record.task_id} was skipped.",
            "",
            _task_line(record),
            f"When:    {when(record.timestamp)}",
            "",
            "Reason:",
            f"  {record.error}",
            "",
            "What to do:",
            "  - nothing: runs that call the model are skipped (and recorded as skipped) "
            "until the budget resets at midnight",
            "  - to go on today: raise llm.daily_budget_usd in config.json",
            "  - to see today's spend: amgr status",
            "",
            "This is the only budget message for this day.",
        ]
    )
    return Opening(
        budget_key(day),
        IncidentKind.BUDGET,
        f"daily model budget reached ({day.isoformat()})",
        body,
    )


def credentials_failed(platform: str, error: str, now: datetime) -> Opening:
    """The incident for a platform whose credential check fails."""
    body = "\n".join(
        [
            f"The credentials of platform {platform} failed.",
            "",
            f"Platform: {platform}",
            f"When:     {when(now)}",
            "",
            "Error:",
            f"  {error}",
            "",
            "What to do:",
            f"  - fix the setting the error names in config.json (platforms.{platform}) or "
            "the environment variable it reads",
            "  - test it: amgr check",
            "",
            "Publishes to this platform are skipped while its credentials fail; you will "
            "get one message when they work again.",
        ]
    )
    return Opening(
        platform_key(platform),
        IncidentKind.CREDENTIALS,
        f"credentials for {platform} failed",
        body,
    )


def credentials_ok(platform: str, now: datetime) -> Closing:
    """The recovery of a platform whose credential check passes again."""
    body = (
        f"The credentials of platform {platform} work again ({when(now)}); "
        "publishing to it resumes."
    )
    return Closing(platform_key(platform), f"credentials for {platform} work again", body)
