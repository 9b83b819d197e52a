"""Writes that never tear and never leave the home; reads that a huge line cannot blow up.

A full disk is a real 64 KiB tmpfs when the tests run as root (and mounting works),
and otherwise, or in addition, an injected writer that fails with ENOSPC mid-line.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from automation_manager import fsutil
from automation_manager.cli import cli
from automation_manager.config import TaskSpec, load_workspace
from automation_manager.config.base import validate
from automation_manager.config.tasks import Task
from automation_manager.engine.runner import RunRequest, perform_run
from automation_manager.enums import Category, RunStatus, Trigger
from automation_manager.errors import StorageError, UnsafePathError
from automation_manager.home import Home
from automation_manager.logs.lines import line_blocks
from automation_manager.logs.reader import day_records

DAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


def amgr(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def line(rid: str, pad: int = 0) -> str:
    """One record line (``pad`` bytes of params make it long)."""
    return json.dumps(
        {
            "id": rid,
            "timestamp": DAY.isoformat(),
            "task_id": "t",
            "category": "content_creation",
            "type": "blog",
            "status": "success",
            "success": True,
            "params": {"pad": "p" * pad},
        }
    )


def history_ids(home: Path) -> list[str]:
    result = amgr(home, "history", "--days", "3650", "--json")
    assert result.exit_code == 0, result.output
    return [r["id"] for r in json.loads(result.output)["records"]]


# -- a full disk ------------------------------------------------------------------------------


class FullDisk:
    """A folder whose disk can be filled and freed again."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def fill(self) -> None:
        raise NotImplementedError

    def free(self) -> None:
        raise NotImplementedError


class Tmpfs(FullDisk):
    """A real 64 KiB tmpfs, filled by a file written until ENOSPC."""

    def fill(self) -> None:
        with open(self.root / "filler", "wb", buffering=0) as fh:
            while True:
                try:
                    fh.write(b"f" * 512)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    return

    def free(self) -> None:
        (self.root / "filler").unlink()


class Injected(FullDisk):
    """``fsutil.raw_write`` replaced: the first write after :meth:`fill` writes half of
    what it was given, every later one fails with ENOSPC (a disk filling mid-line)."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(root)
        self.monkeypatch = monkeypatch
        self.real = fsutil.raw_write

    def fill(self) -> None:
        calls = []

        def write(fd: int, data: Any) -> int:
            calls.append(len(data))
            if len(calls) == 1 and len(data) > 1:
                return self.real(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        self.monkeypatch.setattr(fsutil, "raw_write", write)

    def free(self) -> None:
        self.monkeypatch.setattr(fsutil, "raw_write", self.real)


@pytest.fixture(params=["tmpfs", "injected"])
def disk(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FullDisk]:
    """A disk to fill: a real small tmpfs (as root), or the injected writer."""
    root = tmp_path / "disk"
    root.mkdir()
    if request.param == "injected":
        yield Injected(root, monkeypatch)
        return
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the injected writer covers this case)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(root)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield Tmpfs(root)
    finally:
        if subprocess.run(["umount", str(root)]).returncode != 0:
            subprocess.run(["umount", "-l", str(root)], check=True)  # busy: detach it


def test_an_append_on_a_full_disk_leaves_the_last_good_line(disk: FullDisk) -> None:
    home = Home(disk.root / "home")
    log = home.logs_dir / "2026-03-02.jsonl"
    for rid in ("a", "b"):
        fsutil.append_line(log, line(rid), private=True)
    before = log.read_bytes()
    disk.fill()
    with pytest.raises(StorageError) as caught:
        # longer than a page: it cannot fit in what is left of the file's last page
        fsutil.append_line(log, line("c", pad=10_000), private=True)
    err = caught.value
    assert err.disk_full and err.errno == errno.ENOSPC and err.path == str(log)
    assert str(err) == (
        f"disk full under {home.mp}: cannot append to {log} (No space left on device)"
    )
    assert isinstance(err, OSError) and err.exit_code == 1
    assert log.read_bytes() == before and before.endswith(b"\n")
    assert [r["id"] for r in day_records(home, DAY.date())] == ["a", "b"]
    disk.free()
    fsutil.append_line(log, line("c", pad=10_000), private=True)
    assert [r["id"] for r in day_records(home, DAY.date())] == ["a", "b", "c"]
    assert log.read_bytes().startswith(before)


def test_an_atomic_write_on_a_full_disk_keeps_the_old_file_and_no_temp_file(
    disk: FullDisk,
) -> None:
    path = disk.root / "home" / ".mp" / "state" / "schedule.json"
    fsutil.atomic_write_text(path, "old\n")
    disk.fill()
    with pytest.raises(StorageError) as caught:
        fsutil.atomic_write_bytes(path, b"n" * 20_000)
    assert caught.value.disk_full and "disk full under" in str(caught.value)
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["schedule.json"]
    disk.free()
    fsutil.atomic_write_bytes(path, b"n" * 20_000)
    assert path.read_bytes() == b"n" * 20_000


def test_a_failed_fsync_takes_the_line_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / ".mp" / "ledger.jsonl"
    fsutil.append_line(log, line("a"))

    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(fsutil, "raw_fsync", fsync)
    with pytest.raises(StorageError) as caught:
        fsutil.append_line(log, line("b"))
    assert not caught.value.disk_full and caught.value.errno == errno.EIO
    assert str(caught.value) == f"cannot append to {log} (Input/output error)"
    assert log.read_text() == line("a") + "\n"


def test_exec_now_on_a_full_disk_exits_2_and_the_log_stays_whole(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = amgr(home, "exec-now", "maintenance", "pending_report")
    assert first.exit_code == 0, first.output
    before = history_ids(home)
    disk = Injected(home, monkeypatch)
    disk.fill()
    result = amgr(home, "exec-now", "maintenance", "pending_report")
    assert result.exit_code == 2  # issue 11 point 19: nothing ran; the fix is the user's
    # The in-flight note comes first: with no room for it, the run does not start.
    assert f"disk full under {home / '.mp'}: cannot write the in-flight note" in result.output
    assert "free space on that disk" in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    disk.free()
    assert history_ids(home) == before
    for path in (home / ".mp" / "automation" / "logs").glob("*.jsonl"):
        assert path.read_bytes().endswith(b"}\n")
    again = amgr(home, "exec-now", "maintenance", "pending_report")
    assert again.exit_code == 0, again.output
    assert len(history_ids(home)) == 2


def test_health_check_on_a_full_disk_reports_instead_of_crashing(
    disk: FullDisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = disk.root / "home"
    assert CliRunner().invoke(cli, ["init", str(home)]).exit_code == 0
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    disk.fill()
    ws = load_workspace(Home(home))
    spec = TaskSpec(
        Category.MAINTENANCE,
        0,
        validate(Task, {"type": "health_check", "id": "hc", "min_free_mb": 0}),
        "hc",
        None,
    )
    done = perform_run(ws, RunRequest(spec=spec, trigger=Trigger.MANUAL), clock=lambda: DAY)
    assert done.record.status is RunStatus.FAILED and not done.retryable
    assert done.record.error is not None
    assert f"cannot write in {home / '.mp'}: disk full under {home / '.mp'}" in done.record.error
    # through the CLI: not even the in-flight note fits, so the run does not start:
    # one line with the fix, exit 2 (issue 11 point 19)
    result = amgr(home, "exec-now", "maintenance", "health_check", "-p", "min_free_mb=0")
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert result.exit_code == 2 and "disk full under" in result.output
    assert "free space on that disk" in result.output


def test_health_check_warns_on_low_disk_with_free_bytes_and_percent(home: Path) -> None:
    result = amgr(
        home, "exec-now", "maintenance", "health_check", "-p", "warn_free_pct=100", "--json"
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    disk = record["result"]["checks"]["disk"]
    assert disk["ok"] and disk["low"] and 0 < disk["free_bytes"] <= disk["total_bytes"]
    assert 0 < disk["free_pct"] < 100 and disk["warn_free_pct"] == 100
    [warning] = record["result"]["warnings"]
    assert warning.startswith("low disk: ") and "%) free under" in warning
    assert "warning: low disk" in record["result"]["summary"]


# -- never outside the home --------------------------------------------------------------------


def test_a_symlinked_log_file_is_never_written_through(home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    logs = home / ".mp" / "automation" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        (logs / f"{day.isoformat()}.jsonl").symlink_to(outside)
    result = amgr(home, "exec-now", "content_creation", "blog", "-p", "topic=x")
    assert result.exit_code in (1, 2)
    assert "is a symlink (to " in result.output and "never writes through a link" in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert outside.read_text() == "keep me\n"


def test_a_symlinked_content_folder_is_never_written_through(home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    content = home / ".mp" / "content"
    content.parent.mkdir(exist_ok=True)
    if content.exists():
        content.rmdir()
    content.symlink_to(outside, target_is_directory=True)
    result = amgr(home, "exec-now", "content_creation", "blog", "-p", "topic=x", "--json")
    assert result.exit_code == 1
    record = json.loads(result.output)
    assert record["status"] == "failed"
    assert record["error"].startswith(f"{content}: is a symlink (to {outside})")
    assert list(outside.iterdir()) == []


def test_a_symlinked_folder_or_dotdot_below_mp_is_refused(tmp_path: Path) -> None:
    mp = tmp_path / "home" / ".mp"
    (tmp_path / "elsewhere").mkdir()
    mp.mkdir(parents=True)
    (mp / "locks").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePathError):
        fsutil.ensure_dir(mp / "locks" / "deeper")
    with pytest.raises(UnsafePathError):
        fsutil.append_line(mp / "locks" / "x.jsonl", "{}")
    with pytest.raises(UnsafePathError):
        fsutil.atomic_write_text(mp / "state" / ".." / ".." / "evil.txt", "x")
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert not (tmp_path / "home" / "evil.txt").exists()


def test_a_symlink_in_a_files_place_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{}\n")
    target = tmp_path / "home" / ".mp" / "runs" / "r1.json"
    target.parent.mkdir(parents=True)
    target.symlink_to(outside)
    fsutil.atomic_write_json(target, {"id": "r1"})
    assert outside.read_text() == "{}\n"
    assert not target.is_symlink() and json.loads(target.read_text()) == {"id": "r1"}


# -- per-run lock files ------------------------------------------------------------------------


def test_per_run_lock_files_are_removed_when_runs_end(home: Path) -> None:
    config = json.loads((home / "config.json").read_text())
    config["max_daily_ebooks"] = 10
    (home / "config.json").write_text(json.dumps(config))
    for n in range(5):
        result = amgr(home, "exec-now", "content_creation", "ebook", "-p", f"topic=focus {n}")
        assert result.exit_code == 0, result.output
    runs = json.loads(amgr(home, "runs", "list", "--json").output)["runs"]
    assert [r["status"] for r in runs] == ["completed"] * 5
    shown = amgr(home, "runs", "pause", runs[0]["id"])  # probes the live lock
    assert shown.exit_code == 2
    locks = sorted(p.name for p in (home / ".mp" / "locks").iterdir())
    assert [n for n in locks if n.startswith(("run-", "ebook-"))] == [], locks


# -- bounded reads -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(30))
def test_line_blocks_give_every_line_but_the_too_long_ones(
    seed: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(seed)
    limit, block = rng.randint(4, 40), rng.randint(1, 50)
    lines = [
        b"x" * rng.choice([0, 1, 3, limit - 1, limit, limit + 1, 3 * limit]) for _ in range(40)
    ]
    data = b"\n".join(lines) + rng.choice([b"", b"\n"])
    path = tmp_path / "log.jsonl"
    path.write_bytes(data)
    skipped: list[int] = []
    with path.open("rb") as fh:
        blocks = list(line_blocks(fh, path, limit=limit, block=block, skipped=skipped))
    assert all(b.endswith(b"\n") for b in blocks[:-1])
    got = b"".join(blocks).splitlines()
    expected = data.splitlines()
    assert got == [ln for ln in expected if len(ln) <= limit]
    long = [n for n, ln in enumerate(expected, 1) if len(ln) > limit]
    assert skipped == long
    warned = [r.getMessage() for r in caplog.records if "is longer than" in r.getMessage()]
    assert len(warned) == len(long)
    for n, message in zip(long, warned, strict=True):
        assert message.startswith(f"{path}: line {n} is longer than")


def peak_rss_mb(home: Path, *args: str) -> tuple[int, str, str, float]:
    """Run ``amgr ARGS`` in a child of a fresh interpreter: (exit code, stdout, stderr,
    the child's peak resident memory in MB)."""
    probe = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "sys.stdout.buffer.write(p.stdout); sys.stderr.buffer.write(p.stderr)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stderr.write(f'\\nPEAK {peak}\\n'); sys.exit(p.returncode)\n"
    )
    cmd = [sys.executable, "-c", probe, sys.executable, "-m", "automation_manager"]
    done = subprocess.run([*cmd, "--home", str(home), *args], capture_output=True, text=True)
    peak_kb = int(done.stderr.rsplit("PEAK ", 1)[1])
    return done.returncode, done.stdout, done.stderr, peak_kb / 1024


def test_a_100_mb_line_does_not_make_commands_use_600_mb(home: Path) -> None:
    ran = amgr(home, "exec-now", "maintenance", "pending_report", "--json")
    assert ran.exit_code == 0, ran.output
    good = json.loads(ran.output)
    log = next((home / ".mp" / "automation" / "logs").glob("*.jsonl"))
    huge = dict(good, id="huge", status="failed", success=False, error="e" * (100 << 20))
    with log.open("a") as fh:
        fh.write(json.dumps(huge) + "\n")
        fh.write(json.dumps(dict(good, id="after")) + "\n")
    runs: list[tuple[str, ...]] = [
        ("history", "--json"),
        ("status",),
        ("exec-now", "content_creation", "blog", "-p", "topic=x"),  # reads quotas, budget
    ]
    for args in runs:
        code, out, err, peak = peak_rss_mb(home, *args)
        assert code == 0, err
        assert peak < 150, f"amgr {' '.join(args)} peaked at {peak:.0f} MB"
        if args[0] != "exec-now":  # it reads no line twice: the state followed the log
            assert f"{log}: line 2 is longer than 16 MiB" in err
        if args[0] == "history":
            ids = [r["id"] for r in json.loads(out)["records"]]
            assert ids == ["after", good["id"]]
            assert json.loads(out)["summary"]["unreadable_lines"] == 1


def test_a_100_mb_line_in_an_archive_is_skipped_without_holding_it(home: Path) -> None:
    ran = amgr(home, "exec-now", "maintenance", "pending_report", "--json")
    assert ran.exit_code == 0, ran.output
    good = json.loads(ran.output)
    logs = home / ".mp" / "automation" / "logs"
    live = next(logs.glob("*.jsonl"))
    huge = dict(good, id="huge", error="e" * (100 << 20))
    lines = [live.read_bytes(), json.dumps(huge).encode() + b"\n", b'{"id":"after"}\n']
    live.unlink()
    (logs / "archive").mkdir()
    day = (datetime.now(UTC) - timedelta(days=40)).date()
    archive = logs / "archive" / f"{day.isoformat()}.jsonl.gz"
    archive.write_bytes(gzip.compress(b"".join(lines), compresslevel=1))
    code, out, err, peak = peak_rss_mb(home, "history", "--days", "3650", "--json")
    assert code == 0, err
    assert peak < 150, f"history peaked at {peak:.0f} MB"
    assert f"{archive}: line 2 is longer than 16 MiB" in err
    assert [r["id"] for r in json.loads(out)["records"]] == [good["id"]]
    assert json.loads(out)["summary"]["unreadable_lines"] == 2  # the huge one, the stub
