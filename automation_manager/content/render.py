"""Shared rendering: front matter, SRT timestamps, clipped text, and saving an item.

Each kind renders its output model into :class:`Rendered` — the files a person opens
plus a title, metadata and a one-line summary — and :func:`save` turns that into a
content item. File roles are the same across kinds so publishers can find the main
file: ``markdown`` (the piece itself), ``json`` (structured data), plus kind-specific
ones (``srt``, ``script``, ``epub``, ``terms``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..config.models import Config
from ..enums import ContentStatus
from ..results import RunResult
from .store import ContentItem, ContentStore


@dataclass
class Rendered:
    """What a kind produced, ready to store.

    :param files: role → (file name, content).
    """

    title: str
    files: dict[str, tuple[str, str | bytes]]
    summary: str
    meta: dict[str, Any] = field(default_factory=dict)


def status_for(config: Config, *, offline: bool = False) -> ContentStatus:
    """New content waits in ``review`` unless ``auto_approve`` sends it to ``pending``.

    Content the offline provider made (templates, no model) always waits in ``review``
    for a person's ``amgr content approve``, unless ``auto_approve_offline`` (for tests
    and demos) is also on.
    """
    if not config.auto_approve or (offline and not config.auto_approve_offline):
        return ContentStatus.REVIEW
    return ContentStatus.PENDING


def save(
    store: ContentStore,
    kind: str,
    rendered: Rendered,
    *,
    now: datetime,
    status: ContentStatus,
    **fields: Any,
) -> tuple[ContentItem, list[str]]:
    """Create the item; return it and the absolute paths of its files."""
    meta = {**rendered.meta, **fields.pop("meta", {})}
    item = store.create(
        kind, rendered.title, rendered.files, now=now, status=status, meta=meta, **fields
    )
    folder = store.folder(item.id)
    return item, [str(folder / name) for name in item.files.values()]


def result_of(
    item: ContentItem, files: list[str], summary: str, provider: str, **extra: Any
) -> RunResult:
    """The run result every item-making executor returns (``extra``: the kind's own fields)."""
    return RunResult(
        items=1,
        content_id=item.id,
        title=item.title,
        status=item.status.value,
        files=files,
        summary=summary,
        provider=provider,
        **extra,
    )


def yaml_value(value: Any) -> str:
    """A scalar or flat list as YAML that any front-matter parser reads back the same."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def front_matter(fields: dict[str, Any]) -> str:
    """``---``-fenced YAML front matter (strings double-quoted, so ``:`` and ``#`` are safe)."""
    lines = [f"{key}: {yaml_value(value)}" for key, value in fields.items() if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\n"


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def one_line(text: str) -> str:
    """Collapse whitespace (model output may carry stray newlines into a heading)."""
    return " ".join(text.split())


def srt_time(seconds: float) -> str:
    """``75.5`` → ``00:01:15,500``."""
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _balanced(words: list[str], count: int) -> list[list[str]]:
    """``words`` in ``count`` groups of about equal length, in order."""
    target = len(" ".join(words)) / count
    groups: list[list[str]] = [[]]
    size = 0
    for word in words:
        if groups[-1] and size + len(word) / 2 > target and len(groups) < count:
            groups.append([])
            size = 0
        groups[-1].append(word)
        size += len(word) + 1
    return groups


def _lines(words: list[str], width: int) -> list[str]:
    """Balanced lines of at most ``width`` (greedy wrapping when balance cannot fit)."""
    count = math.ceil(len(" ".join(words)) / width)
    rows = [" ".join(g) for g in _balanced(words, max(1, count))]
    if all(len(r) <= width for r in rows):
        return rows
    rows = []
    for word in words:
        if rows and len(rows[-1]) + 1 + len(word) <= width:
            rows[-1] += " " + word
        else:
            rows.append(word)
    return rows


def caption_chunks(text: str, width: int = 42, lines: int = 2) -> list[str]:
    """Narration as caption blocks of about ``lines`` lines of at most ``width`` characters.

    Blocks and their lines are balanced (no one-word orphan at the end), and wrapped at
    word boundaries.
    """
    words = one_line(text).split(" ")
    total = len(" ".join(words))
    if not total:
        return []
    count = max(1, math.ceil(total / (width * lines - 8)))
    return ["\n".join(_lines(group, width)) for group in _balanced(words, count)]


def to_json(data: Any) -> str:
    """Pretty JSON with a trailing newline, for the ``json`` file of an item."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def md_escape(text: str) -> str:
    """Text safe to put inside Markdown link text or a table cell."""
    return re.sub(r"([\[\]|*_`\\])", r"\\\1", one_line(text))


def md_link(text: str, url: str) -> str:
    """``[text](url)`` with the text escaped and spaces and parentheses in the URL encoded."""
    safe = url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{md_escape(text)}]({safe})"
