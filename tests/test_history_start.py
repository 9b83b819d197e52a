"""`amgr history` starts without pydantic while the files are the ones that validated
(issue 19, point 3), masks the configured secrets either way, and ``--json`` writes
every record's bytes as they are in the log."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from automation_manager import AutomationManager
from automation_manager.cli import cli
from automation_manager.enums import RunStatus, Trigger
from automation_manager.home import Home
from automation_manager.logs.records import RunRecord
from automation_manager.logs.writer import append_record, log_path_for

NOW = datetime.now(UTC).replace(microsecond=0)
SECRET = "s3cr3t-Value-4242"
KEY_ENV = "AMGR_TEST_LLM_KEY"

# Runs amgr as `amgr ARGS` would, then writes the modules it imported to OUT.
CHILD = """
import atexit, json, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["amgr", *sys.argv[2:]]
from automation_manager.cli import main
main()
"""


def record(ago: timedelta, n: int = 0, **fields: Any) -> RunRecord:
    values: dict[str, Any] = {
        "id": f"r{int((NOW - ago).timestamp()):x}{n:05d}",
        "timestamp": NOW - ago,
        "task_id": "daily-blog",
        "category": "content_creation",
        "type": "blog",
        "trigger": Trigger.SCHEDULED,
        "status": RunStatus.SUCCESS,
        "success": True,
        "params": {"topic": f"deep work nº{n} — ünïcode"},
        "result": {"summary": "ok"},
        "duration_ms": 100 + n,
    }
    values.update(fields)
    return RunRecord(**values)


def plant(home: Path, ago: timedelta, **fields: Any) -> RunRecord:
    """Append one record through the real writer (not masked: the history masks it)."""
    rec = record(ago, **fields)
    append_record(Home(home), rec)
    return rec


def facts_path(home: Path) -> Path:
    return home / ".mp" / "state" / "workspace-facts.json"


def amgr(home: Path, tmp_path: Path, *args: str, secret: bool = False) -> tuple[str, str, set[str]]:
    """``amgr --home HOME ARGS`` in a child process: (stdout, stderr, modules imported)."""
    out = tmp_path / "modules.json"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AMGR_VISUALS": "none", "TZ": "UTC"}
    if secret:
        env[KEY_ENV] = SECRET
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(out.read_text()))
    assert "automation_manager.logs.history" in modules or "show" in args  # it did run
    return done.stdout, done.stderr, modules


def edit_config(home: Path, **changes: Any) -> None:
    path = home / "config.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | changes, indent=2))


def test_history_starts_without_pydantic_once_the_files_validated(
    home: Path, tmp_path: Path
) -> None:
    rec = plant(home, timedelta(minutes=5))
    first, _, modules = amgr(home, tmp_path, "history", "--days", "1")
    assert "pydantic" in modules and rec.id in first  # no facts yet: validated
    facts = facts_path(home)
    assert stat.S_IMODE(facts.stat().st_mode) == 0o600
    kept = json.loads(facts.read_text())
    assert set(kept["files"]) == {"config.json", "tasks.json", "schedules.json"}
    assert ["OPENAI_API_KEY", None] in kept["secret_names"]
    for args in (
        ["--days", "1"],
        ["--json"],
        ["--csv"],
        ["show", rec.id],
        ["--process-type", "content", "--days", "1"],
    ):
        out, err, modules = amgr(home, tmp_path, "history", *args)
        assert "pydantic" not in modules, args
        assert rec.id in out and err == "", args
    again = facts.read_bytes()
    assert json.loads(again) == kept  # read, not rewritten


def test_an_edited_or_broken_file_is_validated_as_before(home: Path, tmp_path: Path) -> None:
    plant(home, timedelta(minutes=5))
    amgr(home, tmp_path, "history")  # keeps the facts
    tasks = home / "tasks.json"
    text = tasks.read_text()
    assert "daily-shorts" in text
    tasks.write_text(text.replace("daily-shorts", "daily-shOrts"))  # same size, other bytes
    _, _, modules = amgr(home, tmp_path, "history")
    assert "pydantic" in modules
    _, _, modules = amgr(home, tmp_path, "history")
    assert "pydantic" not in modules  # kept again after that validation

    good = (home / "config.json").read_text()
    edit_config(home, max_daily_content="many")
    for _ in range(2):  # never kept from a file that does not validate
        out, err, modules = amgr(home, tmp_path, "history", "--json")
        assert "pydantic" in modules
        assert err.startswith("warning: config.json: max_daily_content") and "showing" in err
        assert json.loads(out)["summary"]["runs"] == 1

    (home / "config.json").write_text(good)
    edit_config(home, timezone="Asia/Tokyo")
    for light in (False, True):  # the zone comes from the facts on the light path
        out, _, modules = amgr(home, tmp_path, "history", "--json")
        assert ("pydantic" not in modules) is light
        assert json.loads(out)["summary"]["since"].endswith("+09:00")

    facts = facts_path(home)
    whole = facts.read_bytes()
    facts.write_bytes(whole[: len(whole) // 2])  # torn
    _, _, modules = amgr(home, tmp_path, "history")
    assert "pydantic" in modules and facts.read_bytes() == whole
    (home / "schedules.json").unlink()  # a file that went is a change too
    _, _, modules = amgr(home, tmp_path, "history")
    assert "pydantic" in modules
    assert json.loads(facts.read_text())["files"]["schedules.json"] is None
    _, _, modules = amgr(home, tmp_path, "history")
    assert "pydantic" not in modules


@pytest.mark.parametrize("path", ["validated", "kept"])
def test_a_secret_set_in_the_environment_is_masked_in_history(
    home: Path, tmp_path: Path, path: str
) -> None:
    edit_config(home, llm={"provider": "offline", "api_key_env": KEY_ENV})
    leaked = plant(
        home, timedelta(minutes=3), status=RunStatus.FAILED, success=False, result=None,
        error=f"HTTP 401 for key {SECRET}", params={"topic": f"about {SECRET}"},
    )  # fmt: skip
    if path == "kept":
        amgr(home, tmp_path, "history")
    for args in (["--days", "1"], ["--csv"], ["show", leaked.id], ["show", leaked.id, "--json"]):
        if path == "validated":
            facts_path(home).unlink(missing_ok=True)
        out, err, modules = amgr(home, tmp_path, "history", *args, secret=True)
        assert ("pydantic" in modules) is (path == "validated"), args
        assert SECRET not in out + err, args
        assert "***" in out, args
    assert SECRET not in facts_path(home).read_text()  # names are kept, never values


def test_the_injected_clock_is_used_on_the_light_path(home: Path) -> None:
    old = plant(home, timedelta(days=30))
    assert CliRunner().invoke(cli, ["--home", str(home), "history"]).exit_code == 0  # keeps
    then = NOW - timedelta(days=29, hours=23)
    obj: dict[str, Any] = {"manager": AutomationManager(home, clock=lambda: then)}
    result = CliRunner().invoke(cli, ["--home", str(home), "history", "--days", "1"], obj=obj)
    assert result.exit_code == 0, result.output
    assert old.id in result.output
    assert "view" in obj and "workspace" not in obj  # the facts were used, not validation
    now = CliRunner().invoke(cli, ["--home", str(home), "history", "--days", "1"])
    assert old.id not in now.output


# `amgr ARGS` with the gather path (numpy-built iovecs, see cli/sink.py) from record one.
GATHERING = """
import sys
import automation_manager.cli.sink as sink
sink.GATHER_FROM = 0
sys.argv = ["amgr", *sys.argv[1:]]
from automation_manager.cli import main
main()
"""


@pytest.mark.parametrize("gather", [False, True], ids=["lists", "gather"])
def test_json_output_is_every_record_as_it_is_in_the_log(
    home: Path, tmp_path: Path, gather: bool
) -> None:
    lines: dict[int, list[RunRecord]] = {}
    for day in range(3):  # more records a day than one writev takes
        recs = [record(timedelta(days=day, seconds=10 * n + 1), n) for n in range(700)]
        recs.reverse()  # appended oldest first
        lines[day] = recs
        path = log_path_for(Home(home), recs[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.writelines(r.to_line() + "\n" for r in recs)
    newest_first = sorted(
        (r for recs in lines.values() for r in recs), key=lambda r: r.timestamp, reverse=True
    )
    expected = ",\n".join(r.to_line() for r in newest_first).encode()
    out = tmp_path / "out.json"
    entry = ["-c", GATHERING] if gather else ["-m", "automation_manager"]
    command = [sys.executable, *entry, "--home", str(home), "history"]
    for _ in range(2):  # validated, then the light path
        with out.open("wb") as fh:  # a real file: writev
            subprocess.run(
                [*command, "--days", "5", "--json"],
                stdout=fh,
                check=True,
                timeout=60,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC"},
            )
        data = out.read_bytes()
        assert data.startswith(b'{"records": [\n' + expected + b'\n],\n"summary": ')
        parsed = json.loads(data)
        assert parsed["records"] == [json.loads(r.to_line()) for r in newest_first]
        assert parsed["summary"]["runs"] == len(newest_first)
    piped = CliRunner().invoke(cli, ["--home", str(home), "history", "--days", "5", "--json"])
    assert piped.stdout_bytes.startswith(b'{"records": [\n' + expected + b"\n],\n")  # no fd


def test_the_daemon_keeps_the_facts_when_it_loads_the_files(home: Path, tmp_path: Path) -> None:
    rec = plant(home, timedelta(minutes=5))
    AutomationManager(home).setup_schedules()  # the daemon's load, as `amgr run` does it
    kept = json.loads(facts_path(home).read_text())
    assert kept["files"]["config.json"]["size"] == (home / "config.json").stat().st_size
    out, _, modules = amgr(home, tmp_path, "history")
    assert "pydantic" not in modules and rec.id in out


def test_csv_cells_are_json_dumps_of_params_and_result(home: Path) -> None:
    import csv
    import io

    params = {"topic": 'a "quoted" ünïcode — topic', "n": [1, 2.5, 1e16, None, True]}
    result = {"nested": {"x": -0.1, "y": "line\nbreak\t\u0001"}, "ok": False}
    rec = plant(home, timedelta(minutes=2), params=params, result=result, attempt=1)
    out = CliRunner().invoke(cli, ["--home", str(home), "history", "--csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == rec.id and row["success"] == "true" and row["attempt"] == "1"
    assert row["params"] == json.dumps(params, ensure_ascii=False)
    assert row["result"] == json.dumps(result, ensure_ascii=False)
    assert row["error"] == "" and row["prompt_tokens"] == ""
