"""Backups: taken while records are written, restored into an empty folder that validates
and shows the same history and content as the source at the snapshot; damage is caught."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.manager import AutomationManager


def amgr(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def history_ids(home: Path) -> list[str]:
    result = amgr(home, "history", "--days", "30", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = doc["records"] if isinstance(doc, dict) else doc
    return [r["id"] for r in rows]


def content_ids(home: Path) -> list[str]:
    result = amgr(home, "content", "list", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    items = doc["items"] if isinstance(doc, dict) else doc
    return sorted(i["id"] for i in items)


def add_backup_task(home: Path, backup_dir: Path, **params: Any) -> None:
    data = json.loads((home / "tasks.json").read_text())
    data["maintenance"].append(
        {
            "id": "nightly",
            "type": "actions",
            "actions": [{"type": "backup", "params": {"backup_dir": str(backup_dir), **params}}],
        }
    )
    (home / "tasks.json").write_text(json.dumps(data))


def test_backup_while_records_are_written_restores_to_the_same_home(
    home: Path, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    add_backup_task(home, backups)
    assert amgr(home, "exec-now", "content_creation", "blog", "-p", "topic=focus").exit_code == 0
    mgr = AutomationManager(home)
    spec = mgr.resolve_task("maintenance", "pending-report")
    stop = threading.Event()

    def writer() -> None:  # another process-like writer appending records meanwhile
        while not stop.is_set():
            mgr.run(spec)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = amgr(home, "exec-now", "--task", "nightly", "--json")
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    backup = Path(json.loads(result.stdout)["result"]["actions"][0]["result"]["path"])
    assert backup.parent == backups and backup.name.startswith("amgr-backup-")

    target = tmp_path / "restored"
    restored = amgr(home, "backup", "restore", str(backup), "--to", str(target))
    assert restored.exit_code == 0, restored.output
    assert "checksums verified" in restored.output
    assert amgr(target, "validate").exit_code == 0
    source, copy = history_ids(home), history_ids(target)
    assert copy, "the restored home has its history"
    # the snapshot: each restored day file is a whole-line prefix of the source's, and
    # history shows exactly the records in it
    logs = sorted((target / ".mp" / "automation" / "logs").glob("*.jsonl"))
    assert logs
    kept: list[str] = []
    for day in logs:
        restored_bytes = day.read_bytes()
        source_day = home / ".mp" / "automation" / "logs" / day.name
        assert source_day.read_bytes().startswith(restored_bytes)
        assert restored_bytes.endswith(b"\n")
        kept += [json.loads(line)["id"] for line in restored_bytes.splitlines()]
    assert sorted(copy) == sorted(kept)
    assert set(copy) < set(source)  # the writer went on after the snapshot
    assert content_ids(target) == content_ids(home)
    assert (target / ".mp" / "state" / "amgr.db").is_file()
    # the restored home's admission state works (status reads it)
    assert amgr(target, "status", "--json").exit_code == 0


def test_a_corrupted_backup_fails_restore_naming_the_file(home: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    result = amgr(home, "backup", "create", str(backups), "--json")
    assert result.exit_code == 0, result.output
    backup = Path(json.loads(result.stdout)["path"])

    # 1. bytes flipped in the middle of the compressed stream
    broken = tmp_path / "broken.tar.gz"
    data = bytearray(backup.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF
    broken.write_bytes(bytes(data))
    target = tmp_path / "r1"
    out = amgr(home, "backup", "restore", str(broken), "--to", str(target))
    assert out.exit_code == 1
    assert str(broken) in out.output and "damaged" in out.output
    assert list(target.iterdir()) == []  # nothing left behind

    # 2. a member changed but the manifest kept: the member is named
    with tarfile.open(backup, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    tampered = tmp_path / "tampered.tar.gz"
    with gzip.open(tampered, "wb") as gz, tarfile.open(fileobj=gz, mode="w") as out_tar:
        for member, body in members:
            if member.name == "tasks.json":
                body = body.replace(b"{", b"{ ", 1)
                member.size = len(body)
            out_tar.addfile(member, io.BytesIO(body))
    target2 = tmp_path / "r2"
    out = amgr(home, "backup", "restore", str(tampered), "--to", str(target2))
    assert out.exit_code == 1
    assert "tasks.json does not match its checksum" in out.output
    assert list(target2.iterdir()) == []


def test_restore_refuses_a_folder_that_is_not_empty(home: Path, tmp_path: Path) -> None:
    result = amgr(home, "backup", "create", str(tmp_path / "b"), "--json")
    backup = json.loads(result.stdout)["path"]
    out = amgr(home, "backup", "restore", backup, "--to", str(home))
    assert out.exit_code == 2 and "not empty" in out.output


@pytest.mark.parametrize("retention", [{"keep": 2}, 2, "keep: 2"])
def test_retention_keeps_the_newest(home: Path, tmp_path: Path, retention: Any) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    for day in ("20260101T020000Z", "20260102T020000Z", "20260103T020000Z"):
        (backups / f"amgr-backup-{day}.tar.gz").write_bytes(b"old")
    (backups / "unrelated.tar.gz").write_bytes(b"keep me")
    add_backup_task(home, backups, retention=retention)
    result = amgr(home, "exec-now", "--task", "nightly", "--json")
    assert result.exit_code == 0, result.output
    left = sorted(p.name for p in backups.iterdir())
    assert left[0] == "amgr-backup-20260103T020000Z.tar.gz" and len(left) == 3
    assert "unrelated.tar.gz" in left


def test_retention_by_age_prunes_older_backups(home: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "amgr-backup-20000101T000000Z.tar.gz").write_bytes(b"old")
    add_backup_task(home, backups, retention="7days")
    result = amgr(home, "exec-now", "--task", "nightly", "--json")
    action = json.loads(result.stdout)["result"]["actions"][0]["result"]
    assert action["pruned"] == ["amgr-backup-20000101T000000Z.tar.gz"]
    assert [p.name for p in backups.iterdir()] == [Path(action["path"]).name]
