"""maintenance: the built-in daily chores, ordinary tasks a user can disable.

- ``archive_logs``: compress run logs older than ``log_retention_days`` into
  ``.mp/automation/logs/archive/`` (``history`` still reads them).
- ``pending_report``: content counts by status, and items waiting (``pending`` or
  ``review``) for longer than ``older_than_h`` hours (default 24).
- ``health_check``: free disk space under the home (fails below ``min_free_mb``,
  default 200; warns below ``warn_free_pct`` percent free, default 10), a writable home,
  every configured platform's credentials and reachability (the same check as
  ``amgr check``; a failure opens a credentials incident), and the LLM provider
  reachable (``offline`` needs nothing; a real server gets one cheap ``GET /models``).
  Fails naming every problem. ``sleep_s`` (default 0) makes it wait
  first, stopping early when cancelled: a harmless slow task for trying timeouts,
  overlaps and clean stops.
- ``actions``: a multi-action task (``actions: [{"type", "params"}]``, ``on_error``),
  run by :mod:`automation_manager.operations.actions`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..errors import AuthError, TaskError, TransientError
from ..fsutil import atomic_write_bytes
from ..results import RunResult
from ..text import plural
from .base import Outcome, RunContext, Runner, dispatch

DEFAULT_MIN_FREE_MB = 200
DEFAULT_WARN_FREE_PCT = 10.0
DEFAULT_WAITING_H = 24.0
PROVIDER_TIMEOUT_S = 5.0


def _number(ctx: RunContext, key: str, default: float) -> float:
    value = ctx.params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TaskError(f"{key} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise TaskError(f"{key} must be a number, got {value!r}") from None
    if number < 0:
        raise TaskError(f"{key} must be 0 or more, got {value!r}")
    return number


def archive_logs(ctx: RunContext) -> Outcome:
    """Archive logs older than ``log_retention_days`` (gzip; ``history`` still reads them)."""
    from ..logs.archive import archive_old_logs

    days = ctx.config.log_retention_days
    done = archive_old_logs(ctx.home, days, ctx.now())
    names = [path.name for path in done]
    summary = f"archived {plural(len(done), 'log file')} older than {plural(days, 'day')}"
    return Outcome(RunResult(summary=summary, archived=names, count=len(done), retention_days=days))


def pending_report(ctx: RunContext) -> Outcome:
    """Count content by status and list what has waited too long."""
    from ..content import ContentStore
    from ..enums import ContentStatus

    hours = _number(ctx, "older_than_h", DEFAULT_WAITING_H)
    now = ctx.now()
    cutoff = now - timedelta(hours=hours)
    counts: Counter[str] = Counter()
    waiting: list[dict[str, Any]] = []
    for item in ContentStore(ctx.home).items():
        counts[item.status.value] += 1
        if item.status not in (ContentStatus.PENDING, ContentStatus.REVIEW):
            continue
        since = item.created_at
        for change in item.history:
            if change.status is item.status:
                since = change.at
        if since <= cutoff:
            waiting.append(
                {
                    "id": item.id,
                    "kind": item.kind,
                    "title": item.title,
                    "status": item.status.value,
                    "since": since.isoformat(),
                }
            )
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no content yet"
    if waiting:
        summary += f"; {len(waiting)} waiting more than {hours:g} h"
    return Outcome(
        RunResult(summary=summary, counts=dict(counts), waiting=waiting, older_than_h=hours)
    )


def _disk(ctx: RunContext, problems: list[str], warnings: list[str]) -> dict[str, Any]:
    """Free space under the home: a problem below ``min_free_mb``, a warning below
    ``warn_free_pct`` percent free. Reported, never raised: a full disk is exactly when
    this check must still give its answer."""
    min_free = _number(ctx, "min_free_mb", DEFAULT_MIN_FREE_MB)
    warn_pct = _number(ctx, "warn_free_pct", DEFAULT_WARN_FREE_PCT)
    where = ctx.home.mp if ctx.home.mp.is_dir() else ctx.home.root
    try:
        usage = shutil.disk_usage(where)
    except OSError as exc:
        problems.append(f"cannot read the free space of {where}: {exc.strerror or exc}")
        return {"path": str(where), "ok": False, "low": True}
    free_mb = usage.free / 1_048_576
    free_pct = 100.0 * usage.free / usage.total if usage.total else 0.0
    shown = f"{free_mb:.0f} MB ({free_pct:.1f}%) free under {where}"
    ok = free_mb >= min_free
    low = not ok or free_pct < warn_pct
    if not ok:
        problems.append(f"only {shown} (min_free_mb {min_free:g}): free some space")
    elif low:
        warnings.append(f"low disk: {shown} (warn_free_pct {warn_pct:g})")
    return {
        "path": str(where),
        "free_bytes": usage.free,
        "total_bytes": usage.total,
        "free_mb": round(free_mb, 1),
        "total_mb": round(usage.total / 1_048_576, 1),
        "free_pct": round(free_pct, 2),
        "min_free_mb": min_free,
        "warn_free_pct": warn_pct,
        "low": low,
        "ok": ok,
    }


def _writable(ctx: RunContext, problems: list[str]) -> dict[str, Any]:
    """Whether a file can be written in ``.mp`` the way amgr writes (atomically)."""
    probe: Path = ctx.home.mp / f".health-{os.getpid()}"
    try:
        atomic_write_bytes(probe, b"ok", durable=False)
    except OSError as exc:  # a StorageError names the file and says "disk full"
        problems.append(
            f"cannot write in {ctx.home.mp}: {exc}: check its permissions and free space"
        )
        return {"path": str(ctx.home.mp), "ok": False}
    with contextlib.suppress(OSError):
        probe.unlink()
    return {"path": str(ctx.home.mp), "ok": True}


def _provider(ctx: RunContext, problems: list[str]) -> tuple[dict[str, Any], bool]:
    """(check result, whether a failure here is transient)."""
    from ..llm.provider import resolve_endpoint, resolve_provider

    llm = ctx.config.llm
    if resolve_provider(llm) == "offline":
        return {"provider": "offline", "ok": True}, False
    import httpx

    endpoint = resolve_endpoint(llm)
    url = endpoint.base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    timeout = _number(ctx, "provider_timeout_s", PROVIDER_TIMEOUT_S)
    info: dict[str, Any] = {"provider": "openai", "url": url, "ok": False}
    try:
        response = httpx.get(url, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        problems.append(
            f"LLM provider at {endpoint.base_url} unreachable: {type(exc).__name__}: {exc}"
        )
        return info, True
    info["status_code"] = response.status_code
    if response.status_code in (401, 403):
        raise AuthError(
            f"LLM provider at {endpoint.base_url} refused the key "
            f"(HTTP {response.status_code}): check ${endpoint.key_env}"
        )
    if response.status_code >= 400:
        problems.append(
            f"LLM provider at {endpoint.base_url} answered HTTP "
            f"{response.status_code} to GET /models"
        )
        return info, response.status_code == 429 or response.status_code >= 500
    info["ok"] = True
    return info, False


def _platforms(ctx: RunContext, problems: list[str]) -> tuple[dict[str, Any], bool]:
    """(each platform's check result, whether every failure among them is transient)."""
    from ..publishers.health import check_platforms

    try:
        results = check_platforms(ctx.workspace, now=ctx.clock)
    except OSError as exc:  # saving the checks failed (full disk): say so, do not crash
        problems.append(f"platform checks not saved: {exc}")
        return {}, False
    transient = True
    for result in results:
        if not result.ok:
            problems.append(f"{result.name}: {result.message}")
            transient = transient and isinstance(result.error, TransientError)
    return {r.name: r.to_json() for r in results}, transient


def health_check(ctx: RunContext) -> Outcome:
    """Disk, home and provider; fails naming every problem found."""
    sleep_s = _number(ctx, "sleep_s", 0)
    if sleep_s and ctx.cancel.wait(sleep_s):
        raise TaskError("health check cancelled while waiting (sleep_s)")
    problems: list[str] = []
    warnings: list[str] = []
    checks: dict[str, Any] = {
        "disk": _disk(ctx, problems, warnings),
        "home": _writable(ctx, problems),
    }
    checks["platforms"], platforms_transient = _platforms(ctx, problems)
    checks["llm"], llm_transient = _provider(ctx, problems)
    if problems:
        text = "health check failed: " + "; ".join(problems)
        local_ok = checks["disk"]["ok"] and checks["home"]["ok"]
        # Worth a retry only when everything that failed is remote and may come back.
        retry = local_ok and platforms_transient and (checks["llm"]["ok"] or llm_transient)
        raise TransientError(text) if retry else TaskError(text)
    disk = checks["disk"]
    summary = (
        f"healthy: {disk['free_mb']:.0f} MB ({disk['free_pct']:.1f}%) free, home writable, "
        f"{plural(len(checks['platforms']), 'platform')} ok, provider {checks['llm']['provider']}"
    )
    if warnings:
        summary += "; warning: " + "; ".join(warnings)
    provider = str(checks["llm"]["provider"])
    return Outcome(RunResult(summary=summary, checks=checks, warnings=warnings), provider=provider)


def actions(ctx: RunContext) -> Outcome:
    """A multi-action task: its ``actions`` in order, as one run (see ``operations``)."""
    from ..operations.actions import run as run_actions

    return run_actions(ctx)


RUNNERS: dict[str, Runner] = {
    "archive_logs": archive_logs,
    "pending_report": pending_report,
    "health_check": health_check,
    "actions": actions,
}


def run(ctx: RunContext) -> Outcome:
    """Run the maintenance chore named by the task's type."""
    return dispatch(RUNNERS, ctx)
