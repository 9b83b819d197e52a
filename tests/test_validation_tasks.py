"""Issue 11, points 1, 2, 5 and 20: a task that cannot run is refused at validation.

Unknown keys get a "did you mean"; a missing topic, a bad ``chapters`` or ``period``, a
publishing kind no platform takes and every pydantic failure are one line each, exit 2,
nothing written. ``exec-now --ignore-quota`` passes the daily quota for one run and its
record says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import run

LOGS = Path(".mp") / "automation" / "logs"


def records(home: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for day in sorted((home / LOGS).glob("*.jsonl")):
        out += [json.loads(line) for line in day.read_text().splitlines() if line.strip()]
    return out


def write_tasks(home: Path, **sections: list[dict[str, Any]]) -> None:
    (home / "tasks.json").write_text(json.dumps(sections))


def assert_one_line_each(output: str) -> None:
    """No traceback and no raw pydantic dump: every line is ``FILE: field: what — fix``."""
    assert "Traceback" not in output and "validation error" not in output
    assert "pydantic" not in output and "input_value" not in output


def test_misspelled_task_keys_suggest_the_right_one(home: Path) -> None:
    write_tasks(
        home,
        content_creation=[
            {"id": "b", "type": "blog", "topic": "x", "shedule": "daily", "enabeld": True},
            {"id": "s", "type": "shorts", "topc": "y"},
        ],
    )
    result = run(home, "validate")
    assert result.exit_code == 2, result.output
    out = result.output
    assert "content_creation[0].shedule: unknown key" in out and 'did you mean "schedule"' in out
    assert "content_creation[0].enabeld" in out and 'did you mean "enabled"' in out
    assert "content_creation[1].topc" in out and 'did you mean "topic"' in out
    assert_one_line_each(out)


def test_a_types_documented_keys_stay_allowed(home: Path) -> None:
    write_tasks(
        home,
        content_creation=[
            {"id": "b", "type": "blog", "topic": "x", "slug": "x", "length": "long"},
            {"id": "e", "type": "ebook", "topic": "x", "chapters": "3", "author": "Me"},
        ],
        monetization=[{"id": "w", "type": "sales_report", "period": "weekly"}],
    )
    result = run(home, "validate")
    assert result.exit_code == 0, result.output


def test_set_of_an_unknown_field_changes_nothing(home: Path) -> None:
    before = (home / "tasks.json").read_bytes()
    result = run(
        home, "tasks", "add", "content_creation", "--type", "blog", "--topic", "t",
        "--set", "bogus_field=1",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "bogus_field: unknown key" in result.output
    assert (home / "tasks.json").read_bytes() == before


def test_exec_now_with_an_unknown_param_suggests_and_writes_no_record(home: Path) -> None:
    result = run(home, "exec-now", "content_creation", "blog", "-p", "topic=x", "-p", "lenght=long")
    assert result.exit_code == 2, result.output
    assert "-p: lenght: unknown key" in result.output and 'did you mean "length"' in result.output
    assert records(home) == []


def test_exec_now_task_with_a_bad_override_writes_no_record(home: Path) -> None:
    result = run(
        home, "exec-now", "content_creation", "ebook", "--task", "monthly-ebook",
        "-p", "chapters=99",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "-p: chapters: chapters=99 is not a whole number from 1 to 30" in result.output
    assert records(home) == []


@pytest.mark.parametrize(
    ("task", "fragment"),
    [
        ({"type": "blog"}, "content_creation[0].topic: a content_creation blog task needs a topic"),
        (
            {"type": "ebook", "topic": "x", "chapters": 0},
            "content_creation[0].chapters: chapters=0 is not a whole number from 1 to 30",
        ),
    ],
)
def test_a_content_task_that_cannot_run_is_refused(
    home: Path, task: dict[str, Any], fragment: str
) -> None:
    write_tasks(home, content_creation=[{"id": "t", **task}])
    result = run(home, "validate")
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert_one_line_each(result.output)


def test_an_unknown_period_is_refused_and_the_seeds_spellings_work(home: Path) -> None:
    write_tasks(home, monetization=[{"id": "s", "type": "sales_report", "period": "fortnight"}])
    bad = run(home, "validate")
    assert bad.exit_code == 2
    assert "monetization[0].period: period 'fortnight' is not a reporting period" in bad.output
    assert "weekly" in bad.output  # the fix lists the accepted spellings
    write_tasks(home, monetization=[{"id": "s", "type": "sales_report", "period": "weekly"}])
    assert run(home, "validate").exit_code == 0
    for period, label in (("weekly", "last 7 days"), ("Monthly", "last 30 days"), ("daily", "24")):
        result = run(home, "exec-now", "monetization", "sales_report", "-p", f"period={period}")
        assert result.exit_code == 0, result.output
        assert label in result.output
    assert [r["status"] for r in records(home)] == ["success"] * 3


def test_a_publishing_kind_no_platform_accepts_is_refused(home: Path) -> None:
    config = json.loads((home / "config.json").read_text())
    accepted = {"kind": "filesystem", "path": str(home / "out"), "accepts": ["blog"]}
    config["platforms"] = {"site": accepted}
    (home / "config.json").write_text(json.dumps(config))
    write_tasks(
        home,
        publishing=[
            {"id": "e", "type": "ebook"},
            {"id": "s", "type": "social", "platform": "site"},
            {"id": "b", "type": "blog", "platform": "site"},
        ],
    )
    result = run(home, "validate")
    assert result.exit_code == 2, result.output
    assert "publishing[0].platform: no configured platform accepts ebook items" in result.output
    assert "publishing[1].platform: platform 'site' does not accept social items" in result.output
    assert "publishing[2]" not in result.output


@pytest.mark.parametrize(
    ("param", "fragment"),
    [
        ("id=../../x", "-p: id: id '../../x' is not safe as a file name"),
        ("priority=abc", "-p: priority: "),
        ("enabled=maybe", "-p: enabled: "),
    ],
)
def test_pydantic_failures_are_one_line(home: Path, param: str, fragment: str) -> None:
    result = run(home, "exec-now", "content_creation", "blog", "-p", "topic=x", "-p", param)
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert " — " in result.output
    assert_one_line_each(result.output)
    assert records(home) == [] and not (home / "x").exists()


def test_ignore_quota_passes_the_quota_once_and_says_so(home: Path) -> None:
    config = json.loads((home / "config.json").read_text())
    config["max_daily_content"] = 1
    (home / "config.json").write_text(json.dumps(config))
    blog = ("exec-now", "content_creation", "blog", "-p", "topic=quotas")
    assert run(home, *blog).exit_code == 0
    skipped = run(home, *blog)
    assert skipped.exit_code == 0 and "max_daily_content reached: 1 of 1" in skipped.output
    forced = run(home, *blog, "--ignore-quota", "--json")
    assert forced.exit_code == 0, forced.output
    record = json.loads(forced.output)
    assert record["status"] == "success" and record["params"]["quota_ignored"] is True
    again = run(home, *blog)  # the override was for one run: the quota holds again
    assert "max_daily_content reached: 2 of 1" in again.output
    statuses = [(r["status"], r["params"].get("quota_ignored", False)) for r in records(home)]
    assert statuses == [
        ("success", False),
        ("skipped", False),
        ("success", True),
        ("skipped", False),
    ]
