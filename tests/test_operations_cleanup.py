"""cleanup removes old generated files from documented folders only, never the logs, the
ledger or the state database, whatever look-alikes are planted; --dry-run lists."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.content import ContentStore
from automation_manager.enums import ContentStatus
from automation_manager.home import Home

OLD = time.time() - 90 * 86_400


def plant(path: Path, body: bytes = b"x", *, old: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    if old:
        os.utime(path, (OLD, OLD))
    return path


def amgr(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def test_cleanup_removes_only_what_it_documents(home: Path, tmp_path: Path) -> None:
    data = json.loads((home / "tasks.json").read_text())
    data["maintenance"].append(
        {
            "id": "clean",
            "type": "actions",
            "actions": [
                {"type": "report"},
                {"type": "cleanup", "params": {"older_than": "30days"}},
            ],
        }
    )
    (home / "tasks.json").write_text(json.dumps(data))
    assert amgr(home, "exec-now", "content_creation", "shorts", "-p", "topic=sleep").exit_code == 0
    mp = home / ".mp"
    store = ContentStore(Home(home))
    item = next(iter(store.items()))
    store.set_status(item.id, ContentStatus.PUBLISHED, now=datetime.now(UTC))
    folder = store.folder(item.id)

    goes = [
        plant(folder / "render.mp4"),
        plant(mp / "runs" / "r1.json", json.dumps({"status": "completed"}).encode()),
        plant(mp / "reports" / "report-week-2020-01-01.md"),
        plant(mp / "tmp" / "leftover.bin"),
    ]
    done = mp / "outbox" / "youtube" / "item-1"
    plant(done / "post.txt")
    plant(done / "done")
    stays = [
        plant(mp / "automation" / "logs" / "2020-01-01.jsonl", b'{"id": "r"}\n'),
        plant(mp / "automation" / "logs" / "render.mp4"),
        plant(mp / "publish" / "ledger.jsonl", b"{}\n"),
        plant(mp / "publish" / "old.png"),
        plant(mp / "tmp" / "amgr.db"),  # a look-alike of the state database
        plant(mp / "tmp" / "ledger.jsonl"),  # a look-alike of the ledger
        plant(mp / "reports" / "2020-01-01.jsonl"),  # a look-alike of a log
        plant(mp / "runs" / "r2.json", json.dumps({"status": "running"}).encode()),
        plant(mp / "tmp" / "young.bin", old=False),
        plant(folder / "item.json", (folder / "item.json").read_bytes()),
        plant(mp / "outbox" / "youtube" / "item-2" / "post.txt"),  # not marked done
        plant(tmp_path / "outside" / "precious.mp4"),
    ]
    # the real state database (the runs below use it: planting a fake one in its place
    # would only test SQLite), as old as everything the cleanup may take
    db = mp / "state" / "amgr.db"
    assert db.read_bytes().startswith(b"SQLite format 3\0")
    os.utime(db, (OLD, OLD))
    (mp / "tmp" / "link.mp4").symlink_to(tmp_path / "outside" / "precious.mp4")
    os.utime(mp / "tmp" / "link.mp4", (OLD, OLD), follow_symlinks=False)

    before = {p: p.read_bytes() for p in stays}
    dry = amgr(home, "exec-now", "--task", "clean", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    report, cleaned = json.loads(dry.stdout)["result"]["actions"]
    assert report == {"type": "report", "status": "not_run", "reason": "dry run"}
    listed = cleaned["result"]
    assert listed["dry_run"] is True
    names = sorted(Path(e["path"]).name for e in listed["would_remove"])
    assert names == sorted([*(p.name for p in goes), "item-1"])
    assert all(p.exists() for p in goes) and done.exists()

    real = amgr(home, "exec-now", "--task", "clean", "--json")
    assert real.exit_code == 0, real.output
    assert not any(p.exists() for p in goes) and not done.exists()
    assert {p: p.read_bytes() for p in stays} == before
    assert db.read_bytes().startswith(b"SQLite format 3\0")  # kept (and still in use)
    assert (mp / "tmp" / "link.mp4").is_symlink()
    assert (tmp_path / "outside" / "precious.mp4").exists()
