"""Issue 11, points 10, 11, 15, 16: options after the subcommand, --json everywhere a
script needs it, ``tasks show``, ``exec-now --task ID`` alone, shell completion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from automation_manager.cli import cli


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env=env, prog_name="amgr")
    return result.exit_code, result.stdout, result.stderr


def records(home: Path) -> list[str]:
    logs = home / ".mp" / "automation" / "logs"
    return [line for f in sorted(logs.glob("*.jsonl")) for line in f.read_text().splitlines()]


# -- 10: --home and --json after the subcommand ------------------------------------------


def test_home_after_the_subcommand_wins_over_the_root_and_env(home: Path, tmp_path: Path) -> None:
    elsewhere = str(tmp_path / "nowhere")
    code, out, err = run(
        ["--home", elsewhere, "tasks", "list", "--home", str(home), "--json"],
        env={"AMGR_HOME": elsewhere},
    )
    assert code == 0, err
    assert "daily-shorts" in [t["id"] for t in json.loads(out)["tasks"]]
    code, out, _ = run(["history", "--home", str(home), "--json"])
    assert code == 0 and json.loads(out)["records"] == []


def test_home_after_a_group_and_after_init(home: Path, tmp_path: Path) -> None:
    code, out, _ = run(["tasks", "--home", str(home), "list"])
    assert code == 0 and "weekly-blog" in out
    fresh = tmp_path / "fresh"
    code, _, _ = run(["init", "--home", str(fresh)])
    assert code == 0 and (fresh / "tasks.json").is_file()


def test_json_before_the_subcommand(home: Path) -> None:
    code, out, _ = run(["--home", str(home), "--json", "tasks", "show", "weekly-blog"])
    assert code == 0 and json.loads(out)["task"]["id"] == "weekly-blog"


def test_root_json_on_a_command_without_json_is_refused(home: Path) -> None:
    code, out, err = run(["--json", "run", "--home", str(home), "--once"])
    assert code == 2 and out == ""
    assert "--json: `amgr run` has no JSON output" in err
    assert records(home) == []


# -- 11: --json on validate, init, tasks edits, check ------------------------------------


def test_init_json_says_what_it_wrote_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "h"
    code, out, _ = run(["init", str(target), "--json"])
    assert code == 0
    doc = json.loads(out)
    assert doc["home"] == str(target.resolve())
    assert [f["action"] for f in doc["files"]] == ["wrote"] * 3
    code, out, _ = run(["init", str(target), "--json"])
    assert [f["action"] for f in json.loads(out)["files"]] == ["kept"] * 3


def test_validate_json_valid_and_invalid(home: Path) -> None:
    code, out, _ = run(["validate", "--home", str(home), "--json"])
    assert code == 0
    doc = json.loads(out)
    assert doc["valid"] is True and doc["tasks"] > 0 and doc["timezone"]
    tasks = home / "tasks.json"
    tasks.write_text(tasks.read_text()[:-5])  # truncated
    before = tasks.read_bytes()
    code, out, err = run(["validate", "--home", str(home), "--json"])
    assert code == 2
    doc = json.loads(out)
    assert doc["valid"] is False
    assert doc["problems"][0]["file"] == "tasks.json" and doc["problems"][0]["message"]
    assert "tasks.json" in err and "Traceback" not in err
    assert tasks.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["add", "maintenance", "--type", "health_check", "--id", "hc2"], "hc2"),
        (["update", "weekly-blog", "--set", "priority=3"], "weekly-blog"),
        (["disable", "weekly-blog"], "weekly-blog"),
        (["enable", "weekly-blog"], "weekly-blog"),
        (["remove", "weekly-blog"], "weekly-blog"),
    ],
)
def test_task_edits_print_one_json_document(home: Path, args: list[str], check: str) -> None:
    code, out, _ = run(["tasks", *args, "--home", str(home), "--json"])
    assert code == 0
    assert json.loads(out)["id"] == check


def test_task_edit_error_with_json_leaves_stdout_empty(home: Path) -> None:
    before = (home / "tasks.json").read_bytes()
    code, out, err = run(
        ["tasks", "update", "weekly-blog", "--set", "priority=x", "--json", "--home", str(home)]
    )
    assert code == 2 and out == "" and "priority" in err
    assert (home / "tasks.json").read_bytes() == before


def test_check_json_is_one_document(home: Path) -> None:
    code, out, _ = run(["check", "--home", str(home), "--json"])
    doc = json.loads(out)
    assert code == (0 if doc["ok"] else 1)
    assert doc["checks"] and all("message" in c for c in doc["checks"])


# -- 15: tasks show, exec-now --task ID --------------------------------------------------


def test_tasks_show_effective_schedule_and_next_three(home: Path) -> None:
    code, out, _ = run(["tasks", "show", "weekly-blog", "--home", str(home), "--json"])
    assert code == 0
    task = json.loads(out)["task"]
    assert task["schedule"].startswith("every Tuesday at 08:00")
    assert len(task["next_firings"]) == 3
    assert task["next_firings"] == sorted(task["next_firings"])
    assert task["next_due"] == task["next_firings"][0]
    assert task["fields"]["topic"]
    code, out, _ = run(["tasks", "show", "weekly-blog", "--home", str(home)])
    assert code == 0 and "next 3 firings" in out and out.count(" Tue\n") == 3


def test_tasks_show_schedule_from_schedules_json(home: Path) -> None:
    code, _, err = run(
        [
            "tasks",
            "add",
            "maintenance",
            "--type",
            "health_check",
            "--id",
            "hc2",
            "--home",
            str(home),
        ]
    )
    assert code == 0, err
    code, out, _ = run(["tasks", "show", "hc2", "--home", str(home), "--json"])
    task = json.loads(out)["task"]
    assert task["schedule_from"] == "schedules.json"


def test_tasks_show_disabled_and_unknown(home: Path) -> None:
    run(["tasks", "disable", "weekly-blog", "--home", str(home)])
    code, out, _ = run(["tasks", "show", "weekly-blog", "--home", str(home)])
    assert code == 0 and "disabled" in out and "firings" not in out
    code, out, err = run(["tasks", "show", "nope", "--home", str(home)])
    assert code == 2 and out == ""
    assert "tasks.json: nope: no task with this id — see `amgr tasks list`" in err


def test_exec_now_task_alone(home: Path) -> None:
    code, out, err = run(["exec-now", "--task", "pending-report", "--home", str(home), "--json"])
    assert code == 0, err
    record = json.loads(out)
    assert (record["category"], record["type"], record["task_id"]) == (
        "maintenance",
        "pending_report",
        "pending-report",
    )
    # the long form still works, and a wrong type is still refused
    code, _, _ = run(
        [
            "exec-now",
            "maintenance",
            "pending_report",
            "--task",
            "pending-report",
            "--home",
            str(home),
        ]
    )
    assert code == 0
    assert len(records(home)) == 2


def test_exec_now_without_kind_or_task_is_usage(home: Path) -> None:
    code, out, err = run(["exec-now", "--home", str(home)])
    assert code == 2 and out == ""
    assert "give CATEGORY and TYPE" in err and "--task ID" in err
    code, _, err = run(["exec-now", "--task", "nope", "--home", str(home)])
    assert code == 2 and "no task with this id" in err
    assert records(home) == []


# -- 16: completion ----------------------------------------------------------------------


def complete(words: str, cword: int, env: dict[str, str] | None = None) -> list[str]:
    code, out, _ = run(
        [],
        env={
            "_AMGR_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
            **(env or {}),
        },
    )
    assert code == 0
    return [line.split(",", 1)[1] for line in out.splitlines()]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script(shell: str) -> None:
    code, out, _ = run(["completion", shell])
    assert code == 0 and "_AMGR_COMPLETE" in out


def test_completion_unknown_shell() -> None:
    code, _, err = run(["completion", "tcsh"])
    assert code == 2 and "tcsh" in err


def test_completes_commands_and_flags() -> None:
    assert complete("amgr ta", 1) == ["tasks"]
    assert "--task" in complete("amgr exec-now --ta", 2)


def test_completes_task_ids(home: Path) -> None:
    ids = complete(f"amgr tasks enable --home {home} ", 5)
    assert "weekly-blog" in ids and "daily-shorts" in ids
    assert complete(f"amgr --home {home} exec-now --task daily-", 5) == ["daily-shorts"]
    assert complete("amgr tasks show weekly-b", 3, env={"AMGR_HOME": str(home)}) == ["weekly-blog"]


def test_task_ids_complete_from_a_broken_tasks_json(home: Path) -> None:
    tasks = home / "tasks.json"
    data = json.loads(tasks.read_text())
    data["content_creation"][0]["priority"] = "high"  # fails validation, still JSON
    tasks.write_text(json.dumps(data))
    assert run(["validate", "--home", str(home)])[0] == 2
    assert "weekly-blog" in complete(f"amgr --home {home} tasks show ", 5)


def test_completes_content_and_run_ids(home: Path) -> None:
    item = home / ".mp" / "content" / "blog-20260101-090000-x-1a2b"
    item.mkdir(parents=True)
    (item / "item.json").write_text("{}")
    runs = home / ".mp" / "runs"
    runs.mkdir(parents=True)
    (runs / "r0123.json").write_text("{}")
    assert complete(f"amgr --home {home} content show blog-", 5) == [item.name]
    assert complete(f"amgr --home {home} runs show r0", 5) == ["r0123"]
