"""Issue 11 point 12 for tasks: a task id may be given as a unique prefix, like the
ids of records, content items and runs; an ambiguous prefix is exit 2 listing them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from automation_manager.cli import cli


def amgr(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    return result.exit_code, result.output


def test_a_unique_prefix_names_the_task(home: Path) -> None:
    code, out = amgr(home, "tasks", "show", "weekly-b", "--json")
    assert code == 0, out
    assert json.loads(out)["task"]["id"] == "weekly-blog"

    code, out = amgr(home, "plan", "--task", "weekly-b", "--json")
    assert code == 0, out

    code, out = amgr(home, "tasks", "disable", "weekly-b")
    assert code == 0, out
    tasks = json.loads((home / "tasks.json").read_text())
    blog = next(t for t in tasks["content_creation"] if t.get("id") == "weekly-blog")
    assert blog["enabled"] is False

    code, out = amgr(home, "tasks", "update", "weekly-b", "--set", "topic=focus")
    assert code == 0, out
    assert "weekly-blog" in out

    code, out = amgr(home, "exec-now", "--task", "weekly-b", "--json")
    assert code == 0, out
    assert json.loads(out)["task_id"] == "weekly-blog"


def test_an_ambiguous_prefix_lists_the_candidates_and_changes_nothing(home: Path) -> None:
    ids = [t["id"] for t in json.loads(amgr(home, "tasks", "list", "--json")[1])["tasks"]]
    prefix = "monthly"  # monthly-ebook, monthly-sales, monthly-bundle in `amgr init`'s tasks
    many = sorted(i for i in ids if i.startswith(prefix))
    assert len(many) > 1, ids
    before = (home / "tasks.json").read_bytes()
    for args in (["tasks", "show", prefix], ["tasks", "disable", prefix]):
        code, out = amgr(home, *args)
        assert code == 2, out
        assert f"task {prefix!r}: prefix of {len(many)} tasks" in out
        assert many[0] in out and many[1] in out
    assert (home / "tasks.json").read_bytes() == before
    code, out = amgr(home, "exec-now", "--task", prefix)
    assert code == 2 and "prefix of" in out
    assert not (home / ".mp" / "automation" / "logs").exists() or not list(
        (home / ".mp" / "automation" / "logs").glob("*.jsonl")
    )
