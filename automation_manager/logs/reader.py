"""Reading the run log back: daily files, the seed's legacy files and gzip archives.

Files come out newest day first. Each is a :class:`Day`: its file, its records' columns
(:class:`~automation_manager.logs.index.DayIndex`, kept on disk for closed days) and its
bytes, read only when a record itself is wanted. Reading ahead happens in threads,
because reading and decompressing release the GIL.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import io
import json
import mmap
import os
import re
import threading
import zlib
from array import array
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import AmgrError
from ..home import Home
from .index import (
    Blob,
    DayIndex,
    build_index,
    load_index,
    save_index,
    stamp_of,
)
from .kept import INDEX_DIR, index_path
from .lines import line_blocks, warn_long_line
from .redact import redact

if TYPE_CHECKING:
    from concurrent.futures import Future

_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(jsonl|json)(\.gz)?$")


@dataclass(frozen=True)
class LogFile:
    """One file of the run log: a day's ``.jsonl``, a legacy ``.json``, or their ``.gz``."""

    day: date
    path: Path
    legacy: bool
    compressed: bool


@dataclass
class Day:
    """One log file: its index, and its bytes (read on first use).

    Rows are numbered as in the index: row 0 is the file's newest record.
    """

    file: LogFile
    index: DayIndex
    tz: tzinfo | None = None
    _data: Blob | None = None
    _decoded: set[int] | None = field(default=None, repr=False)

    @property
    def data(self) -> Blob:
        """The file's records as JSON lines (decompressed; legacy files converted).

        :raises AmgrError: when the file no longer holds what its index describes (it
            was archived or replaced while being read).
        """
        if self._data is None:
            data, _ = read_blob(self.file, self.tz)
            if len(data) < self.index.covers:
                raise AmgrError(f"{self.file.path}: changed while being read; run again")
            self._data = data
        return self._data

    def _line(self, row: int) -> bytes:
        idx = self.index
        return self.data[idx.col("start")[row] : idx.col("end")[row]]

    def starts_us(self) -> array[int]:
        """Each row's start, µs since the epoch (a column of the index)."""
        return self.index.col("start_us")

    def decoded(self) -> set[int]:
        """Rows not in the writer's own shape (re-encoded on output)."""
        if self._decoded is None:
            self._decoded = set(self.index.col("decoded_rows"))
        return self._decoded

    def raw(self, row: int) -> bytes:
        """The record as one line of JSON: its original bytes when in amgr's own shape."""
        if row not in self.decoded():
            return self._line(row)
        rec = self.record(row)
        return json.dumps(rec, ensure_ascii=False, separators=(",", ":"), default=str).encode()

    def record(self, row: int) -> dict[str, Any]:
        """The record as a dict."""
        rec = decode_line(self._line(row))
        if rec is None:  # the file changed under a stale index
            raise AmgrError(f"{self.file.path}: changed while being read; run again")
        return rec


def log_files(home: Home, since: date | None = None) -> list[LogFile]:
    """Every log file of ``home`` dated ``since`` or later, newest day first.

    Within a day the live file comes before its archive: what was appended after the
    day was archived is the newer part.
    """
    found: list[LogFile] = []
    for folder in (home.logs_dir, home.archive_dir):
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            file = log_file(folder / name)
            if file is not None and (since is None or file.day >= since):
                found.append(file)
    found.sort(key=lambda f: (f.day, not f.compressed, not f.legacy), reverse=True)
    return found


def log_file(path: Path) -> LogFile | None:
    """``path`` as a :class:`LogFile`, or None when its name is not a log file's."""
    m = _NAME.match(path.name)
    if m is None:
        return None
    try:
        day = date.fromisoformat(m[1])
    except ValueError:
        return None
    return LogFile(day, path, m[2] == "json", m[3] is not None)


def read_bytes(file: LogFile, tz: tzinfo | None = None) -> tuple[bytes, int]:
    """A file's records as JSON lines, and how many entries could not be read.

    A file that vanished (archived meanwhile) reads as empty; a damaged archive as one
    unreadable line; each line a big archive loses as too long (see
    :func:`gunzip_records`) counts as one.
    """
    skipped = 0
    try:
        data = file.path.read_bytes()
        if file.compressed and file.legacy:  # one JSON array: never cut into lines
            data = gunzip(data)
        elif file.compressed:
            data, skipped = gunzip_records(data, file.path)
    except FileNotFoundError:
        return b"", 0
    except (OSError, EOFError, zlib.error):
        return b"", 1
    if file.legacy:
        return legacy_to_lines(data, tz)
    return data, skipped


def read_blob(file: LogFile, tz: tzinfo | None = None) -> tuple[Blob, int]:
    """As :func:`read_bytes`, but a large plain day's file is mapped into memory instead
    of copied (``history`` reads a year of them). amgr never truncates a log file, and
    one moved or deleted meanwhile stays readable while mapped."""
    if file.compressed or file.legacy:
        return read_bytes(file, tz)
    try:
        with open(file.path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size < MAP_FROM:
                return fh.read(), 0
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), 0
    except FileNotFoundError:
        return b"", 0
    except (OSError, ValueError):
        return read_bytes(file, tz)


#: Files from this size on are mapped (see :func:`read_blob`), smaller ones read.
MAP_FROM = 64 * 1024


def gunzip(data: bytes) -> bytes:
    """Decompress gzip ``data`` (every member), faster than :func:`gzip.decompress`.

    :raises EOFError: when the data ends inside a member (a truncated archive).
    """
    out = _gunzip_upto(data, None)
    assert out is not None  # no budget: never None
    return out


#: An archive decompressing to more than this is read through
#: :func:`~automation_manager.logs.lines.line_blocks` (see :func:`gunzip_records`).
ONE_SHOT = 16 << 20


def gunzip_records(data: bytes, path: Path) -> tuple[bytes, int]:
    """As :func:`gunzip` for an archive of records, at full speed up to :data:`ONE_SHOT`
    bytes; a bigger one is decompressed a block at a time with its lines over
    ``MAX_LINE`` left out (one warning each), so one huge line is never held.
    Returns the lines and how many were left out."""
    out = _gunzip_upto(data, ONE_SHOT)
    if out is not None:
        return out, 0
    skipped: list[int] = []
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
        return b"".join(line_blocks(fh, path, skipped=skipped)), len(skipped)


def _gunzip_upto(data: bytes, budget: int | None) -> bytes | None:
    """Every member of ``data`` decompressed, or None once that passes ``budget`` bytes."""
    parts = []
    total = 0
    while data:
        member = zlib.decompressobj(wbits=31)
        if budget is None:
            part = member.decompress(data)
        else:
            room = max(1, budget - total)
            part = member.decompress(data, room)
            if not member.eof and (member.unconsumed_tail or len(part) >= room):
                return None
        if not member.eof:
            raise EOFError("compressed data ended before the end of the archive")
        parts.append(part)
        total += len(part)
        data = member.unused_data
    return parts[0] if len(parts) == 1 else b"".join(parts)


def open_day(
    home: Home,
    file: LogFile,
    tz: tzinfo | None,
    *,
    keep: bool,
    data: bool,
    mapped: bool = False,
    logs_dir: Path | None = None,
) -> Day:
    """A :class:`Day` for ``file``, from its kept index when that is current (or, once
    :func:`remember_indexes` was called, from memory while its file is unchanged).

    :param keep: keep a newly built index on disk (for a day whose file is closed).
    :param data: read the file's bytes now rather than on first use.
    :param mapped: read the file with :func:`read_blob`.
    :param logs_dir: ``home.logs_dir``, when the caller has it.
    """
    where = index_path(logs_dir or home.logs_dir, file.path)
    stamp = stamp_of(file.path)
    kept = MEMORY.get(file.path, stamp, where)
    if kept is None and not file.legacy:
        kept = load_index(where, file.path, lambda: _rebuilt(file, stamp, tz, where))
        if kept is not None:
            MEMORY.put(file.path, stamp, where, kept)
    if kept is not None:
        day = Day(file, kept, tz)
        if data:
            _ = day.data
        return day
    raw, unreadable = read_blob(file, tz) if mapped else read_bytes(file, tz)
    idx = build_index(raw, decode_line)
    idx.unreadable += unreadable
    for number in idx.long_lines:
        warn_long_line(file.path, number)
    if keep and not file.legacy and raw:
        save_index(where, stamp, idx)
    MEMORY.put(file.path, stamp, where, idx)
    return Day(file, idx, tz, raw)


def _rebuilt(
    file: LogFile, stamp: tuple[int, int] | None, tz: tzinfo | None, where: Path
) -> DayIndex:
    """The index of ``file`` built again (and kept in place of the old one) for a kept
    one whose part failed its check: it must be of the same version of the file."""
    idx = _build_and_keep(file, stamp, where, tz)
    if idx is None or stamp is None or stamp_of(file.path) != stamp:
        raise AmgrError(f"{file.path}: changed while being read; run again")
    return idx


def _build_and_keep(
    file: LogFile, stamp: tuple[int, int] | None, where: Path, tz: tzinfo | None = None
) -> DayIndex | None:
    """Build the index of ``file`` (read as of ``stamp``) and keep it at ``where``; None
    for an empty file."""
    raw, unreadable = read_blob(file, tz)
    if not raw:
        return None
    idx = build_index(raw, decode_line)
    idx.unreadable += unreadable
    save_index(where, stamp, idx)
    return idx


class IndexMemory:
    """Indexes kept in memory by a long-lived process (the dashboard), each for the
    version (size, modification time) of its log file and of its kept index file: a log
    appended to, archived or replaced, or an index file rewritten or damaged, is another
    version, and is read again. Off until :meth:`enable`; the least recently used go
    first past ``limit`` bytes of columns."""

    def __init__(self) -> None:
        self.limit = 0
        self._kept: OrderedDict[Path, tuple[Any, DayIndex, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def enable(self, limit: int) -> None:
        with self._lock:
            self.limit = max(self.limit, limit)

    def get(self, path: Path, stamp: tuple[int, int] | None, kept: Path) -> DayIndex | None:
        """The index of ``path`` in version ``stamp``, with ``kept`` its index file."""
        if not self.limit or stamp is None:
            return None
        with self._lock:
            found = self._kept.get(path)
            if found is None or found[0] != (stamp, stamp_of(kept)):
                return None
            self._kept.move_to_end(path)
            return found[1]

    def put(self, path: Path, stamp: tuple[int, int] | None, kept: Path, idx: DayIndex) -> None:
        if not self.limit or stamp is None:
            return
        size = idx.size()
        with self._lock:
            old = self._kept.pop(path, None)
            if old is not None:
                self._held -= old[2]
            self._kept[path] = ((stamp, stamp_of(kept)), idx, size)
            self._held += size
            while self._held > self.limit and len(self._kept) > 1:
                _, (_, _, gone) = self._kept.popitem(last=False)
                self._held -= gone


#: The process's :class:`IndexMemory`.
MEMORY = IndexMemory()


def remember_indexes(limit: int = 96 << 20) -> None:
    """Keep day indexes in memory from now on (up to ``limit`` bytes of columns)."""
    MEMORY.enable(limit)


def iter_days(
    home: Home,
    since: date,
    now: datetime,
    *,
    data: bool = False,
    threads: int = 2,
    depth: int = 6,
    files: list[LogFile] | None = None,
) -> Iterator[Day]:
    """Every file from ``since`` on as a :class:`Day`, newest first, read ahead in threads.

    :param data: read (and decompress) the files' bytes ahead too, for callers that want
        every record; reading and decompressing release the GIL, so this overlaps.
    :param threads: reader threads; :param depth: files read ahead at most.
    :param files: ``log_files(home, since)``, when the caller listed them already.
    """
    today = now.date()
    if files is None:
        files = log_files(home, since)
    building: dict[LogFile, Future[None]] = {}

    def open_one(f: LogFile) -> Day:
        built = building.get(f)
        if built is not None:
            with contextlib.suppress(Exception):  # else built here, as without the pool
                built.result()
        return open_day(
            home,
            f,
            now.tzinfo,
            keep=f.day < today,
            data=data,
            mapped=True,
            logs_dir=logs_dir,
        )

    logs_dir = home.logs_dir
    try:
        kept_names = set(os.listdir(logs_dir / INDEX_DIR))
    except OSError:
        kept_names = set()
    missing = [
        f
        for f in files
        if f.day < today
        and not f.legacy
        and f"{f.path.name}.idx" not in kept_names
        and MEMORY.get(f.path, stamp_of(f.path), index_path(logs_dir, f.path)) is None
    ]
    with contextlib.ExitStack() as stack:
        if len(missing) >= BUILD_IN_PROCESSES and (os.cpu_count() or 1) > 1:
            # a cold start (no kept indexes yet, e.g. after an import): building them is
            # CPU work, so it runs in processes, newest first, and is kept for next time
            workers = min(2, os.cpu_count() or 1)
            from concurrent.futures import ProcessPoolExecutor  # only for a cold start

            try:
                # the workers only build indexes, which make no reference cycles
                builders = stack.enter_context(ProcessPoolExecutor(workers, initializer=gc.disable))
                for f in missing:
                    building[f] = builders.submit(build_kept_index, logs_dir, f)
            except (OSError, RuntimeError, ValueError):
                building.clear()  # no processes here: build them in threads instead
        slow = missing or (data and any(f.compressed or f.legacy for f in files))
        if len(files) <= 2 or threads <= 0 or not slow:
            # kept indexes are read in a fraction of a millisecond each, and a plain
            # day's file is mapped, not read: threads would only add their hand-offs
            for f in files:
                yield open_one(f)
            return
        pending: deque[Future[Day]] = deque()
        todo = iter(files)
        from concurrent.futures import ThreadPoolExecutor  # only for slow files

        with ThreadPoolExecutor(threads, thread_name_prefix="amgr-log-reader") as pool:
            try:
                for f in islice(todo, depth):
                    pending.append(pool.submit(open_one, f))
                while pending:
                    day = pending.popleft().result()
                    for f in islice(todo, 1):
                        pending.append(pool.submit(open_one, f))
                    yield day
            finally:
                for future in pending:
                    future.cancel()
                for build in building.values():
                    build.cancel()


#: Build the missing indexes of closed days in worker processes from this many on.
BUILD_IN_PROCESSES = 8


def build_kept_index(logs_dir: Path, file: LogFile) -> None:
    """Build and keep the index of ``file`` (a closed day's, not a legacy file)."""
    _build_and_keep(file, stamp_of(file.path), index_path(logs_dir, file.path))


def decode_line(line: bytes) -> dict[str, Any] | None:
    """One line as a record in the record shape, or None when it is not one."""
    try:
        return normalize_record(_fast_decode(line))
    except msgspec.DecodeError:
        pass  # e.g. NaN, which json reads
    try:
        return normalize_record(json.loads(line))
    except ValueError:
        return None


_fast_decode = msgspec.json.Decoder().decode


def day_records(home: Home, day: date) -> list[dict[str, Any]]:
    """Every readable record of one day's live log (``YYYY-MM-DD.jsonl``), in log order.

    A torn or unreadable line (a crash mid-append) is skipped, never fatal; a missing file
    is an empty day. Used where a check needs today's runs (quotas, budget).
    """
    path = home.logs_dir / f"{day.isoformat()}.jsonl"
    try:
        fh = open(path, "rb")  # noqa: SIM115  # closed below
    except FileNotFoundError:
        return []
    with fh:
        return [
            rec
            for block in line_blocks(fh, path)
            for rec in map(decode_line, block.splitlines())
            if rec is not None
        ]


def normalize_record(obj: Any, tz: tzinfo | None = None) -> dict[str, Any] | None:
    """A decoded line in the record shape (status from ``success`` when missing), or None."""
    if not isinstance(obj, dict):
        return None
    if "task" in obj and isinstance(obj.get("task"), dict) and "type" not in obj:
        return normalize_legacy(obj, 0, tz)
    ts = obj.get("timestamp")
    if not isinstance(ts, str):
        return None
    try:
        datetime.fromisoformat(ts)
    except ValueError:
        return None
    rec = dict(obj)
    if not isinstance(rec.get("status"), str):
        rec["status"] = "success" if rec.get("success") else "failed"
    rec.setdefault("success", rec["status"] == "success")
    for name in ("task_id", "category", "type"):
        rec[name] = str(rec.get(name) or "")
    return rec


def normalize_legacy(item: dict[str, Any], index: int, tz: tzinfo | None) -> dict[str, Any] | None:
    """One entry of the seed's ``YYYY-MM-DD.json`` array in the record shape.

    The seed wrote naive local times (``YYYY-MM-DD HH:MM:SS``); they are read in ``tz``.
    """
    raw_task = item.get("task")
    task: dict[str, Any] = raw_task if isinstance(raw_task, dict) else {}
    try:
        ts = datetime.fromisoformat(str(item.get("timestamp")))
    except ValueError:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=tz) if tz is not None else ts.astimezone()
    result = item.get("result") if isinstance(item.get("result"), dict) else None
    success = bool(item.get("success", (result or {}).get("success", False)))
    category = str(item.get("category") or "")
    type_ = str(task.get("type") or "")
    error = None
    if not success:
        error = str((result or {}).get("error") or "failed (no error recorded)")
    duration = (result or {}).get("duration_ms")
    return {
        "id": f"legacy-{ts:%Y%m%d%H%M%S}-{index}",
        "timestamp": ts.isoformat(),
        "task_id": str(task.get("id") or f"{category}-{type_}"),
        "category": category,
        "type": type_,
        "trigger": "scheduled",
        "attempt": 1,
        "scheduled_for": None,
        "status": "success" if success else "failed",
        "success": success,
        "params": redact(task),
        "result": result,
        "error": error,
        "duration_ms": duration if isinstance(duration, int) else 0,
        "usage": None,
        "provider": None,
        "run_id": None,
        "legacy": True,
    }


def legacy_to_lines(data: bytes, tz: tzinfo | None) -> tuple[bytes, int]:
    """The seed's one-array file as JSON lines of normalized records.

    A torn file (the seed rewrote it whole) gives every entry before the tear; the rest
    counts as one unreadable line.
    """
    items, torn = _salvage_array(data.decode("utf-8", errors="replace"))
    lines = []
    unreadable = 1 if torn else 0
    for index, item in enumerate(items):
        rec = normalize_legacy(item, index, tz) if isinstance(item, dict) else None
        if rec is None:
            unreadable += 1
            continue
        lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":"), default=str))
    return "\n".join(lines).encode(), unreadable


def _salvage_array(text: str) -> tuple[list[Any], bool]:
    """Decode a JSON array, keeping the complete elements of a truncated one."""
    try:
        whole = json.loads(text)
    except ValueError:
        pass
    else:
        return (whole if isinstance(whole, list) else [whole]), False
    decoder = json.JSONDecoder()
    items: list[Any] = []
    pos = text.find("[") + 1
    if pos == 0:
        return items, True
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return items, True
        items.append(item)


def latest_record_for(
    home: Home, task_id: str, now: datetime, *, days: int = 60
) -> dict[str, Any] | None:
    """The newest record of ``task_id`` that is not ``skipped``, or None.

    Looks back ``days`` days of files and archives, newest first, and decodes only the
    lines that name the task.
    """
    needle = json.dumps(task_id, ensure_ascii=False).encode()
    for file in log_files(home, now.date() - timedelta(days=days)):
        best = _latest_in(_candidates(file, needle, now.tzinfo), task_id)
        if best is not None:
            return best
    return None


def _candidates(file: LogFile, needle: bytes, tz: tzinfo | None) -> list[bytes]:
    """The lines of ``file`` that hold ``needle``, read a block at a time (bounded)."""
    if file.legacy or file.compressed:
        # a legacy file is one JSON array (read whole); an archive is decompressed at
        # once when small, else without its long lines (see gunzip_records)
        data, _ = read_bytes(file, tz)
        return [line for line in data.splitlines() if needle in line] if needle in data else []
    found: list[bytes] = []
    try:
        with open(file.path, "rb") as fh:
            for block in line_blocks(fh, file.path):
                if needle in block:
                    found.extend(line for line in block.splitlines() if needle in line)
    except OSError:
        pass  # vanished (archived meanwhile): what was read counts
    return found


def _latest_in(lines: Iterable[bytes], task_id: str) -> dict[str, Any] | None:
    best: dict[str, Any] | None = None
    best_ts: datetime | None = None
    for line in lines:
        try:
            rec = normalize_record(json.loads(line))
        except ValueError:
            continue
        if rec is None or rec["task_id"] != task_id or rec["status"] == "skipped":
            continue
        ts = datetime.fromisoformat(rec["timestamp"])
        if best_ts is None or _after(ts, best_ts):
            best, best_ts = rec, ts
    return best


def _after(a: datetime, b: datetime) -> bool:
    """``a >= b`` (later lines win ties), comparing naive and aware times as local."""
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.astimezone(), b.astimezone()
    return a >= b
