"""Issue 11 point 18: read-only commands survive a broken file.

``status``, ``history``, ``content list|show``, ``runs list|show``, ``plan`` and
``tasks list|show`` print one warning naming the problem and use the last good
configuration the daemon loaded (or the defaults); commands that change or run
something still refuse with exit 2.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from click.testing import CliRunner

from automation_manager.cli import cli


def amgr(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


def break_tasks(home: Path) -> bytes:
    text = (home / "tasks.json").read_text().replace('"topic": "productivity tips"', '"topc": "x"')
    (home / "tasks.json").write_text(text)
    return text.encode()


def test_read_only_commands_use_the_last_good_configuration(home: Path) -> None:
    assert amgr(home, "exec-now", "content_creation", "social", "-p", "topic=owls")[0] == 0
    code, _, err = amgr(home, "run", "--once")  # the daemon loads the files: kept as good
    assert code in (0, 1), err
    kept = home / ".mp" / "state" / "last-good.json"
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    broken = break_tasks(home)
    item = json.loads(amgr(home, "content", "list", "--json")[1])["items"][0]["id"]

    for args in (
        ["status", "--json"],
        ["history", "--json"],
        ["content", "list", "--json"],
        ["content", "show", item, "--json"],
        ["runs", "list", "--json"],
        ["plan", "--task", "daily-shorts", "--json"],
        ["tasks", "list", "--json"],
        ["tasks", "show", "daily-shorts", "--json"],
    ):
        code, out, err = amgr(home, *args)
        assert code == 0, (args, err)
        json.loads(out)  # stdout is still exactly one JSON document
        warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
        assert len(warnings) == 1, (args, err)
        assert "tasks.json: content_creation[0].topc: unknown key" in warnings[0]
        assert "showing the last good configuration the daemon loaded at " in warnings[0]
    status = json.loads(amgr(home, "status", "--json")[1])
    assert "daily-shorts" in [t["id"] for t in status["tasks"]]  # tasks from the good copy

    before = {p.name: p.read_bytes() for p in home.iterdir() if p.is_file()}
    logs = sorted((home / ".mp" / "automation" / "logs").glob("*.jsonl"))
    lines = sum(len(p.read_bytes().splitlines()) for p in logs)
    for args in (
        ["exec-now", "--task", "daily-shorts"],
        ["exec-now", "content_creation", "blog", "-p", "topic=x"],
        ["tasks", "disable", "weekly-blog"],
        ["content", "approve", item],
        ["run", "--once"],
    ):
        code, _, err = amgr(home, *args)
        assert code == 2, (args, err)
        assert "warning:" not in err and "topc" in err
    assert (home / "tasks.json").read_bytes() == broken
    assert {p.name: p.read_bytes() for p in home.iterdir() if p.is_file()} == before
    assert sum(len(p.read_bytes().splitlines()) for p in logs) == lines  # no record


def test_without_a_daemon_the_defaults_are_used(home: Path) -> None:
    break_tasks(home)
    code, out, err = amgr(home, "status", "--json")
    assert code == 0, err
    assert "showing the defaults (no tasks)" in err
    assert json.loads(out)["tasks"] == [] or all(t.get("builtin") for t in json.loads(out)["tasks"])
    code, _, err = amgr(home, "history")
    assert code == 0 and "warning: tasks.json" in err


def test_the_kept_copy_masks_secrets(home: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    secret = "hunter2-very-secret-token"
    config = json.loads((home / "config.json").read_text())
    config["platforms"]["hook"] = {
        "kind": "webhook",
        "url": f"https://example.com/in?token={secret}",
        "secret_env": "HOOK_SECRET",
    }
    (home / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("HOOK_SECRET", secret)
    amgr(home, "run", "--once")
    kept = (home / ".mp" / "state" / "last-good.json").read_text()
    assert secret not in kept


def test_the_kept_copy_is_rewritten_only_when_a_file_changed(home: Path) -> None:
    kept = home / ".mp" / "state" / "last-good.json"
    assert amgr(home, "run", "--once")[0] in (0, 1)
    first = json.loads(kept.read_text())
    assert amgr(home, "run", "--once")[0] in (0, 1)  # same files: the copy is left alone
    assert json.loads(kept.read_text())["saved_at"] == first["saved_at"]
    tasks = json.loads((home / "tasks.json").read_text())
    tasks["content_creation"][0]["topic"] = "tide pools"
    (home / "tasks.json").write_text(json.dumps(tasks))
    assert amgr(home, "run", "--once")[0] in (0, 1)
    again = json.loads(kept.read_text())
    assert again["digest"] != first["digest"] and again["saved_at"] != first["saved_at"]
    assert again["files"]["tasks.json"]["content_creation"][0]["topic"] == "tide pools"
