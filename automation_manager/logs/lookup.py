"""One record by id prefix (``history show``) and new records as they are written
(``history -f``): the two ways ``amgr history`` reads the log other than a scan.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from ..home import Home
from .history import HistoryQuery

MAX_POLL_BYTES = 64 << 20
"""At most this much of the log is read per poll of ``history -f`` (the rest next time)."""


def find_record(home: Home, given: str, tz: tzinfo | None = None) -> dict[str, Any]:
    """The one record whose id is ``given`` or begins with it, from every log file.

    Only lines holding ``given`` are decoded, so finding one record in a year of log
    reads the files but decodes almost nothing.

    :raises UsageError: (exit 2) when no record or several match, listing candidates.
    """
    from ..ids import resolve_prefix
    from .reader import _candidates, log_files, normalize_record

    found: dict[str, dict[str, Any]] = {}
    needle = given.encode()
    for file in log_files(home):
        for line in _candidates(file, needle, tz):
            try:
                rec = normalize_record(json.loads(line), tz)
            except ValueError:
                continue
            if rec is not None and str(rec.get("id", "")).startswith(given):
                found.setdefault(str(rec["id"]), rec)
        if given in found:
            break
    return found[resolve_prefix("record", given, found, hint="amgr history")]


class Tail:
    """The records appended to the log after it was opened, like ``tail -f``:
    :meth:`poll` returns the new whole lines that pass the query's filters.

    A file is named by the date in its records' own offset, which near midnight need not
    be this machine's date, so each poll reads the files of yesterday, today and
    tomorrow: one that existed at the start from its size then, a new one from its first
    byte. It follows across midnight; a line still being written is read next poll.
    """

    def __init__(self, home: Home, query: HistoryQuery, now: Callable[[], datetime]) -> None:
        self.home = home
        self.query = query
        self.now = now
        self.offsets = {path: self._size(path) for path in self._paths()}

    def _paths(self) -> list[Path]:
        today = self.now().astimezone().date()
        days = (today + timedelta(days=d) for d in (-1, 0, 1))
        return [self.home.logs_dir / f"{d.isoformat()}.jsonl" for d in days]

    @staticmethod
    def _size(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return 0

    def poll(self) -> list[dict[str, Any]]:
        """The matching records appended since the last poll, in the order written."""
        from .reader import decode_line

        paths = self._paths()
        self.offsets = {path: self.offsets.get(path, 0) for path in paths}
        out: list[dict[str, Any]] = []
        for path in paths:
            try:
                with open(path, "rb") as fh:
                    fh.seek(self.offsets[path])
                    data = fh.read(MAX_POLL_BYTES)
            except OSError:
                continue
            end = data.rfind(b"\n") + 1
            self.offsets[path] += end
            for line in data[:end].splitlines():
                rec = decode_line(line) if line.strip() else None
                if rec is not None and self.query.matches(rec):
                    out.append(rec)
        return out
