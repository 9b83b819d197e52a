"""A pipeline's keyword list: import (CSV as SEO tools export it, or text), add, list, disable.

Duplicates are merged on a normal form that folds case, inner whitespace and plurals
(``Tomato Plants`` = ``tomato  plant``); a merge keeps the first spelling and fills in
the volume, difficulty or intent the first one lacked. A malformed CSV line is reported
with its line number and skipped; every good line is kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .store import PipelineDB, now_text

MAX_KEYWORD = 200
MAX_FILE_BYTES = 64 * 1024 * 1024
STATUSES = ("new", "clustered", "disabled")


def singular(word: str) -> str:
    """A crude English singular, enough to merge ``plants``/``plant``, ``boxes``/``box``,
    ``tomatoes``/``tomato``."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "zes", "sses")) or (
        word.endswith("oes") and len(word) > 5  # tomatoes, potatoes, heroes (not shoes)
    ):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def words_of(text: str) -> list[str]:
    """Lowercase words, plurals folded."""
    return [singular(w) for w in _WORD.findall(text.lower())]


def normal_form(keyword: str) -> str:
    """The dedup key: case, whitespace and plural-insensitive."""
    return " ".join(words_of(keyword))


@dataclass
class Keyword:
    keyword: str
    volume: int | None = None
    difficulty: float | None = None
    intent: str | None = None


@dataclass
class ImportSummary:
    """What an import did: ``added`` new, ``merged`` duplicates, ``bad`` lines skipped."""

    read: int = 0
    added: int = 0
    merged: int = 0
    bad: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"read": self.read, "added": self.added, "merged": self.merged, "bad": self.bad}

    def line(self) -> str:
        text = f"{self.read} read, {self.added} added, {self.merged} duplicates merged"
        return text + (f", {len(self.bad)} bad lines skipped" if self.bad else "")


def parse_file(path: Path) -> tuple[list[Keyword], list[str]]:
    """Keywords of a CSV (a header naming ``keyword``) or a text file (one per line).

    :returns: the keywords and one ``FILE:LINE: what — fix`` per bad line.
    :raises UsageError: (exit 2) the file cannot be read, or a CSV without ``keyword``.
    """
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(f"{path}: larger than 64 MiB — split it")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot be read ({exc}) — give a UTF-8 CSV or text file"
        ) from None
    return parse_text(text, str(path))


def parse_text(text: str, name: str) -> tuple[list[Keyword], list[str]]:
    """:func:`parse_file` on text already read."""
    lines = text.splitlines()
    first = lines[0] if lines else ""
    header = [h.strip().lower() for h in next(csv.reader([first]), [])] if first else []
    if "keyword" in header or "keywords" in header:
        return _csv(text, header, name)
    if name.lower().endswith(".csv") and "," in first:
        raise UsageError(f'{name}:1: the header has no keyword column — name the column "keyword"')
    out: list[Keyword] = []
    bad: list[str] = []
    for number, line in enumerate(lines, 1):
        kw = line.strip()
        if not kw or kw.startswith("#"):
            continue
        problem = _keyword_problem(kw)
        if problem:
            bad.append(f"{name}:{number}: {problem}")
            continue
        out.append(Keyword(kw))
    return out, bad


def _csv(text: str, header: list[str], name: str) -> tuple[list[Keyword], list[str]]:
    col = {h: i for i, h in enumerate(header)}
    key = col.get("keyword", col.get("keywords"))
    assert key is not None
    out: list[Keyword] = []
    bad: list[str] = []
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    for row in reader:
        number = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            bad.append(
                f"{name}:{number}: {len(row)} fields where the header has {len(header)} — "
                "quote values that contain commas"
            )
            continue
        kw = row[key].strip()
        problem = _keyword_problem(kw)
        if problem:
            bad.append(f"{name}:{number}: {problem}")
            continue
        try:
            volume = _num(row, col.get("volume") or col.get("search volume"), int)
            difficulty = _num(row, col.get("difficulty") or col.get("kd"), float)
        except ValueError as exc:
            bad.append(f"{name}:{number}: {exc} — use a number or leave it empty")
            continue
        intent_at = col.get("intent")
        intent = row[intent_at].strip().lower() or None if intent_at is not None else None
        out.append(Keyword(kw, volume, difficulty, intent))
    return out, bad


def _num(row: list[str], at: int | None, kind: type[int] | type[float]) -> Any:
    if at is None or not row[at].strip():
        return None
    raw = row[at].strip().replace(",", "")
    try:
        return kind(float(raw)) if kind is int else kind(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a number") from None


def _keyword_problem(kw: str) -> str | None:
    if not kw:
        return "empty keyword — give the keyword text"
    if len(kw) > MAX_KEYWORD:
        return f"keyword longer than {MAX_KEYWORD} characters — shorten it"
    if not normal_form(kw):
        return f"{kw!r} has no letters or digits — give a real keyword"
    return None


def store_keywords(
    db: PipelineDB, task_id: str, found: list[Keyword], now: datetime
) -> ImportSummary:
    """Add ``found`` to the task's list in one transaction, merging duplicates."""
    summary = ImportSummary(read=len(found))
    stamp = now_text(now)
    with db.tx() as conn:
        known = {
            r[0] for r in conn.execute("SELECT norm FROM pl_keywords WHERE task_id = ?", (task_id,))
        }
        for kw in found:
            norm = normal_form(kw.keyword)
            if norm in known:
                summary.merged += 1
                conn.execute(
                    "UPDATE pl_keywords SET volume = coalesce(volume, ?), "
                    "difficulty = coalesce(difficulty, ?), intent = coalesce(intent, ?) "
                    "WHERE task_id = ? AND norm = ?",
                    (kw.volume, kw.difficulty, kw.intent, task_id, norm),
                )
                continue
            known.add(norm)
            summary.added += 1
            conn.execute(
                "INSERT INTO pl_keywords(task_id, keyword, norm, volume, difficulty, intent, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (task_id, kw.keyword, norm, kw.volume, kw.difficulty, kw.intent, stamp),
            )
    return summary


def list_keywords(db: PipelineDB, task_id: str, status: str | None = None) -> list[dict[str, Any]]:
    sql = (
        "SELECT keyword, volume, difficulty, intent, status, cluster_id FROM pl_keywords "
        "WHERE task_id = ?"
    )
    args: tuple[Any, ...] = (task_id,)
    if status:
        sql += " AND status = ?"
        args += (status,)
    return db.rows(sql + " ORDER BY id", args)


def disable_keyword(db: PipelineDB, task_id: str, keyword: str) -> int:
    """Take a keyword out of later runs (a cluster it is in keeps it); the count changed."""
    norm = normal_form(keyword)
    with db.tx() as conn:
        cur = conn.execute(
            "UPDATE pl_keywords SET status = 'disabled' WHERE task_id = ? AND norm = ?",
            (task_id, norm),
        )
        return int(cur.rowcount)
