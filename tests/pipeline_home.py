"""Helpers for the pipeline tests: a home with one pipeline task, keywords, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from automation_manager.cli import cli

TOPICS: dict[str, list[str]] = {
    "tomato": [
        "tomato plant care",
        "best tomato fertilizer",
        "tomato blight treatment",
        "grow cherry tomato",
        "tomato seedling tips",
        "tomato pruning guide",
    ],
    "espresso": [
        "espresso machine review",
        "espresso grinder settings",
        "espresso shot timing",
        "best espresso beans",
        "espresso tamper guide",
        "espresso machine cleaning",
    ],
    "running": [
        "marathon training plan",
        "marathon nutrition",
        "marathon recovery tips",
        "first marathon guide",
        "marathon pace chart",
        "marathon taper week",
    ],
}
KEYWORDS = [k for group in TOPICS.values() for k in group]


def amgr(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def ok(home: Path, *args: str) -> Result:
    result = amgr(home, *args)
    assert result.exit_code == 0, result.output
    return result


def as_json(home: Path, *args: str) -> Any:
    return json.loads(ok(home, *args, "--json").output)


def add_pipeline(home: Path, task_id: str = "site-plan", **fields: Any) -> str:
    tasks_path = home / "tasks.json"
    tasks = json.loads(tasks_path.read_text())
    task = {
        "id": task_id,
        "type": "pipeline",
        "ideas_per_cluster": 2,
        "images_per_article": 1,
        "image_size": "320x180",
    }
    task.update(fields)
    tasks.setdefault("content_creation", []).append(task)
    tasks_path.write_text(json.dumps(tasks, indent=2))
    return task_id


def seed(home: Path, task_id: str = "site-plan", keywords: list[str] | None = None) -> None:
    path = home / "kw.txt"
    path.write_text("\n".join(keywords or KEYWORDS) + "\n")
    ok(home, "keywords", "import", task_id, str(path))


def status(home: Path, task_id: str = "site-plan") -> dict[str, Any]:
    report: dict[str, Any] = as_json(home, "pipeline", "status", task_id)["pipelines"][0]
    return report


def run_pipeline(home: Path, task_id: str = "site-plan") -> Result:
    return amgr(home, "exec-now", "content_creation", "pipeline", "--task", task_id)


def items(home: Path, task_id: str, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = as_json(home, "pipeline", "show", task_id, kind)["items"]
    return found


def runs(home: Path, task_id: str = "site-plan") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = as_json(home, "runs", "list", "--task", task_id)["runs"]
    return found


def blog_items(home: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = as_json(home, "content", "list", "--type", "blog")["items"]
    return found
