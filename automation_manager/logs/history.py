"""``amgr history`` as a library: which records match a query, and what they add up to.

A query looks back ``days`` days from ``now`` (a rolling window, not calendar days) and
reads only the files dated inside it. Records come newest first. The summary counts
every matching record, also when the caller shows only the newest few.
"""

from __future__ import annotations

import contextlib
import re
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import accumulate, chain, compress
from typing import Any, overload

from ..enums import Category
from ..errors import UsageError
from ..home import Home
from ..tasktypes import REGISTRY
from .index import (
    FAILED,
    DayIndex,
    PatternCount,
    code_mask,
    fold_errors,
    merge_patterns,
    usage_sums,
)
from .reader import Day, LogFile, iter_days, log_files
from .summary import (
    DayTotals,
    Durations,
    ErrorPattern,
    Filters,
    HistorySummary,
    Tokens,
    TypeTotals,
)

TOP_ERRORS = 5
STATUSES = ("success", "failed", "interrupted", "skipped")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def parse_when(text: str, now: datetime, flag: str) -> datetime:
    """A ``--since``/``--until`` value as a time: ``2026-11-30`` (local midnight), an ISO
    time (``2026-11-30T09:00``, local when it names no offset) or an age (``2h``, ``3d``,
    ``1h30m``: that long before ``now``).

    :raises UsageError: (exit 2) naming the flag, for anything else.
    """
    from ..scheduling.durations import parse_duration
    from ..scheduling.errors import ScheduleSpecError

    tz = now.tzinfo or now.astimezone().tzinfo
    value = text.strip()
    try:
        if _DATE.match(value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tz)
        when = datetime.fromisoformat(value)
        return when if when.tzinfo is not None else when.replace(tzinfo=tz)
    except ValueError:
        pass
    try:
        if value and value[-1:].isalpha():
            return now - parse_duration(value, field=flag)
    except (ScheduleSpecError, OverflowError):
        pass
    raise UsageError(
        f"{flag} {text!r}: not a date, time or age — write e.g. 2026-11-30, "
        "2026-11-30T09:00 or 2h, 3d"
    )


def record_process_type(rec: dict[str, Any]) -> str:
    """A record's process type; records from before the field get their category's."""
    from ..enums import DEFAULT_PROCESS_TYPE, Category

    given = rec.get("process_type")
    if given:
        return str(given)
    try:
        return DEFAULT_PROCESS_TYPE[Category(str(rec.get("category")))].value
    except ValueError:
        return "maintenance"


def grep_matches(rec: dict[str, Any], needle: str) -> bool:
    """True when ``needle`` (lower case) is in the record's error or topic."""
    hay = [rec.get("error")]
    for part in (rec.get("params"), rec.get("result")):
        if isinstance(part, dict):
            hay.append(part.get("topic"))
    return any(isinstance(h, str) and needle in h.lower() for h in hay)


@dataclass(frozen=True)
class OptionNames:
    """How a caller names the options of a :class:`HistoryQuery` in messages.

    :param names: field -> name (``task_id`` -> ``--task``); a field not named is
        called by its own name.
    :param flags: the CLI's style (``--days 0``); else a query string's (``days=0``).
    """

    names: dict[str, str]
    flags: bool

    def of(self, name: str) -> str:
        return self.names.get(name, name)

    def value(self, name: str, value: Any) -> str:
        return f"{self.of(name)} {value!r}" if self.flags else f"{self.of(name)}={value}"


#: ``amgr history``'s flags.
CLI_FLAGS = OptionNames(
    {
        "days": "--days",
        "since": "--since",
        "until": "--until",
        "status": "--status",
        "grep": "--grep",
        "category": "--category",
        "type": "--type",
        "task_id": "--task",
        "success_only": "--success-only",
        "failed_only": "--failed-only",
        "process_type": "--process-type",
    },
    flags=True,
)


@dataclass(frozen=True)
class HistoryQuery:
    """Which records to read.

    :param days: look back this many days from now (at least 1).
    :param category: only this category (``content_creation``, ``publishing``, ...).
    :param type: only this task type (``blog``, ``sales_report``, ...).
    :param task_id: only this task.
    :param success_only: only successful runs.
    :param failed_only: only runs that failed or were interrupted (not skipped ones).
    :param since: only records at or after this time (instead of ``days``).
    :param until: only records before this time.
    :param status: only records with this status (``success``, ``failed``, ...).
    :param grep: only records whose error or topic holds this text (any case).
    :param process_type: only records of this process type (``maintenance``, ...; a
        record without one has its category's).
    :raises UsageError: for days < 1, both status filters, or an unknown category/type.
    """

    days: int = 7
    category: str | None = None
    type: str | None = None
    task_id: str | None = None
    success_only: bool = False
    failed_only: bool = False
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    grep: str | None = None
    process_type: str | None = None

    #: how the options are named in messages (the CLI's flags, or the page's parameters)
    names: OptionNames | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_options(
        cls,
        now: datetime,
        names: OptionNames | None = None,
        *,
        since: str | None = None,
        until: str | None = None,
        **filters: Any,
    ) -> HistoryQuery:
        """The query of the options as the user wrote them, for the CLI's flags and the
        History page's parameters alike: ``since``/``until`` as text (see
        :func:`parse_when`), the other fields as typed; messages name each option as
        ``names`` says (the CLI's flags by default).

        :raises UsageError: (exit 2) naming the option, for any bad value.
        """
        names = names or CLI_FLAGS
        return cls(
            since=parse_when(since, now, names.of("since")) if since else None,
            until=parse_when(until, now, names.of("until")) if until else None,
            names=names,
            **filters,
        )

    def __post_init__(self) -> None:
        from ..enums import ProcessType

        n = self.names or CLI_FLAGS
        kinds = [p.value for p in ProcessType]
        if self.process_type is not None and self.process_type not in kinds:
            raise UsageError(
                f"{n.value('process_type', self.process_type)}: unknown; use one of: "
                + ", ".join(kinds)
            )
        if self.status is not None and self.status not in STATUSES:
            raise UsageError(
                f"{n.value('status', self.status)}: not a record status — use one of: "
                + ", ".join(STATUSES)
            )
        if self.status is not None and (self.success_only or self.failed_only):
            raise UsageError(
                f"{n.of('status')} and {n.of('success_only')}/{n.of('failed_only')} "
                "exclude each other"
            )
        if self.since and self.until and self.since >= self.until:
            raise UsageError(
                f"{n.of('since')}/{n.of('until')}: {n.of('since')} must be before {n.of('until')}"
            )
        if self.days < 1:
            raise UsageError(f"{n.value('days', self.days)}: must be 1 or more, e.g. --days 7")
        if self.success_only and self.failed_only:
            raise UsageError(
                f"{n.of('success_only')} and {n.of('failed_only')} exclude each other: use one"
            )
        categories = [c.value for c in Category]
        if self.category is not None and self.category not in categories:
            raise UsageError(
                f"{n.value('category', self.category)}: unknown category; use one of: "
                + ", ".join(categories)
            )
        if self.type is not None:
            cats = [Category(self.category)] if self.category else list(Category)
            types = sorted({t for c in cats for t in REGISTRY.names(c)})
            if self.type not in types:
                where = f" in {self.category}" if self.category else ""
                raise UsageError(
                    f"{n.value('type', self.type)}: unknown type{where}; use one of: "
                    + ", ".join(types)
                )

    def window(self, now: datetime) -> datetime:
        """The earliest start time that is still inside the window."""
        return self.since if self.since is not None else now - timedelta(days=self.days)

    def matches(self, rec: dict[str, Any]) -> bool:
        """True when one decoded record passes every filter but the time window."""
        status = rec.get("status")
        kinds = (self.category, rec.get("category")), (self.type, rec.get("type"))
        return (
            all(want in (None, got) for want, got in kinds)
            and self.task_id in (None, rec.get("task_id"))
            and (not self.success_only or status == "success")
            and (not self.failed_only or status in FAILED)
            and self.status in (None, status)
            and (not self.grep or grep_matches(rec, self.grep.lower()))
            and (self.process_type is None or record_process_type(rec) == self.process_type)
        )

    def filters(self) -> Filters:
        status = "success" if self.success_only else "failed" if self.failed_only else self.status
        return Filters(category=self.category, type=self.type, task_id=self.task_id, status=status)


class HistoryScan:
    """One pass over the log: iterate it for ``(day, rows)``, then ask for :meth:`summary`.

    ``rows`` are the matching row numbers of that day's file (newest first), or None when
    every row matches. The summary is complete once iteration has finished.

    :param data: read every file's bytes ahead (for callers that print every record).
    """

    def __init__(
        self, home: Home, query: HistoryQuery, now: datetime, *, data: bool = False
    ) -> None:
        if now.tzinfo is None:
            now = now.astimezone()
        self.home = home
        self.query = query
        self.now = now
        self.since = query.window(now)
        self.data = data
        self.totals = Totals(now.tzinfo)
        self._listed: list[LogFile] | None = None

    def _files(self) -> list[LogFile]:
        """The log files the scan reads (listed once)."""
        if self._listed is None:
            # a file is named by the local date in its records' own offset: a day of margin
            self._listed = log_files(self.home, self.since.date() - timedelta(days=1))
        return self._listed

    def log_bytes(self) -> int:
        """The size on disk of the log files the scan reads (archives compressed)."""
        total = 0
        for file in self._files():
            with contextlib.suppress(OSError):
                total += file.path.stat().st_size
        return total

    def __iter__(self) -> Iterator[tuple[Day, Sequence[int] | None]]:
        since_day = self.since.date()
        # a file is named by the local date in its records' own offset: one day of margin
        boundary = since_day + timedelta(days=1)
        last_day = self.query.until.date() + timedelta(days=1) if self.query.until else None
        for day in iter_days(
            self.home, since_day - timedelta(days=1), self.now, data=self.data, files=self._files()
        ):
            if last_day is not None and day.file.day > last_day:
                continue
            self.totals.files += 1
            self.totals.unreadable += day.index.unreadable
            rows = self._select(day, day.file.day <= boundary)
            if len(_all(day.index, rows)):
                if isinstance(rows, GroupRows):
                    self.totals.add_groups(day, rows)
                else:
                    self.totals.add(day, rows)
                yield day, rows

    def _select(self, day: Day, boundary: bool) -> Sequence[int] | None:
        q = self.query
        idx = day.index
        # a file holds the starts of one local day: only the window's first days and the
        # days about --until's need each row's time (two days of margin for any offset)
        near_until = q.until is not None and day.file.day >= q.until.date() - timedelta(days=2)
        timed = boundary or near_until
        grouped = q.success_only or q.failed_only or q.status or q.category or q.type
        if not timed and not (grouped or q.task_id or q.grep or q.process_type):
            return None
        if not timed:
            # whole groups match: (status, kind, task) ones when no text filter is given,
            # else (combo, text) ones; their sums are in the index, and the rows
            # themselves are listed only if asked for
            combos = [c for c, combo in enumerate(idx.combos) if self._combo_matches(idx, combo)]
            if not q.grep and not q.process_type:
                if len(combos) == len(idx.combos):
                    return None
                return GroupRows(idx, "combo", combos, idx.combo_stats)
            combo_ok = bytearray(len(idx.combos))
            for c in combos:
                combo_ok[c] = 1
            text_ok = self._texts_matching(idx)
            tables = idx.tables()
            groups = [g for g, (c, t, _) in enumerate(tables.groups) if combo_ok[c] and text_ok[t]]
            if len(groups) == len(tables.groups):
                return None
            return GroupRows(idx, "group", groups, tables.group_stats)
        rows: Sequence[int] | None = None
        if q.success_only or q.failed_only or q.status:
            rows = _rows_with_status(idx, self._statuses())
        if q.category is not None or q.type is not None:
            kinds = {
                i
                for i, (c, t) in enumerate(idx.kinds)
                if q.category in (None, c) and q.type in (None, t)
            }
            kind = idx.col("kind")
            rows = [i for i in _all(idx, rows) if kind[i] in kinds]
        if q.task_id is not None:
            wanted = idx.tasks.index(q.task_id) if q.task_id in idx.tasks else -1
            task = idx.col("task")
            rows = [i for i in _all(idx, rows) if task[i] == wanted]
        if q.grep or q.process_type:
            texts = self._texts_matching(idx)
            by_text, ends = idx.col("text_rows"), idx.col("text_ends")
            picked = sorted(
                chain.from_iterable(
                    by_text[ends[t - 1] if t else 0 : ends[t]]
                    for t in compress(range(len(texts)), texts)
                )
            )
            if rows is None:
                rows = picked
            else:
                keep = bytearray(idx.rows)
                for i in picked:
                    keep[i] = 1
                rows = [i for i in rows if keep[i]]
        if timed:
            at = day.starts_us()
            since = self._since_us if boundary else -(2**63)
            until = (q.until - _EPOCH) // _US if q.until is not None else 2**63
            rows = [i for i in _all(idx, rows) if since <= at[i] < until]
        return rows

    def _texts_matching(self, idx: DayIndex) -> bytearray:
        """One byte per entry of ``idx.text_table()``: 1 where its records pass the text
        filters (``grep``, ``process_type``)."""
        q = self.query
        out = bytearray(b"\x01") * len(idx.text_table())
        if q.grep:
            needle = q.grep.lower()
            hay, ends = _grep_hay(idx)
            found = bytearray(len(idx.text_table()))
            if "\x00" in needle:  # could match across the NULs joining the texts
                for i, text in enumerate(idx.text_table()):
                    found[i] = any(h is not None and needle in h.lower() for h in text[:3])
            else:
                pos = hay.find(needle)
                while pos >= 0:
                    i = bisect_right(ends, pos)
                    found[i] = 1
                    pos = hay.find(needle, ends[i] + 1)
            out = found
        if q.process_type is not None:
            for i, text in enumerate(idx.text_table()):
                rec = {"process_type": text[3], "category": text[4]}
                if out[i] and record_process_type(rec) != q.process_type:
                    out[i] = 0
        return out

    @property
    def _since_us(self) -> int:
        return (self.since - _EPOCH) // _US

    def _statuses(self) -> set[str] | None:
        q = self.query
        if q.success_only:
            return {"success"}
        if q.failed_only:
            return set(FAILED)
        return {q.status} if q.status else None

    def _combo_matches(self, idx: DayIndex, combo: tuple[int, int, int]) -> bool:
        q = self.query
        status, kind, task = combo
        category, type_ = idx.kinds[kind]
        statuses = self._statuses()
        return (
            (statuses is None or idx.statuses[status] in statuses)
            and q.category in (None, category)
            and q.type in (None, type_)
            and q.task_id in (None, idx.tasks[task])
        )

    def summary(self) -> HistorySummary:
        """The totals of every record yielded so far (``--json``: its ``to_json()``)."""
        until = self.query.until or self.now
        days = self.query.days
        if self.query.since is not None:  # the window's length, whole days rounded up
            days = max(1, -(-(until - self.since) // timedelta(days=1)))
        return self.totals.summary(
            since=self.since.isoformat(timespec="seconds"),
            until=until.isoformat(timespec="seconds"),
            days=days,
            filters=self.query.filters(),
        )


def _grep_hay(idx: DayIndex) -> tuple[str, list[int]]:
    """The lower-cased error and topics of each of ``idx.text_table()``, joined by NUL
    into one string (a needle without NUL never matches across two of them), and where
    each text ends in it (kept with the index)."""
    if idx.hay is not None:
        return idx.hay
    parts = ["\x00".join(h.lower() for h in text[:3] if h is not None) for text in idx.text_table()]
    ends = list(accumulate(map(len, parts), lambda a, n: a + n + 1, initial=-1))[1:]
    idx.hay = ("\x00".join(parts), ends)
    return idx.hay


def _all(idx: DayIndex, rows: Sequence[int] | None) -> Sequence[int]:
    return range(idx.rows) if rows is None else rows


class GroupRows(Sequence[int]):
    """The rows (newest first) of some of a day's groups: its (status, kind, task)
    groups (``by`` ``"combo"``) or its (combo, text) ones (``"group"``). How many is known
    from the index (``stats``, one per group, rows first); which ones is worked out on
    first use (a page of history looks at the rows of a few days only)."""

    def __init__(self, idx: DayIndex, by: str, chosen: list[int], stats: list[list[Any]]) -> None:
        self.idx = idx
        self.by = by
        self.chosen = chosen
        self._len = int(sum(stats[g][0] for g in chosen))
        self._groups = len(stats)
        self._rows: list[int] | None = None

    def _listed(self) -> list[int]:
        if self._rows is None:
            column = self.idx.col(self.by)
            wanted = bytearray(self._groups)
            for g in self.chosen:
                wanted[g] = 1
            mask = bytes(map(wanted.__getitem__, column))
            self._rows = list(compress(range(self.idx.rows), mask))
        return self._rows

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, i: int) -> int: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[int]: ...
    def __getitem__(self, i: int | slice) -> int | Sequence[int]:
        if isinstance(i, slice) and not range(self._len)[i]:
            return []  # (a page already full takes no rows from here: none listed)
        return self._listed()[i]

    def __iter__(self) -> Iterator[int]:
        return iter(self._listed())


def _rows_with_status(idx: DayIndex, wanted: Iterable[str] | None) -> Sequence[int] | None:
    if wanted is None:
        return None
    codes = [i for i, s in enumerate(idx.statuses) if s in wanted]
    if len(codes) == len(idx.statuses):
        return None
    return list(compress(range(idx.rows), code_mask(idx.col("status").tobytes(), codes)))


class Totals:
    """Running sums over records: counts, durations, tokens, cost, errors, per day/type.

    A whole file adds its index's own sums; a selection of rows adds row by row.
    """

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz  # for the times shown (last_seen)
        self.files = 0
        self.unreadable = 0
        self.by_status: Counter[str] = Counter()
        self.durations: list[array[int]] = []  # sorted chunks, one per file
        self.per_day: dict[date, list[Any]] = {}
        self.per_kind: dict[tuple[str, str], list[Any]] = {}
        self.patterns: dict[str, list[Any]] = {}  # pattern: [count, example, newest]

    def add_groups(self, day: Day, rows: GroupRows) -> None:
        """Count the rows of some of one day's groups (see :class:`GroupRows`) from the
        sums its index holds for each group."""
        idx = day.index
        counts: Counter[str] = Counter()
        usage: dict[int, list[Any]] = {}
        chunk: list[int] = []
        by_combo = rows.by == "combo"
        if by_combo:
            stats = idx.combo_stats
            combo_of = range(len(idx.combos))
        else:
            tables = idx.tables()
            stats = tables.group_stats
            combo_of = [c for c, _, _ in tables.groups]  # type: ignore[assignment]
        ends = idx.col(f"{rows.by}_ends")
        durations = idx.col(f"{rows.by}_durations")
        for g in rows.chosen:
            status, kind, _ = idx.combos[combo_of[g]]
            n_rows, n, prompt, completion, cost = stats[g][:5]
            counts[idx.statuses[status]] += n_rows
            chunk.extend(durations[ends[g - 1] if g else 0 : ends[g]])
            if n:
                k = usage.setdefault(kind, [0, 0, 0, 0.0])
                k[0] += n
                k[1] += prompt
                k[2] += completion
                k[3] += cost
        chunk.sort()
        self.durations.append(array("i", chunk))
        errors: list[PatternCount]
        if by_combo:
            chosen = set(rows.chosen)
            errors = merge_patterns(
                (idx.patterns[pattern], n, example, newest, eid)
                for combo, pattern, n, example, newest, eid in idx.errors_by_combo()
                if combo in chosen
            )
        else:
            per_message: dict[int, list[Any]] = {}
            for g in rows.chosen:
                eid = tables.groups[g][2]
                if eid < 0:
                    continue
                stat = per_message.setdefault(eid, [eid, 0, 0.0])
                stat[1] += stats[g][0]
                stat[2] = max(stat[2], stats[g][5])
            errors = fold_errors(idx, sorted(per_message.values()))
        self._add_sums(day, +counts, sorted(usage.items()), errors)

    def add(self, day: Day, rows: Sequence[int] | None) -> None:
        """Count one day's rows (None: all of them)."""
        idx = day.index
        if rows is None:
            counts: Counter[str] = Counter()
            for (code, _, _), stat in zip(idx.combos, idx.combo_stats, strict=True):
                counts[idx.statuses[code]] += stat[0]
            self.durations.append(idx.col("duration_sorted"))
            whole = [
                (p, (stat[0], stat[1], stat[2], stat[3]))
                for p, stat in zip(idx.patterns, idx.pattern_stats, strict=True)
                if stat[0]
            ]
            self._add_sums(day, +counts, enumerate(idx.kind_usage), whole)
            return
        if len(rows) * 16 < idx.rows:
            self._add_few(day, rows)
            return
        status = idx.col("status")
        chosen = bytearray(idx.rows)
        for i in rows:
            chosen[i] = 1
        picked = list(compress(status, chosen))
        counts = Counter({s: picked.count(i) for i, s in enumerate(idx.statuses)})
        ran = code_mask(status.tobytes(), [i for i, s in enumerate(idx.statuses) if s != "skipped"])
        both = (int.from_bytes(ran, "little") & int.from_bytes(chosen, "little")).to_bytes(
            idx.rows, "little"
        )
        self.durations.append(array("i", sorted(compress(idx.col("duration"), both))))
        usage = enumerate(usage_sums(idx, chosen))
        self._add_sums(day, +counts, usage, fold_errors(idx, _errors_of(idx, chosen)))

    def _add_few(self, day: Day, rows: Sequence[int]) -> None:
        """As :meth:`add` for a few of a day's rows: each row looked up in the columns
        (sums add up in the same order as for many rows)."""
        idx = day.index
        status, duration, kind = idx.col("status"), idx.col("duration"), idx.col("kind")
        skipped = idx.statuses.index("skipped") if "skipped" in idx.statuses else -1
        counts = Counter(idx.statuses[status[i]] for i in rows)
        self.durations.append(array("i", sorted(duration[i] for i in rows if status[i] != skipped)))
        ordered = sorted(rows)
        usage: dict[int, list[Any]] = {}
        used, prompt, completion, cost = (
            idx.col(n) for n in ("usage_rows", "prompt", "completion", "cost")
        )
        for j in _found(used, ordered):
            k = usage.setdefault(kind[used[j]], [0, 0, 0, 0.0])
            k[0] += 1
            k[1] += prompt[j]
            k[2] += completion[j]
            k[3] += cost[j]
        errors: dict[int, list[Any]] = {}
        bad, eids, ats = idx.col("error_rows"), idx.col("error_ids"), idx.col("error_at")
        for j in _found(bad, ordered):
            stat = errors.setdefault(eids[j], [eids[j], 0, ats[j]])
            stat[1] += 1
            if ats[j] > stat[2]:
                stat[2] = ats[j]
        folded = fold_errors(idx, sorted(errors.values()))
        self._add_sums(day, +counts, sorted(usage.items()), folded)

    def _add_sums(
        self,
        day: Day,
        counts: Counter[str],
        usage: Iterable[tuple[int, list[Any]]],
        errors: Iterable[PatternCount],
    ) -> None:
        """Add one day's status counts, per-kind usage and per-pattern ``(pattern, (count,
        example, newest, example's index))`` error counts."""
        idx = day.index
        self.by_status.update(counts)
        sums = self.per_day.setdefault(day.file.day, [0, 0, 0, 0, 0.0])
        sums[0] += sum(counts.values())
        sums[1] += counts["failed"] + counts["interrupted"]
        for kind, (n, prompt, completion, cost) in usage:
            if not n:
                continue
            k = self.per_kind.setdefault(idx.kinds[kind], [0, 0, 0, 0.0])
            for i, value in enumerate((n, prompt, completion, cost)):
                k[i] += value
            sums[2] += prompt
            sums[3] += completion
            sums[4] += cost
        for pattern, (count, message, newest, _) in errors:
            group = self.patterns.setdefault(pattern, [0, message, newest])
            group[0] += count
            if newest > group[2]:
                group[1], group[2] = message, newest

    def summary(self, *, since: str, until: str, days: int, filters: Filters) -> HistorySummary:
        """The totals as the summary of a query over ``days`` from ``since`` to ``until``."""
        runs = sum(self.by_status.values())
        ran = runs - self.by_status["skipped"]
        prompt = sum(s[2] for s in self.per_day.values())
        completion = sum(s[3] for s in self.per_day.values())
        chunks = [c for c in self.durations if c]
        return HistorySummary(
            since=since,
            until=until,
            days=days,
            filters=filters,
            runs=runs,
            by_status={k: self.by_status[k] for k in sorted(self.by_status)},
            success_rate=round(self.by_status["success"] / ran, 4) if ran else None,
            duration_ms=Durations(
                p50=percentile(chunks, 50),
                p95=percentile(chunks, 95),
                max=max(c[-1] for c in chunks) if chunks else None,
            ),
            tokens=Tokens(prompt=prompt, completion=completion, total=prompt + completion),
            cost_usd=round(sum(s[4] for s in self.per_day.values()), 6),
            per_day={
                d.isoformat(): DayTotals(
                    runs=s[0],
                    failed=s[1],
                    prompt_tokens=s[2],
                    completion_tokens=s[3],
                    cost_usd=round(s[4], 6),
                )
                for d, s in sorted(self.per_day.items(), reverse=True)
            },
            per_type={
                f"{c}/{t}": TypeTotals(
                    runs_with_usage=s[0],
                    prompt_tokens=s[1],
                    completion_tokens=s[2],
                    cost_usd=round(s[3], 6),
                )
                for (c, t), s in sorted(self.per_kind.items())
            },
            errors=self.error_patterns(),
            unreadable_lines=self.unreadable,
            files_read=self.files,
        )

    def error_patterns(self, top: int = TOP_ERRORS) -> list[ErrorPattern]:
        """The most common errors, similar messages grouped (numbers and ids taken out)."""
        ranked = sorted(self.patterns.items(), key=lambda kv: (-kv[1][0], kv[0]))[:top]
        return [
            ErrorPattern(
                pattern=p,
                count=g[0],
                example=g[1],
                last_seen=datetime.fromtimestamp(g[2], self.tz).isoformat(),
            )
            for p, g in ranked
        ]


def _errors_of(idx: DayIndex, chosen: bytearray) -> list[list[Any]]:
    """Per-message ``[message index, count, newest]`` of the chosen rows, in message
    order."""
    bad, eids, ats = idx.col("error_rows"), idx.col("error_ids"), idx.col("error_at")
    stats: dict[int, list[Any]] = {}
    for j in compress(range(len(bad)), map(chosen.__getitem__, bad)):
        stat = stats.setdefault(eids[j], [eids[j], 0, ats[j]])
        stat[1] += 1
        if ats[j] > stat[2]:
            stat[2] = ats[j]
    return sorted(stats.values())


def _found(column: Sequence[int], rows: list[int]) -> Iterator[int]:
    """Where each of ``rows`` (ascending) is in ``column`` (ascending), for those in it."""
    for row in rows:
        j = bisect_left(column, row)
        if j < len(column) and column[j] == row:
            yield j


def percentile(chunks: Sequence[Sequence[int]], p: float) -> int | None:
    """Nearest-rank percentile over sorted chunks: the smallest value with p% at or below it.

    Found by bisecting on the value, so a year of per-file chunks is never merged. The
    search starts between the smallest and the largest of the chunks' own percentiles:
    at the largest, every chunk has p% at or below it, so all of them together do; just
    below the smallest, none has, so neither do all together. Days alike in their
    durations leave a narrow range, and few rounds of bisecting.
    """
    chunks = [c for c in chunks if len(c)]
    total = sum(map(len, chunks))
    if not total:
        return None
    rank = max(1, -(-total * p // 100))
    own = [c[int(max(1, -(-len(c) * p // 100))) - 1] for c in chunks]
    lo, hi = min(own), max(own)
    while lo < hi:
        mid = (lo + hi) // 2
        if sum(bisect_right(c, mid) for c in chunks) >= rank:
            hi = mid
        else:
            lo = mid + 1
    return lo


def query_records(home: Home, query: HistoryQuery, now: datetime) -> Iterator[dict[str, Any]]:
    """The matching records as dicts, newest first."""
    for day, rows in HistoryScan(home, query, now, data=True):
        for row in _all(day.index, rows):
            yield day.record(row)


def summarize(home: Home, query: HistoryQuery, now: datetime) -> HistorySummary:
    """The summary of every matching record (see :meth:`HistoryScan.summary`)."""
    scan = HistoryScan(home, query, now)
    for _ in scan:
        pass
    return scan.summary()
