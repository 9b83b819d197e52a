"""A day's run log as columns: what ``history`` needs of each record, newest first.

Building an index reads every line once. A line of amgr's own writer is read in place
with two anchored patterns (its start up to ``params``, its end from ``error``), which
also proves the line complete; any other line is decoded with :func:`json.loads`, and a
line that is not a record (a torn last line) is counted as unreadable. The index of a
closed day is kept under ``.mp/automation/logs/.index/`` and used while its log file
keeps the same size and modification time, so a query over a year of logs reads a few
bytes per record instead of decoding it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import compress, count, islice
from operator import itemgetter, le
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_bytes

VERSION = 2
_MAGIC = b"AMGRIDX\n"
#: Statuses whose error message counts as an error pattern.
FAILED = frozenset({"failed", "interrupted"})
NO_ERROR = "failed (no error recorded)"

_HEAD = re.compile(
    rb'\{"id":"[^"\\]*","timestamp":"([^"\\]+)","task_id":"([^"\\]*)",'
    rb'"category":"([^"\\]*","type":"[^"\\]*)","trigger":"[^"\\]*","attempt":\d+,'
    rb'"scheduled_for":(?:null|"[^"\\]*"),"status":"(\w+)","success":(?:true|false),"params":'
)
_TAIL = re.compile(
    rb',"error":(null|"(?:[^"\\]|\\.)*"),"duration_ms":(-?\d+),"usage":(?:null|\{'
    rb'"prompt_tokens":(\d+),"completion_tokens":(\d+),"cost_usd":([-+.eE\d]+)(?:,[^{}]*)?\}),'
    rb'"provider":(?:null|"[^"\\]*"),"run_id":(?:null|"[^"\\]*")'
    rb'(?:,"\w+":(?:null|true|false|-?[.eE\d]+|"[^"\\]*"))*\}'
)
_INT32 = 2**31 - 1

#: What one line contributes, as raw JSON text: its head (timestamp, task id,
#: ``category","type":"type``, status), its tail (error as a JSON value, duration, and
#: prompt/completion/cost, empty without usage), and where it is.
_Fact = tuple[Any, ...]
_FACT_FIELDS = (
    "key",
    "task",
    "kind",
    "status",
    "error",
    "duration",
    "prompt",
    "completion",
    "cost",
    "start",
    "end",
)
_START = _FACT_FIELDS.index("start")

#: The columns, each one value per record (``rows`` of them) unless noted.
COLUMNS: dict[str, str] = {
    "start": "q",  # offset of the line in the file's (decompressed) bytes
    "end": "q",
    "status": "B",  # index into ``statuses``
    "duration": "i",  # duration_ms
    "kind": "H",  # index into ``kinds`` (category, type)
    "task": "I",  # index into ``tasks``
    "usage_rows": "I",  # rows with LLM usage, and their sums:
    "prompt": "q",
    "completion": "q",
    "cost": "d",
    "error_rows": "I",  # failed/interrupted rows, and their message (index into ``errors``)
    "error_ids": "I",
    "decoded_rows": "I",  # rows not in the writer's own shape: re-encode them for output
    "duration_sorted": "i",  # durations of the rows that ran (not skipped), ascending
}


@dataclass
class DayIndex:
    """The columns of one log file; row 0 is its newest record."""

    rows: int = 0
    unreadable: int = 0
    statuses: list[str] = field(default_factory=list)
    kinds: list[tuple[str, str]] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # distinct messages of failed runs
    error_keys: list[str] = field(default_factory=list)  # timestamp of each error row
    #: per kind: [runs with usage, prompt tokens, completion tokens, cost]
    kind_usage: list[list[Any]] = field(default_factory=list)
    #: per distinct message: [pattern, count, newest timestamp]
    error_stats: list[list[Any]] = field(default_factory=list)
    columns: dict[str, array[Any]] = field(default_factory=dict)
    #: timestamps as written, per row; only when built in this process (not stored)
    keys: list[bytes] | None = None

    def col(self, name: str) -> array[Any]:
        """One column (see :data:`COLUMNS`)."""
        return self.columns[name]


def build_index(data: bytes, decode: Callable[[bytes], dict[str, Any] | None]) -> DayIndex:
    """Index JSON-lines ``data``; ``decode`` turns a line not in amgr's shape into a record."""
    facts: list[_Fact] = []
    decoded: set[int] = set()
    unreadable = 0
    append = facts.append
    find, rfind = data.find, data.rfind
    head_match, tail_match = _HEAD.match, _TAIL.fullmatch
    n = len(data)
    s = 0
    while s < n:
        e = find(b"\n", s)
        if e < 0:
            e = n
        h = head_match(data, s, e)
        if h is not None:
            j = rfind(b',"error":', h.end(), e)
            t = tail_match(data, j, e) if j > 0 else None
            if t is not None:
                append((*h.groups(), *(g or b"" for g in t.groups()), s, e))
                s = e + 1
                continue
        line = data[s:e]
        rec = decode(line) if line.strip() else None
        if rec is not None:
            append(_fact_of(rec, s, e))
            decoded.add(s)
        elif line.strip():
            unreadable += 1
        s = e + 1
    _newest_first(facts)
    return _columns(facts, decoded, unreadable)


def _newest_first(facts: list[_Fact]) -> None:
    """Sort by start time, newest first; equal times keep log order, later line first.

    The timestamps of one file share their UTC offset except on a day the clocks change;
    only then are they compared as instants.
    """
    keys = list(map(itemgetter(0), facts))
    offsets = {key[19:].lstrip(b".0123456789") for key in set(keys)}
    if len(offsets) <= 1:
        if all(map(le, keys, islice(keys, 1, None))):  # in log order: the usual case
            facts.reverse()
        else:
            facts.sort(key=itemgetter(0, _START), reverse=True)
        return

    def instant(fact: _Fact) -> tuple[float, int]:
        try:
            when = datetime.fromisoformat(fact[0].decode())
        except ValueError:
            return (float("-inf"), fact[_START])
        if when.tzinfo is None:
            when = when.astimezone()
        return (when.timestamp(), fact[_START])

    facts.sort(key=instant, reverse=True)


def _fact_of(rec: dict[str, Any], s: int, e: int) -> _Fact:
    """A decoded record as the same raw fields the in-place reading captures."""

    def raw(value: Any) -> bytes:
        return json.dumps(str(value), ensure_ascii=False)[1:-1].encode()

    usage = rec.get("usage")
    u = [b"", b"", b""]
    if isinstance(usage, dict):
        u = [str(_num(usage.get(k), t)).encode() for k, t in _USAGE_FIELDS]
    error = rec.get("error")
    return (
        raw(rec["timestamp"]),
        raw(rec["task_id"]),
        raw(rec["category"]) + b'","type":"' + raw(rec["type"]),
        raw(rec["status"]),
        b"null" if error is None else json.dumps(str(error), ensure_ascii=False).encode(),
        str(_num(rec.get("duration_ms"), int)).encode(),
        *u,
        s,
        e,
    )


_USAGE_FIELDS = (("prompt_tokens", int), ("completion_tokens", int), ("cost_usd", float))


def _num(value: Any, kind: type[int] | type[float]) -> Any:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return kind(value) if ok else kind()


def _text(raw: bytes) -> str:
    """A JSON string's content (without quotes) as text."""
    if b"\\" not in raw:
        return raw.decode("utf-8", errors="replace")
    return str(json.loads(b'"' + raw + b'"'))


def _encode(
    values: Iterable[bytes], table: list[Any], convert: Callable[[bytes], Any]
) -> list[int]:
    """Each value as its index in ``table`` (filled with the converted distinct values)."""
    values = values if isinstance(values, list) else list(values)
    codes: dict[bytes, int] = dict.fromkeys(values, 0)
    for code, value in enumerate(codes, len(table)):
        codes[value] = code
        table.append(convert(value))
    return list(map(codes.__getitem__, values))


def _kind(raw: bytes) -> tuple[str, str]:
    category, _, type_ = raw.partition(b'","type":"')
    return _text(category), _text(type_)


def _error(raw: bytes) -> str:
    return NO_ERROR if raw == b"null" else _text(raw[1:-1]) or NO_ERROR


def _columns(facts: list[_Fact], decoded: set[int], unreadable: int) -> DayIndex:
    idx = DayIndex(rows=len(facts), unreadable=unreadable)
    cols: dict[str, array[Any]] = {name: array(code) for name, code in COLUMNS.items()}
    field_of = {name: itemgetter(i) for i, name in enumerate(_FACT_FIELDS)}
    cols["start"].extend(map(field_of["start"], facts))
    cols["end"].extend(map(field_of["end"], facts))
    status = _encode(map(field_of["status"], facts), idx.statuses, bytes.decode)
    cols["status"].extend(status)
    durations = list(map(int, map(field_of["duration"], facts)))
    if durations and (max(durations) > _INT32 or min(durations) < -_INT32):
        durations = [max(-_INT32, min(_INT32, d)) for d in durations]
    cols["duration"].extend(durations)
    cols["kind"].extend(_encode(map(field_of["kind"], facts), idx.kinds, _kind))
    cols["task"].extend(_encode(map(field_of["task"], facts), idx.tasks, _text))
    used = list(compress(count(), map(field_of["prompt"], facts)))
    with_usage = list(map(facts.__getitem__, used))
    cols["usage_rows"].extend(used)
    cols["prompt"].extend(map(int, map(field_of["prompt"], with_usage)))
    cols["completion"].extend(map(int, map(field_of["completion"], with_usage)))
    cols["cost"].extend(map(float, map(field_of["cost"], with_usage)))
    failed = {i for i, name in enumerate(idx.statuses) if name in FAILED}
    skipped = {i for i, name in enumerate(idx.statuses) if name == "skipped"}
    bad = [row for row, code in enumerate(status) if code in failed]
    cols["error_rows"].extend(bad)
    cols["error_ids"].extend(_encode([facts[row][4] for row in bad], idx.errors, _error))
    idx.error_keys = [_text(facts[row][0]) for row in bad]
    if decoded:
        cols["decoded_rows"].extend(row for row, f in enumerate(facts) if f[_START] in decoded)
    cols["duration_sorted"].extend(
        sorted(d for d, code in zip(durations, status, strict=True) if code not in skipped)
    )
    idx.columns = cols
    idx.keys = list(map(field_of["key"], facts))
    _aggregate(idx)
    return idx


def usage_sums(idx: DayIndex, chosen: bytearray | None = None) -> list[list[Any]]:
    """Per-kind ``[runs, prompt, completion, cost]`` of the rows with usage (``chosen`` ones)."""
    sums: list[list[Any]] = [[0, 0, 0, 0.0] for _ in idx.kinds]
    kind = idx.col("kind")
    cols = zip(
        idx.col("usage_rows"),
        idx.col("prompt"),
        idx.col("completion"),
        idx.col("cost"),
        strict=True,
    )
    for row, prompt, completion, cost in cols:
        if chosen is None or chosen[row]:
            k = sums[kind[row]]
            k[0] += 1
            k[1] += prompt
            k[2] += completion
            k[3] += cost
    return sums


def _aggregate(idx: DayIndex) -> None:
    """The per-kind usage sums and per-message error counts of the whole file."""
    idx.kind_usage = usage_sums(idx)
    idx.error_stats = [[error_pattern(m), 0, ""] for m in idx.errors]
    for eid, key in zip(idx.col("error_ids"), idx.error_keys, strict=True):
        stat = idx.error_stats[eid]
        stat[1] += 1
        if key > stat[2]:
            stat[2] = key


# -- kept on disk ------------------------------------------------------------------------


def index_path(logs_dir: Path, source: Path) -> Path:
    """Where the index of ``source`` (a day's file or its archive) is kept."""
    return logs_dir / ".index" / f"{source.name}.idx"


def stamp_of(source: Path) -> tuple[int, int] | None:
    """What identifies a version of a log file: its size and modification time."""
    try:
        st = os.stat(source)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def save_index(path: Path, stamp: tuple[int, int] | None, idx: DayIndex) -> None:
    """Keep ``idx`` for the file version ``stamp`` (taken *before* reading the file, so a
    line appended meanwhile makes the index stale, not wrong). A failure to write only
    costs speed later."""
    if stamp is None:
        return
    header = {
        "v": VERSION,
        "byteorder": sys.byteorder,
        "size": stamp[0],
        "mtime_ns": stamp[1],
        "rows": idx.rows,
        "unreadable": idx.unreadable,
        "statuses": idx.statuses,
        "kinds": idx.kinds,
        "tasks": idx.tasks,
        "errors": idx.errors,
        "error_keys": idx.error_keys,
        "kind_usage": idx.kind_usage,
        "error_stats": idx.error_stats,
        "columns": [[name, len(idx.columns[name])] for name in COLUMNS],
    }
    parts = [_MAGIC, json.dumps(header, ensure_ascii=False).encode(), b"\n"]
    parts += [idx.columns[name].tobytes() for name in COLUMNS]
    with contextlib.suppress(OSError):  # a cache: without it, queries are only slower
        atomic_write_bytes(path, b"".join(parts), private=True)


def load_index(path: Path, source: Path) -> DayIndex | None:
    """The kept index of ``source``, or None when missing, stale or unreadable."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    if not blob.startswith(_MAGIC):
        return None
    nl = blob.find(b"\n", len(_MAGIC))
    try:
        header = json.loads(blob[len(_MAGIC) : nl])
    except ValueError:
        return None
    if (
        not isinstance(header, dict)
        or header.get("v") != VERSION
        or header.get("byteorder") != sys.byteorder
        or (header.get("size"), header.get("mtime_ns")) != stamp_of(source)
    ):
        return None
    try:
        idx = DayIndex(
            rows=header["rows"],
            unreadable=header["unreadable"],
            statuses=header["statuses"],
            kinds=[(c, t) for c, t in header["kinds"]],
            tasks=header["tasks"],
            errors=header["errors"],
            error_keys=header["error_keys"],
            kind_usage=header["kind_usage"],
            error_stats=header["error_stats"],
        )
        pos = nl + 1
        view = memoryview(blob)
        for name, count in header["columns"]:
            col = array(COLUMNS[name])
            size = count * col.itemsize
            if pos + size > len(blob):
                return None
            col.frombytes(view[pos : pos + size])
            pos += size
            idx.columns[name] = col
    except (KeyError, TypeError, ValueError):
        return None
    if pos != len(blob) or set(idx.columns) != set(COLUMNS):
        return None
    return idx


# -- error patterns -----------------------------------------------------------------------


_TOKENS = re.compile(
    r"(?P<url>https?://[^\s'\"<>]*[^\s'\"<>.,:;!?)\]])"
    r"|(?P<id>\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{8,}\b)"
    r"|(?P<num>(?<![\w.])\d+(?:\.\d+)?)"
)


@lru_cache(maxsize=4096)
def error_pattern(message: str) -> str:
    """``message`` with what varies between similar errors replaced.

    Ids and hashes become ``<id>``, numbers ``<n>`` (HTTP status codes 400-599 stay),
    a URL keeps its host and path but loses its query and numeric path parts.
    """

    def repl(m: re.Match[str]) -> str:
        if m["url"]:
            url = m["url"].split("?", 1)[0].split("#", 1)[0]
            return re.sub(r"(?<=/)[^/]*\d{3,}[^/]*", "<id>", url)
        if m["id"]:
            return "<id>"
        number = m["num"]
        if len(number) == 3 and number[0] in "45":
            return number
        return "<n>"

    text = " ".join(message.split())
    text = _TOKENS.sub(repl, text)
    return text if len(text) <= 160 else text[:159] + "…"
