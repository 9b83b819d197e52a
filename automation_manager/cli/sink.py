"""Write a run log's records to a file descriptor, separated by ``,\\n``, without copying.

``amgr history --json`` prints every record's original bytes, newest first, which is
each day's lines in reverse: a million slices of a year of mapped files. They go to the
kernel with ``writev`` straight from the files' pages, so the records are never copied
in this process. A small answer builds the ``writev`` lists in Python; a big one (from
:data:`GATHER_FROM` records on) builds arrays of ``struct iovec`` with numpy and calls
the C library's ``writev`` through ctypes, so no Python object is made per record.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import sys
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from ..errors import AmgrError

if TYPE_CHECKING:
    import numpy as np

SEP = b",\n"
#: From this many records written so far on, the numpy gather path is taken: importing
#: numpy costs about as much as building the lists of 200,000 records in Python.
GATHER_FROM = 100_000
#: A scan of this many bytes of log files takes the gather path from its first record.
GATHER_BYTES = 128 << 20


class RecordSink:
    """Writes records separated by ``,\\n`` to ``out``; with ``writev`` when ``out`` is a
    real file (anything with a descriptor: a file, a pipe, a terminal)."""

    def __init__(self, out: IO[bytes], *, gather: bool = False) -> None:
        """:param gather: take the gather path from the first record (a big answer)."""
        self.out = out
        self.first = True
        self.written = 0
        """Records written so far."""
        try:
            self.fd: int | None = out.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
        self.per = 0
        """Records per ``writev`` (two buffers each: separator, record); 0: no writev."""
        if hasattr(os, "writev") and self.fd is not None:
            iov_max = os.sysconf("SC_IOV_MAX")
            self.per = (1024 if iov_max <= 0 else min(iov_max, 1024)) // 2
        self._gather: _Gather | bool | None = None  # None: not tried yet; False: unusable
        self.gather_from = 0 if gather else GATHER_FROM

    def add_rows(self, data: Any, starts: Sequence[int], ends: Sequence[int]) -> None:
        """Every record of a day's file: ``data[starts[i]:ends[i]]`` for each row, in
        order (``starts`` and ``ends`` are arrays of int64)."""
        if not len(starts):
            return
        big = self.written + len(starts) >= self.gather_from
        gather = self._gatherer() if big else None
        if gather is not None:
            assert self.fd is not None
            gather.write(self.fd, data, starts, ends, first=self.first)
            self.first = False
            self.written += len(starts)
            return
        view = memoryview(data)
        if self.fd is None or not self.per:
            self.add(map(view.__getitem__, map(slice, starts, ends)))
            return
        per = self.per
        for i in range(0, len(starts), per):
            st, en = starts[i : i + per], ends[i : i + per]
            bufs: list[bytes | memoryview] = [SEP] * (2 * len(st))
            bufs[1::2] = map(view.__getitem__, map(slice, st, en))
            total = sum(en) - sum(st) + len(SEP) * len(st)
            if self.first:
                del bufs[0]
                total -= len(SEP)
                self.first = False
            self._writev(bufs, total)
        self.written += len(starts)

    def add(self, records: Iterable[bytes | memoryview]) -> None:
        parts = list(records)
        if not parts:
            return
        self.written += len(parts)
        if self.fd is None or not self.per:
            self.out.write((b"" if self.first else SEP) + SEP.join(parts))
            self.first = False
            return
        for i in range(0, len(parts), self.per):
            bufs: list[bytes | memoryview] = [SEP] * (2 * len(parts[i : i + self.per]))
            bufs[1::2] = parts[i : i + self.per]
            if self.first:
                del bufs[0]
                self.first = False
            self._writev(bufs, sum(map(len, bufs)))

    def _writev(self, bufs: list[bytes | memoryview], total: int) -> None:
        """Send ``bufs`` (``total`` bytes) in one ``writev``; a short write (a full disk,
        a signal) sends the rest the plain way."""
        assert self.fd is not None
        done = os.writev(self.fd, bufs)
        if done < total:
            _write_all(self.fd, b"".join(bufs)[done:])

    def _gatherer(self) -> _Gather | None:
        if self._gather is None:
            self._gather = False
            if self.fd is not None and self.per:
                # no numpy or no C writev here: the lists in Python
                with contextlib.suppress(ImportError, OSError, AttributeError):
                    self._gather = _Gather(self.per * 2)
        return self._gather if isinstance(self._gather, _Gather) else None


def _write_all(fd: int, rest: bytes | memoryview) -> None:
    view = memoryview(rest)
    while view:
        view = view[os.write(fd, view) :]


class _Gather:
    """``writev`` over arrays of ``struct iovec`` (pointer, length) built by numpy."""

    def __init__(self, iov_max: int) -> None:
        # numpy's BLAS would start a thread per core, which spin a while: no linear
        # algebra here, and the other core is the kernel's, copying the records
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        import numpy as np

        if ctypes.sizeof(ctypes.c_void_p) != 8 or sys.byteorder != "little":
            raise OSError("the gather path assumes a little-endian 64-bit struct iovec")
        libc = ctypes.CDLL(None, use_errno=True)
        self._writev = libc.writev
        self._writev.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
        self._writev.restype = ctypes.c_ssize_t
        self.np = np
        self.iov_max = iov_max
        self.sep = np.frombuffer(SEP, dtype=np.uint8)  # kept alive: iovecs point at it
        self.sep_at = self.sep.ctypes.data

    def write(
        self, fd: int, data: Any, starts: Sequence[int], ends: Sequence[int], *, first: bool
    ) -> None:
        np = self.np
        buf = np.frombuffer(data, dtype=np.uint8)  # no copy; keeps ``data`` alive
        st = np.frombuffer(starts, dtype=np.int64)
        en = np.frombuffer(ends, dtype=np.int64)
        if len(st) and (int(st.min()) < 0 or int(en.max()) > len(buf) or (en < st).any()):
            # never sent: an iovec past the mapping would read other memory
            raise AmgrError("a day's history index no longer matches its log file; run again")
        # per record two iovecs: the separator, then the record
        iov = np.empty((len(st), 2, 2), dtype=np.uint64)
        iov[:, 0, 0] = self.sep_at
        iov[:, 0, 1] = len(SEP)
        iov[:, 1, 0] = st.astype(np.uint64) + np.uint64(buf.ctypes.data)
        iov[:, 1, 1] = (en - st).astype(np.uint64)
        flat = iov.reshape(-1, 2)[1 if first else 0 :]
        self._send(fd, flat)  # ``buf`` keeps the pages alive meanwhile

    def _send(self, fd: int, iov: np.ndarray[Any, Any]) -> None:
        """Every iovec of ``iov`` (rows of pointer, length), ``iov_max`` per call."""
        np = self.np
        lengths = iov[:, 1]
        at = iov.ctypes.data
        for i in range(0, len(iov), self.iov_max):
            count = min(self.iov_max, len(iov) - i)
            total = int(lengths[i : i + count].sum())
            done = self._writev(fd, at + i * 16, count)
            while done < 0:
                err = ctypes.get_errno()
                if err != errno.EINTR:
                    raise OSError(err, os.strerror(err))
                done = self._writev(fd, at + i * 16, count)
            if done < total:  # a short write: the rest of this batch the plain way
                ends = np.cumsum(lengths[i : i + count])
                k = int(np.searchsorted(ends, done, side="right"))
                head = done - (int(ends[k - 1]) if k else 0)
                for row in iov[i + k : i + count]:
                    piece = ctypes.string_at(int(row[0]), int(row[1]))
                    _write_all(fd, piece[head:])
                    head = 0
