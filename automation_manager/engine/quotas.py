"""Daily quotas: ``max_daily_content`` and ``max_daily_ebooks`` per local day.

Counted from today's run log, so they survive restarts and hold across processes.
"""

from __future__ import annotations

from datetime import datetime

from ..config import Workspace
from ..enums import Category, RunStatus
from ..errors import SkipRun
from ..logs.reader import day_records


def content_made_today(ws: Workspace, now: datetime) -> tuple[int, int]:
    """(content items, ebooks) made by successful content-creation runs today."""
    content = ebooks = 0
    for rec in day_records(ws.home, now.date()):
        if (
            rec.get("category") != Category.CONTENT_CREATION
            or rec.get("status") != RunStatus.SUCCESS
        ):
            continue
        result = rec.get("result")
        items = result.get("items", 1) if isinstance(result, dict) else 1
        count = items if isinstance(items, int) else 1
        content += count
        if rec.get("type") == "ebook":
            ebooks += count
    return content, ebooks


def check_quota(ws: Workspace, category: Category, type_: str, now: datetime) -> None:
    """Raise :class:`SkipRun` when this content-creation run would pass a daily limit."""
    if category is not Category.CONTENT_CREATION:
        return
    content, ebooks = content_made_today(ws, now)
    cfg = ws.config
    if content >= cfg.max_daily_content:
        raise SkipRun(
            f"max_daily_content reached: {content} of {cfg.max_daily_content} content items "
            f"made today ({now.date()}); raise max_daily_content in config.json or wait "
            "until tomorrow"
        )
    if type_ == "ebook" and ebooks >= cfg.max_daily_ebooks:
        raise SkipRun(
            f"max_daily_ebooks reached: {ebooks} of {cfg.max_daily_ebooks} ebooks made today "
            f"({now.date()}); raise max_daily_ebooks in config.json or wait until tomorrow"
        )
