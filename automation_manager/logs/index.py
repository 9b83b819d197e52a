"""A day's run log as columns: what ``history`` needs of each record, newest first.

Building an index reads every line once. The whole file is decoded in one call by
msgspec into the few fields ``history`` uses, typed; a line that decodes so is a
complete record whose bytes can be printed as they are. Any other line is decoded with
:func:`json.loads` and normalized (and re-encoded on output), and a line that is not a
record at all (a torn last line) is counted as unreadable. The index of a closed day is
kept under ``.mp/automation/logs/.index/`` and used while its log file keeps the same
size and modification time, so a query over a year of logs reads a few bytes per record
instead of decoding it.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import struct
import sys
import zlib
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import compress, count, groupby, islice, repeat
from operator import add, and_, attrgetter, floordiv, itemgetter, le, lshift, or_, rshift, sub
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, TypeVar

import msgspec

from ..enums import Category, RunStatus
from ..fsutil import atomic_write_bytes
from ..tasktypes import REGISTRY
from .kept import VERSION
from .lines import MAX_LINE, line_ends

_MAGIC = b"AMGRIDX\n"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
#: Statuses whose error message counts as an error pattern.
FAILED = frozenset({"failed", "interrupted"})
NO_ERROR = "failed (no error recorded)"
_INT32 = 2**31 - 1
_LOW32 = 2**32 - 1


class _Usage(msgspec.Struct, gc=False):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


if TYPE_CHECKING:
    _Status: TypeAlias = str
    _Category: TypeAlias = str
    _Type: TypeAlias = str
else:  # msgspec gives back these very strings: hashed once, compared by identity
    _Status = Literal[tuple(s.value for s in RunStatus)]
    _Category = Literal[tuple(c.value for c in Category)]
    _Type = Literal[tuple(sorted({t.name for t in REGISTRY}))]


class _Topical(msgspec.Struct, frozen=True, gc=False):
    """What ``history --grep`` reads of a record's params and result (hashable: rows
    are grouped by it)."""

    topic: str | None = None


#: A JSON value but an array (or an object whose topic is not text): what a record's
#: params and result are read as; any other line takes the slow way.
_Part: TypeAlias = _Topical | str | int | float | bool | None


class _Line(msgspec.Struct, gc=False):
    """What ``history`` reads of a record. A line that decodes into it strictly (every
    required field present with its type, a known category, type and status) needs no
    normalizing: its bytes are the record. Other lines take the slow way."""

    timestamp: Annotated[datetime, msgspec.Meta(tz=True)]
    task_id: str
    category: _Category
    type: _Type
    status: _Status
    success: bool
    error: str | None = None
    duration_ms: int = 0
    usage: _Usage | None = None
    params: _Part = None
    result: _Part = None
    process_type: str | None = None


_decoder = msgspec.json.Decoder(_Line)

#: The columns, each one value per record (``rows`` of them) unless noted. The first
#: three are kept beside the header (see :data:`LEAN`); the others are read on first use.
COLUMNS: dict[str, str] = {
    "duration_sorted": "i",  # durations of the rows that ran (not skipped), ascending
    # durations of the rows that ran, grouped by combo (combo 0's first), each group
    # ascending; group ``c`` ends at ``combo_ends[c]`` (one value per combo)
    "combo_durations": "i",
    "combo_ends": "I",
    "start": "q",  # offset of the line in the file's (decompressed) bytes
    "end": "q",
    "start_us": "q",  # the record's start, µs since the epoch (exact: compares instants)
    "status": "B",  # index into ``statuses``
    "duration": "i",  # duration_ms
    "kind": "H",  # index into ``kinds`` (category, type)
    "task": "I",  # index into ``tasks``
    "usage_rows": "I",  # rows with LLM usage, and their sums:
    "prompt": "q",
    "completion": "q",
    "cost": "d",
    "error_rows": "I",  # failed/interrupted rows, and their message (index into ``messages``)
    "error_ids": "I",
    "error_at": "d",  # and their start time (seconds since the epoch)
    "decoded_rows": "I",  # rows not in the record's own shape: re-encode them for output
    "combo": "I",  # index into ``combos`` (status, kind, task)
    "text": "I",  # index into ``texts``
    # the rows grouped by text (text 0's first), each group in row order; group ``t``
    # ends at ``text_ends[t]`` (one value per text)
    "text_rows": "I",
    "text_ends": "I",
    "group": "I",  # index into ``groups`` (combo, text)
    # durations of the rows that ran, grouped by group, each ascending; group ``g`` ends
    # at ``group_ends[g]`` (one value per group)
    "group_durations": "i",
    "group_ends": "I",
}
#: What a query over whole days reads of a kept index besides its header.
LEAN = ("duration_sorted", "combo_durations", "combo_ends")


class Tables(msgspec.Struct, gc=False):
    """The parts of a day's index only row-level and text queries need (read from a kept
    index on first use)."""

    #: the distinct (error, params' topic, result's topic, process type, category)
    texts: list[tuple[str | None, ...]] = msgspec.field(default_factory=list)
    #: the distinct messages of failed runs, and each one's pattern (index into
    #: ``DayIndex.patterns``)
    messages: list[str] = msgspec.field(default_factory=list)
    message_patterns: list[int] = msgspec.field(default_factory=list)
    #: the distinct (combo, text) of the rows, each with the message of its failed rows
    #: (index into ``messages``; -1 when its status is not a failure)
    groups: list[tuple[int, int, int]] = msgspec.field(default_factory=list)
    #: per group: [rows, runs with usage, prompt, completion, cost, newest failed start]
    group_stats: list[list[Any]] = msgspec.field(default_factory=list)


@dataclass
class DayIndex:
    """The columns of one log file; row 0 is its newest record.

    A kept index is read in two steps: its header (tables, sums and the :data:`LEAN`
    columns: all that a query over whole days needs) at once, and the rest — the other
    columns and the :class:`Tables` — each on first use, checked by its own CRC-32.
    """

    rows: int = 0
    unreadable: int = 0
    #: bytes of the file the rows lie in: the largest end (a shorter file has changed)
    covers: int = 0
    statuses: list[str] = field(default_factory=list)
    kinds: list[tuple[str, str]] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    #: per kind: [runs with usage, prompt tokens, completion tokens, cost]
    kind_usage: list[list[Any]] = field(default_factory=list)
    #: the distinct error patterns of the failed runs
    patterns: list[str] = field(default_factory=list)
    #: per pattern: [count, example (the newest message), newest start (epoch seconds),
    #: the example's index into ``messages`` (ties go to the first)]
    pattern_stats: list[list[Any]] = field(default_factory=list)
    #: the distinct (status, kind, task) of the rows, as codes into the tables above
    combos: list[tuple[int, int, int]] = field(default_factory=list)
    #: per combo: [rows, runs with usage, prompt tokens, completion tokens, cost]
    combo_stats: list[list[Any]] = field(default_factory=list)
    #: per (combo, pattern) of failed rows, as for ``pattern_stats``:
    #: [combo, pattern, count, example, newest, example's message index] (a kept index
    #: reads them on first use: see :meth:`errors_by_combo`)
    combo_errors: list[list[Any]] | None = None
    columns: dict[str, array[Any]] = field(default_factory=dict)
    #: where the parts not yet read are (a kept index), see :meth:`col`
    kept: _Kept | None = field(default=None, repr=False)
    _tables: Tables | None = field(default=None, repr=False)
    #: the texts' lower-cased error and topics, for ``grep`` (made on first use)
    hay: tuple[str, list[int]] | None = field(default=None, repr=False)
    #: numbers (1-based) of the lines skipped as longer than ``MAX_LINE`` (not stored)
    long_lines: list[int] = field(default_factory=list)

    def col(self, name: str) -> array[Any]:
        """One column (see :data:`COLUMNS`), read from the kept index on first use."""
        found = self.columns.get(name)
        if found is None:
            if self.kept is None:
                raise KeyError(name)
            found = self.columns[name] = self.kept.column(name)
        return found

    def tables(self) -> Tables:
        """The texts, messages and groups (read from the kept index on first use)."""
        if self._tables is None:
            if self.kept is None:
                raise KeyError("tables")
            self._tables = self.kept.tables()
        return self._tables

    def errors_by_combo(self) -> list[list[Any]]:
        """:attr:`combo_errors` (read from the kept index on first use)."""
        if self.combo_errors is None:
            if self.kept is None:
                raise KeyError("combo_errors")
            self.combo_errors = self.kept.combo_errors()
        return self.combo_errors

    def text_table(self) -> list[tuple[str | None, ...]]:
        """The distinct (error, params' topic, result's topic, process type, category)."""
        return self.tables().texts

    def size(self) -> int:
        """Bytes of the columns read so far (for a cache's budget)."""
        return sum(len(c) * c.itemsize for c in self.columns.values())


#: A log file's bytes: read, or mapped into memory.
Blob = bytes | mmap.mmap


def build_index(data: Blob, decode: Callable[[bytes], dict[str, Any] | None]) -> DayIndex:
    """Index JSON-lines ``data``; ``decode`` turns a line not in amgr's shape into a record."""
    ends = line_ends(data)
    if not ends:
        return _columns([], [], [], [], unreadable=0)
    starts = _starts(ends)
    if max(map(sub, ends, starts)) > MAX_LINE:
        # a line too long to be a record: never decode (or even copy) it
        return _skipping_long_lines(data, starts, ends, decode)
    try:
        recs: list[_Line | None] = list(_decoder.decode_lines(data))
    except msgspec.DecodeError:
        recs = []
    if len(recs) != len(ends) or not _one_object_a_line(data, starts, ends):
        # some line is odd (torn, blank, hand-made): judge each line alone
        recs = [_strict(data[s:e]) for s, e in zip(starts, ends, strict=True)]
    if None not in recs:
        lines: list[_Line] = recs  # type: ignore[assignment]  # no None in it
        return _columns(lines, starts, ends, [], unreadable=0)
    return _one_by_one(data, recs, starts, ends, decode)


def _one_by_one(
    data: Blob,
    recs: list[_Line | None],
    starts: list[int],
    ends: list[int],
    decode: Callable[[bytes], dict[str, Any] | None],
    long_lines: Sequence[int] = (),
) -> DayIndex:
    """The index of lines judged one by one (``recs``: each strictly decoded, or None);
    a line not strictly decoded is decoded with ``decode`` and counts as unreadable if
    that fails too. The lines numbered ``long_lines`` were left out (each unreadable)."""
    lines: list[_Line] = []
    kept_starts: list[int] = []
    stops: list[int] = []
    decoded: list[int] = []
    unreadable = len(long_lines)
    for rec, s, e in zip(recs, starts, ends, strict=True):
        if rec is None:
            line = data[s:e]
            if line.strip():
                rec = _line_of(decode(line))
                if rec is None:
                    unreadable += 1
                else:
                    decoded.append(len(lines))
        if rec is not None:
            lines.append(rec)
            kept_starts.append(s)
            stops.append(e)
    idx = _columns(lines, kept_starts, stops, decoded, unreadable)
    idx.long_lines = list(long_lines)
    return idx


def _skipping_long_lines(
    data: Blob,
    starts: list[int],
    ends: list[int],
    decode: Callable[[bytes], dict[str, Any] | None],
) -> DayIndex:
    """As :func:`build_index` for data with lines over ``MAX_LINE``: those are counted
    as unreadable and listed in ``long_lines``; the others are judged one by one."""
    kept = [(s, e) for s, e in zip(starts, ends, strict=True) if e - s <= MAX_LINE]
    long_lines = [
        n for n, (s, e) in enumerate(zip(starts, ends, strict=True), 1) if e - s > MAX_LINE
    ]
    recs = [_strict(data[s:e]) for s, e in kept]
    return _one_by_one(data, recs, [s for s, _ in kept], [e for _, e in kept], decode, long_lines)


def _starts(ends: list[int]) -> list[int]:
    """Where each line starts: just after the previous one's newline."""
    return [0, *map(add, islice(ends, len(ends) - 1), repeat(1))]


def _one_object_a_line(data: Blob, starts: list[int], ends: list[int]) -> bool:
    """Whether each line starts with ``{`` and ends with ``}``. msgspec reads a stream of
    values, not lines: with as many values as lines, this proves one value a line (a
    value cannot run on into a line that starts with ``{`` and still end with ``}``
    there, as JSON strings hold no raw newline)."""
    firsts = set(map(data.__getitem__, starts))
    lasts = set(map(data.__getitem__, map(sub, ends, repeat(1))))
    return firsts == {0x7B} and lasts == {0x7D}


def _strict(line: bytes) -> _Line | None:
    """``line`` decoded strictly into :class:`_Line`, or None (then decoded the slow way)."""
    try:
        return _decoder.decode(line)
    except msgspec.DecodeError:
        return None


def _line_of(rec: dict[str, Any] | None) -> _Line | None:
    """A normalized record (see ``reader.normalize_record``) as a :class:`_Line`."""
    if rec is None:
        return None
    try:
        when = datetime.fromisoformat(str(rec["timestamp"]))
    except ValueError:
        return None
    usage = rec.get("usage")
    error = rec.get("error")
    return _Line(
        timestamp=when if when.tzinfo is not None else when.astimezone(),
        task_id=str(rec["task_id"]),
        category=str(rec["category"]),
        type=str(rec["type"]),
        status=str(rec["status"]),
        success=bool(rec.get("success")),
        error=None if error is None else str(error),
        duration_ms=_num(rec.get("duration_ms"), int),
        usage=_Usage(*(_num(usage.get(k), t) for k, t in _USAGE_FIELDS))
        if isinstance(usage, dict)
        else None,
        params=_topical(rec.get("params")),
        result=_topical(rec.get("result")),
        process_type=str(rec["process_type"]) if rec.get("process_type") else None,
    )


def _topical(part: Any) -> _Topical | None:
    if not isinstance(part, dict):
        return None
    topic = part.get("topic")
    return _Topical(topic if isinstance(topic, str) else None)


#: What a record is grouped by: its status, kind and task (a combo), then what the text
#: filters read of it: its error, params, result, process type and category.
_GROUP_OF = attrgetter(
    "status", "category", "type", "task_id", "error", "params", "result", "process_type", "category"
)


def _text(key: tuple[Any, ...]) -> tuple[str | None, ...]:
    """A group of :data:`_TEXT_OF` as kept: its error, the topic of its params and of its
    result (when objects), its process type and category."""
    error, params, result, process_type, category = key
    topics = [p.topic if isinstance(p, _Topical) else None for p in (params, result)]
    return (error, *topics, process_type or None, category)


_USAGE_FIELDS = (("prompt_tokens", int), ("completion_tokens", int), ("cost_usd", float))


def _num(value: Any, kind: type[int] | type[float]) -> Any:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return kind(value) if ok else kind()


def _newest_first(keys: list[datetime]) -> list[int] | None:
    """The row order: newest start first (as instants, so a day the clocks go back sorts
    right); equal times keep log order, later line first. None means the lines' own
    order reversed: the usual case, as records are appended as runs start."""
    if all(map(le, keys, islice(keys, 1, None))):
        return None
    # a stable sort of the rows from the last line back keeps later lines first on ties
    return sorted(range(len(keys) - 1, -1, -1), key=keys.__getitem__, reverse=True)


_T = TypeVar("_T")


def _ordered(values: list[_T], order: list[int] | None) -> list[_T]:
    if order is None:
        return values[::-1]
    return list(map(values.__getitem__, order))


def _encode(values: Iterable[Any], table: list[Any]) -> list[int]:
    """Each value as its index in ``table`` (extended with the distinct values)."""
    values = values if isinstance(values, list) else list(values)
    codes: dict[Any, int] = dict.fromkeys(values, 0)
    for code, value in enumerate(codes, len(table)):
        codes[value] = code
        table.append(value)
    return list(map(codes.__getitem__, values))


def code_mask(codes: bytes, wanted: Iterable[int]) -> bytes:
    """``codes`` (one byte a row) as 1 where the code is ``wanted``, else 0."""
    table = bytearray(256)
    for code in wanted:
        table[code] = 1
    return codes.translate(table)


def _fill(col: array[Any], values: Iterable[Any]) -> None:
    """Append ``values`` to ``col``; packed by :mod:`struct`, several times faster than
    ``array.extend`` item by item."""
    items = values if isinstance(values, list) else list(values)
    col.frombytes(struct.pack(f"{len(items)}{col.typecode}", *items))


def _columns(
    lines: list[_Line],
    starts: list[int],
    stops: list[int],
    decoded: Sequence[int],
    unreadable: int,
) -> DayIndex:
    idx = DayIndex(rows=len(lines), unreadable=unreadable, covers=max(stops, default=0))
    tables = idx._tables = Tables()
    cols: dict[str, array[Any]] = {name: array(code) for name, code in COLUMNS.items()}
    keys = list(map(attrgetter("timestamp"), lines))
    order = _newest_first(keys)
    facts = _ordered(lines, order)
    _fill(cols["start"], _ordered(starts, order))
    _fill(cols["end"], _ordered(stops, order))
    since_epoch = map(sub, _ordered(keys, order), repeat(_EPOCH))
    _fill(cols["start_us"], list(map(floordiv, since_epoch, repeat(_US))))
    # status, kind, task and text as one key first: a day has few distinct ones
    groups: list[tuple[Any, ...]] = []
    group_of_row = _encode(list(map(_GROUP_OF, facts)), groups)
    _fill(cols["group"], group_of_row)
    combos: list[tuple[str, str, str, str]] = []
    combo_of_group = _encode([g[:4] for g in groups], combos)
    combo_of_row = list(map(combo_of_group.__getitem__, group_of_row))
    parts: list[list[int]] = []
    for name, table, part in (
        ("status", idx.statuses, itemgetter(0)),
        ("kind", idx.kinds, itemgetter(1, 2)),
        ("task", idx.tasks, itemgetter(3)),
    ):
        code_of = _encode(list(map(part, combos)), table)
        parts.append(code_of)
        _fill(cols[name], map(code_of.__getitem__, combo_of_row))
    idx.combos = list(zip(*parts, strict=True))
    _fill(cols["combo"], combo_of_row)
    texts: list[tuple[Any, ...]] = []
    text_of_group = _encode([g[4:] for g in groups], texts)
    tables.texts = list(map(_text, texts))
    text_of_row = list(map(text_of_group.__getitem__, group_of_row))
    _fill(cols["text"], text_of_row)
    by_text = sorted(range(len(text_of_row)), key=text_of_row.__getitem__)
    _fill(cols["text_rows"], by_text)
    text_sorted = list(map(text_of_row.__getitem__, by_text))
    _fill(cols["text_ends"], [bisect_right(text_sorted, t) for t in range(len(texts))])
    status = cols["status"].tobytes()
    durations = list(map(attrgetter("duration_ms"), facts))
    if durations and (max(durations) > _INT32 or min(durations) < -_INT32):
        durations = [max(-_INT32, min(_INT32, d)) for d in durations]
    _fill(cols["duration"], durations)
    usages = list(map(attrgetter("usage"), facts))
    _fill(cols["usage_rows"], compress(count(), usages))
    with_usage = list(compress(usages, usages))
    _fill(cols["prompt"], map(attrgetter("prompt_tokens"), with_usage))
    _fill(cols["completion"], map(attrgetter("completion_tokens"), with_usage))
    _fill(cols["cost"], map(attrgetter("cost_usd"), with_usage))
    failed = [i for i, name in enumerate(idx.statuses) if name in FAILED]
    ran = [i for i, name in enumerate(idx.statuses) if name != "skipped"]
    bad = list(compress(count(), code_mask(status, failed)))
    _fill(cols["error_rows"], bad)
    bad_lines = list(map(facts.__getitem__, bad))
    messages = tables.messages
    _fill(cols["error_ids"], _encode([line.error or NO_ERROR for line in bad_lines], messages))
    tables.message_patterns = _encode(list(map(error_pattern, messages)), idx.patterns)
    _fill(cols["error_at"], [line.timestamp.timestamp() for line in bad_lines])
    if decoded:
        if order is None:
            last = len(lines) - 1
            rows = sorted(last - i for i in decoded)
        else:
            where = dict(zip(order, count()))
            rows = sorted(map(where.__getitem__, decoded))
        _fill(cols["decoded_rows"], rows)
    ran_mask = code_mask(status, ran)
    ran_durations = list(compress(durations, ran_mask))
    _fill(cols["duration_sorted"], sorted(ran_durations))
    for key, of_row in (("combo", combo_of_row), ("group", group_of_row)):
        # (key, duration) as one int each, sorted: ints sort much faster than pairs
        shifted = map(add, ran_durations, repeat(_INT32 + 1))
        grouped = sorted(map(or_, map(lshift, compress(of_row, ran_mask), repeat(32)), shifted))
        _fill(
            cols[f"{key}_durations"],
            map(sub, map(and_, grouped, repeat(_LOW32)), repeat(_INT32 + 1)),
        )
        key_of = list(map(rshift, grouped, repeat(32)))
        ends = len(combos) if key == "combo" else len(groups)
        _fill(cols[f"{key}_ends"], [bisect_right(key_of, k) for k in range(ends)])
    message_of = {m: i for i, m in enumerate(messages)}
    tables.groups = [
        (c, t, message_of[g[4] or NO_ERROR] if g[0] in FAILED else -1)
        for g, c, t in zip(groups, combo_of_group, text_of_group, strict=True)
    ]
    idx.columns = cols
    _aggregate(idx)
    return idx


def usage_sums(
    idx: DayIndex, chosen: bytearray | None = None, *, by: str = "kind", groups: int = -1
) -> list[list[Any]]:
    """Per-kind ``[runs, prompt, completion, cost]`` of the rows with usage (``chosen``
    ones); or per value of another column ``by`` (of ``groups`` values)."""
    rows: Sequence[int] = idx.col("usage_rows")
    prompt, completion, cost = idx.col("prompt"), idx.col("completion"), idx.col("cost")
    group = idx.col(by)
    sums: list[list[Any]] = [
        [0, 0, 0, 0.0] for _ in range(len(idx.kinds) if groups < 0 else groups)
    ]
    picked: Iterable[int] = range(len(rows))
    if chosen is not None:  # the chosen rows with usage, found in C
        picked = compress(picked, map(chosen.__getitem__, rows))
    # one pass in row order: each group's sums add up exactly as row by row would
    for j in picked:
        one = sums[group[rows[j]]]
        one[0] += 1
        one[1] += prompt[j]
        one[2] += completion[j]
        one[3] += cost[j]
    return sums


def _aggregate(idx: DayIndex) -> None:
    """The whole file's sums: per kind, per (status, kind, task), per (combo, text) and
    per error pattern."""
    tables = idx.tables()
    idx.kind_usage = usage_sums(idx)
    combo, group = idx.col("combo"), idx.col("group")
    per_message: list[list[Any]] = [[m, 0, 0.0] for m in range(len(tables.messages))]
    per_combo: dict[tuple[int, int], list[Any]] = {}
    newest = [0.0] * len(tables.groups)
    for row, eid, at in zip(
        idx.col("error_rows"), idx.col("error_ids"), idx.col("error_at"), strict=True
    ):
        stat = per_message[eid]
        stat[1] += 1
        if at > stat[2]:
            stat[2] = at
        one = per_combo.setdefault((combo[row], eid), [eid, 0, at])
        one[1] += 1
        if at > one[2]:
            one[2] = at
        g = group[row]
        if at > newest[g]:
            newest[g] = at
    idx.pattern_stats = [[0, "", 0.0, -1] for _ in idx.patterns]
    for pattern, (n, example, when, eid) in fold_errors(idx, per_message):
        idx.pattern_stats[idx.patterns.index(pattern)] = [n, example, when, eid]
    idx.combo_errors = []
    for c, mine in groupby(sorted(per_combo.items()), key=lambda kv: kv[0][0]):
        for pattern, (n, example, when, eid) in fold_errors(idx, [s for _, s in mine]):
            idx.combo_errors.append([c, idx.patterns.index(pattern), n, example, when, eid])
    stats = [[0, *sums] for sums in usage_sums(idx, by="combo", groups=len(idx.combos))]
    for c, n in Counter(combo).items():
        stats[c][0] = n
    idx.combo_stats = stats
    group_stats = [
        [0, *sums, when]
        for sums, when in zip(
            usage_sums(idx, by="group", groups=len(tables.groups)), newest, strict=True
        )
    ]
    for g, n in Counter(group).items():
        group_stats[g][0] = n
    tables.group_stats = group_stats


#: One error pattern's count: (pattern, (count, example, newest start, example's index
#: into its day's messages)).
PatternCount: TypeAlias = tuple[str, tuple[int, str, float, int]]


def merge_patterns(counts: Iterable[tuple[str, int, str, float, int]]) -> list[PatternCount]:
    """``(pattern, count, example, newest, example's index)`` of one day, summed per
    pattern: the example is the newest one, the one first in the day's messages on a tie
    (as a row-by-row count would pick it)."""
    out: dict[str, list[Any]] = {}
    for pattern, n, example, when, eid in counts:
        if not n:
            continue
        group = out.get(pattern)
        if group is None:
            out[pattern] = [n, example, when, eid]
        else:
            group[0] += n
            if when > group[2] or (when == group[2] and eid < group[3]):
                group[1:] = example, when, eid
    return [(p, (g[0], g[1], g[2], g[3])) for p, g in out.items()]


def fold_errors(idx: DayIndex, per_message: Iterable[Sequence[Any]]) -> list[PatternCount]:
    """Per-message ``(message index, count, newest start)`` as per-pattern counts (see
    :func:`merge_patterns`)."""
    tables = idx.tables()
    messages, of_message = tables.messages, tables.message_patterns
    return merge_patterns(
        (idx.patterns[of_message[eid]], n, messages[eid], when, eid) for eid, n, when in per_message
    )


# -- kept on disk ------------------------------------------------------------------------


def stamp_of(source: Path) -> tuple[int, int] | None:
    """What identifies a version of a log file: its size and modification time."""
    try:
        st = os.stat(source)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


#: The parts after the header, in file order: the lean columns, the tables, the rest.
_PARTS = (*LEAN, "tables", "combo_errors", *(name for name in COLUMNS if name not in LEAN))


def save_index(path: Path, stamp: tuple[int, int] | None, idx: DayIndex) -> None:
    """Keep ``idx`` for the file version ``stamp`` (taken *before* reading the file, so a
    line appended meanwhile makes the index stale, not wrong). A failure to write only
    costs speed later.

    The file: a magic line; a line with the CRC-32 of the header (8 hex digits) and its
    length; the JSON header (the tables and sums a whole day's query needs, and each
    part's length and CRC-32); then the parts (:data:`_PARTS`): the columns' raw bytes
    and the :class:`Tables` as JSON.
    """
    if stamp is None:
        return
    blobs = {name: idx.col(name).tobytes() for name in COLUMNS}
    blobs["tables"] = msgspec.json.encode(idx.tables())
    blobs["combo_errors"] = msgspec.json.encode(idx.errors_by_combo())
    header = msgspec.json.encode(
        _Header(
            v=VERSION,
            byteorder=sys.byteorder,
            size=stamp[0],
            mtime_ns=stamp[1],
            rows=idx.rows,
            unreadable=idx.unreadable,
            covers=idx.covers,
            statuses=idx.statuses,
            kinds=idx.kinds,
            tasks=idx.tasks,
            kind_usage=idx.kind_usage,
            patterns=idx.patterns,
            pattern_stats=idx.pattern_stats,
            combos=idx.combos,
            combo_stats=idx.combo_stats,
            parts=[(name, len(blobs[name]), zlib.crc32(blobs[name])) for name in _PARTS],
        )
    )
    blob = b"".join(
        (
            _MAGIC,
            b"%08x %d\n" % (zlib.crc32(header), len(header)),
            header,
            *(blobs[name] for name in _PARTS),
        )
    )
    with contextlib.suppress(OSError):  # a cache: without it, queries are only slower
        # not fsynced: after a crash a torn or zeroed index fails its checks and is rebuilt
        atomic_write_bytes(path, blob, private=True, durable=False)


class _Header(msgspec.Struct, gc=False):
    """The header of a kept index (see :func:`save_index`)."""

    v: int
    byteorder: str
    size: int
    mtime_ns: int
    rows: int
    unreadable: int
    covers: int
    statuses: list[str]
    kinds: list[tuple[str, str]]
    tasks: list[str]
    kind_usage: list[list[Any]]
    patterns: list[str]
    pattern_stats: list[list[Any]]
    combos: list[tuple[int, int, int]]
    combo_stats: list[list[Any]]
    parts: list[tuple[str, int, int]]  # name, bytes, CRC-32


_header_decoder = msgspec.json.Decoder(_Header)
_tables_decoder = msgspec.json.Decoder(Tables)
_combo_errors_decoder = msgspec.json.Decoder(list[list[Any]])


class _Kept:
    """The parts of a kept index not read yet: where they are in its file. Each is read
    on first use, alone (a query reads a few of a day's parts: ``--json`` only the
    records' offsets), if it is still the same file, and checked by its CRC-32. A part
    that fails comes from ``rebuild`` instead (the index built again from its log
    file)."""

    def __init__(
        self,
        path: Path,
        version: tuple[int, int, int],
        at: dict[str, tuple[int, int, int]],
        rebuild: Callable[[], DayIndex] | None,
    ) -> None:
        self.path = path
        self.version = version  # inode, size, modification time of the file read
        self.at = at
        self.rebuild = rebuild
        self._rebuilt: DayIndex | None = None

    def part(self, name: str, blob: bytes | None = None) -> bytes | None:
        """A part's bytes (from ``blob``, the file's first bytes, when given), or None
        when they fail their check or the file is no longer the one described."""
        start, size, crc = self.at[name]
        if blob is not None:
            data = blob[start : start + size]
        else:
            data = b""
            with contextlib.suppress(OSError):
                fd = os.open(self.path, os.O_RDONLY)
                try:
                    st = os.fstat(fd)
                    if (st.st_ino, st.st_size, st.st_mtime_ns) == self.version:
                        data = os.pread(fd, size, start)
                finally:
                    os.close(fd)
        return data if len(data) == size and zlib.crc32(data) == crc else None

    def column(self, name: str) -> array[Any]:
        data = self.part(name)
        if data is None:
            return self._fallback().col(name)
        col = array(COLUMNS[name])
        col.frombytes(data)
        return col

    def tables(self) -> Tables:
        data = self.part("tables")
        if data is not None:
            with contextlib.suppress(msgspec.DecodeError):
                return _tables_decoder.decode(data)
        return self._fallback().tables()

    def combo_errors(self) -> list[list[Any]]:
        data = self.part("combo_errors")
        if data is not None:
            with contextlib.suppress(msgspec.DecodeError):
                return _combo_errors_decoder.decode(data)
        return self._fallback().errors_by_combo()

    def _fallback(self) -> DayIndex:
        if self._rebuilt is None:
            if self.rebuild is None:
                raise ValueError("a kept index failed its check")
            self._rebuilt = self.rebuild()
        return self._rebuilt


_CRC_AT = len(_MAGIC)
#: What is read of a kept index at first: its header and lean columns, as a rule.
_FIRST_READ = 1 << 16


def load_index(
    path: Path, source: Path, rebuild: Callable[[], DayIndex] | None = None
) -> DayIndex | None:
    """The kept index of ``source``, or None when missing, stale, torn or unreadable.

    Only the header and the :data:`LEAN` columns are read now; the other parts when
    first used (see :class:`_Kept`; ``rebuild`` makes the index again from ``source``
    should one of them then fail its check).
    """
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            blob = f.read(_FIRST_READ)
            if not blob.startswith(_MAGIC):
                return None
            nl = blob.find(b"\n", _CRC_AT, _CRC_AT + 32)
            crc_text, length_text = blob[_CRC_AT:nl].split(b" ")
            crc, length = int(crc_text, 16), int(length_text)
            at = nl + 1
            if at + length > len(blob):
                blob += f.read(at + length - len(blob))
            header_bytes = blob[at : at + length]
            if len(header_bytes) != length or zlib.crc32(header_bytes) != crc:
                return None
            header = _header_decoder.decode(header_bytes)
            if (
                header.v != VERSION
                or header.byteorder != sys.byteorder
                or (header.size, header.mtime_ns) != stamp_of(source)
                or [name for name, _, _ in header.parts] != list(_PARTS)
            ):
                return None
            where: dict[str, tuple[int, int, int]] = {}
            pos = at + length
            for name, size, part_crc in header.parts:
                where[name] = (pos, size, part_crc)
                pos += size
            if pos != st.st_size:
                return None
            lean_end = max(where[name][0] + where[name][1] for name in LEAN)
            if lean_end > len(blob):
                blob += f.read(lean_end - len(blob))
    except (OSError, ValueError, msgspec.DecodeError):
        return None
    kept = _Kept(path, (st.st_ino, st.st_size, st.st_mtime_ns), where, rebuild)
    idx = DayIndex(
        rows=header.rows,
        unreadable=header.unreadable,
        covers=header.covers,
        statuses=header.statuses,
        kinds=header.kinds,
        tasks=header.tasks,
        kind_usage=header.kind_usage,
        patterns=header.patterns,
        pattern_stats=header.pattern_stats,
        combos=header.combos,
        combo_stats=header.combo_stats,
    )
    for name in LEAN:
        data = kept.part(name, blob)
        if data is None:
            return None
        col = array(COLUMNS[name])
        col.frombytes(data)
        idx.columns[name] = col
    idx.kept = kept
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
