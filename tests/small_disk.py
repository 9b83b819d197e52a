"""A small tmpfs for tests of full and read-only disks (mounting needs root; CI runs as
root; elsewhere the test is skipped with that reason)."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def mounted_tmpfs(parent: Path, size: str = "16m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at a fresh folder under ``parent``, unmounted after."""
    mount = parent / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``; returns the filler to delete."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for size in (1 << 16, 512, 1):  # big blocks, then what is left of the last one
            with contextlib.suppress(OSError):
                while fh.write(b"\0" * size) == size:
                    pass
    probe = disk / "probe"
    try:
        probe.write_bytes(b"x" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    else:
        pytest.fail("the disk is not full")
    finally:
        probe.unlink(missing_ok=True)
    return filler
