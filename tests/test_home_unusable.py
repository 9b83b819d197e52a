"""Issue 11 point 19: a home that is missing, not writable, on a full disk, or has a file
where ``.mp`` must be gives one clear message naming the folder and the fix, exit 2,
never a traceback.

The read-only and full-disk homes live on a small tmpfs (mounting needs root; CI runs as
root; elsewhere these tests are skipped with that reason).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from small_disk import fill, mounted_tmpfs

from automation_manager.cli import cli


def amgr(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), f"traceback: {result.exception!r}"
    return result.exit_code, result.output


def test_a_missing_home_is_named_with_the_fix(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    for args in (["status"], ["history"], ["exec-now", "content_creation", "blog", "-p", "t=x"]):
        code, out = amgr(home, *args)
        assert code == 2, (args, out)
        assert f"{home}: no such folder — run `amgr init {home}`" in out
        assert "internal error" not in out
    assert not home.exists()  # nothing was created


def test_a_file_where_mp_must_be_is_named(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert amgr(home, "init")[0] == 0
    (home / ".mp").write_text("not a folder")
    for args in (["exec-now", "content_creation", "blog", "-p", "topic=x"], ["run", "--once"]):
        code, out = amgr(home, *args)
        assert code == 2, (args, out)
        assert f"{home / '.mp'} is a file where amgr needs a folder — move it away" in out
    assert (home / ".mp").read_text() == "not a folder"


def test_a_read_only_home_is_named_with_the_fix(tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path, "8m") as disk:
        home = disk / "home"
        assert amgr(home, "init")[0] == 0
        before = {p: p.read_bytes() for p in home.iterdir() if p.is_file()}
        remount = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.decode().strip()}")
        for args in (
            ["exec-now", "content_creation", "blog", "-p", "topic=x"],
            ["run", "--once"],
            ["tasks", "disable", "weekly-blog"],
            ["status"],
        ):
            code, out = amgr(home, *args)
            assert code == 2, (args, out)
            assert f"{home} is not writable (" in out, out
            assert "make" in out and "writable by this user" in out
            assert "internal error" not in out and "Traceback" not in out
        assert {p: p.read_bytes() for p in home.iterdir() if p.is_file()} == before
        code, out = amgr(home, "validate")  # reading still works
        assert code == 0, out


def test_a_full_disk_before_a_run_is_named_with_the_fix(tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path, "2m") as disk:
        home = disk / "home"
        assert amgr(home, "init")[0] == 0
        assert amgr(home, "validate")[0] == 0
        filler = fill(disk)
        code, out = amgr(home, "exec-now", "content_creation", "blog", "-p", "topic=x")
        assert code == 2, out
        assert f"disk full under {home / '.mp'}" in out
        assert "free space on that disk" in out
        assert "internal error" not in out
        filler.unlink()
        code, out = amgr(home, "exec-now", "content_creation", "blog", "-p", "topic=x")
        assert code == 0, out  # space is back: the run happens
