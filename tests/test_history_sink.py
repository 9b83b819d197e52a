"""The ``--json`` record writer (``cli/sink.py``): what reaches the file descriptor is
every record, separated by ``,\\n``, whatever way the bytes are sent."""

from __future__ import annotations

import ctypes
import os
import struct
import subprocess
import sys
from array import array
from pathlib import Path
from typing import Any

import pytest

from automation_manager.cli import sink


def day_file(tmp_path: Path, name: str, n: int) -> tuple[bytes, array[int], array[int]]:
    """A file of ``n`` lines and the offsets of its records, newest (last line) first."""
    lines = [b'{"n":%d,"pad":"%s"}' % (i, b"x" * (i % 97)) for i in range(n)]
    data = b"".join(line + b"\n" for line in lines)
    (tmp_path / name).write_bytes(data)
    starts, ends, at = array("q"), array("q"), 0
    for line in lines:
        starts.append(at)
        ends.append(at + len(line))
        at += len(line) + 1
    starts.reverse()
    ends.reverse()
    return data, starts, ends


def expected(days: list[tuple[bytes, array[int], array[int]]]) -> bytes:
    return b",\n".join(d[s:e] for d, st, en in days for s, e in zip(st, en, strict=True))


def write(out: Path, days: list[tuple[Any, array[int], array[int]]]) -> bytes:
    with out.open("wb") as fh:
        writer = sink.RecordSink(fh)
        for data, starts, ends in days:
            writer.add_rows(data, starts, ends)
    return out.read_bytes()


@pytest.mark.parametrize("gather_from", [0, 1500, 10**9], ids=["gather", "switch", "lists"])
def test_every_record_reaches_the_file_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gather_from: int
) -> None:
    # more records a day than one writev takes; the switch happens inside day two
    days = [day_file(tmp_path, f"d{i}.jsonl", n) for i, n in enumerate((1300, 1, 2049, 0))]
    monkeypatch.setattr(sink, "GATHER_FROM", gather_from)
    assert write(tmp_path / "out", days) == expected(days)


def test_records_from_a_mapped_file_are_sent_from_its_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mmap

    data, starts, ends = day_file(tmp_path, "day.jsonl", 3000)
    monkeypatch.setattr(sink, "GATHER_FROM", 0)
    with (tmp_path / "day.jsonl").open("rb") as fh:
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        assert write(tmp_path / "out", [(mapped, starts, ends)]) == expected([(data, starts, ends)])


def test_a_short_write_sends_the_rest_of_its_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that takes only part of a batch (a signal, a nearly full disk) loses and
    doubles nothing: the rest of the batch follows the plain way."""
    days = [day_file(tmp_path, "day.jsonl", 2500)]
    monkeypatch.setattr(sink, "GATHER_FROM", 0)
    real_init = sink._Gather.__init__
    cuts: list[int] = []

    def init(self: Any, iov_max: int) -> None:
        real_init(self, iov_max)
        real = self._writev

        def partial(fd: int, at: int, count: int) -> int:
            if len(cuts) % 2 == 0:  # every other call: the first few buffers whole and
                whole = max(1, count // 3)  # half of the next one's bytes
                done = int(real(fd, at, whole))
                if whole < count:
                    ptr, size = struct.unpack_from("QQ", ctypes.string_at(at + 16 * whole, 16))
                    done += os.write(fd, ctypes.string_at(ptr, size // 2))
                cuts.append(done)
                return done
            cuts.append(-1)
            return int(real(fd, at, count))

        self._writev = partial

    monkeypatch.setattr(sink._Gather, "__init__", init)
    assert write(tmp_path / "out", days) == expected(days)
    assert len(cuts) >= 4  # both kinds of call happened


def test_a_closed_pipe_ends_the_command_quietly(home: Path, tmp_path: Path) -> None:
    """``amgr history --json | head -c 100`` on the gather path: exit 0, no traceback."""
    from datetime import UTC, datetime

    log = home / ".mp" / "automation" / "logs"
    log.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC)
    line = (
        '{"id":"r%06d","timestamp":"%s","task_id":"daily-blog","category":"content_creation",'
        '"type":"blog","trigger":"scheduled","attempt":1,"status":"success","success":true,'
        '"duration_ms":5}\n'
    )
    stamp = today.replace(microsecond=0).isoformat()
    (log / f"{today.date()}.jsonl").write_text("".join(line % (i, stamp) for i in range(20000)))
    child = (
        "import sys; import automation_manager.cli.sink as s; s.GATHER_FROM = 0;"
        "sys.argv = ['amgr', *sys.argv[1:]]; from automation_manager.cli import main; main()"
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC", "AMGR_VISUALS": "none"}
    proc = subprocess.Popen(
        [sys.executable, "-c", child, "--home", str(home), "history", "--days", "2", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert head.startswith(b'{"records": [\n{"id":"r')
    assert "Traceback" not in err


def test_offsets_past_the_file_are_refused_before_anything_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automation_manager.errors import AmgrError

    data, starts, ends = day_file(tmp_path, "day.jsonl", 100)
    ends[0] += 10  # the newest record said to run past the end of the file
    monkeypatch.setattr(sink, "GATHER_FROM", 0)
    with pytest.raises(AmgrError, match="no longer matches its log file"):
        write(tmp_path / "out", [(data, starts, ends)])
    assert (tmp_path / "out").read_bytes() == b""
