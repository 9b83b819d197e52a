"""Issue 11 points 7 and 8: a publishing run that sends nothing says why, per reason and
count; an outbox item is ``ready``, never ``published``; a task's ``platform`` may name
a platform kind that exactly one configured platform has."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fake_platforms import add_item, amgr, item_json, mastodon_config, write_home

from automation_manager import AutomationManager

MON_1000 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
SLOTS = {"kind": "filesystem", "path": "site", "window": {"mode": "slots", "times": ["09:00"]}}


def publish_at(home: Path, when: datetime) -> dict[str, object]:
    mgr = AutomationManager(home, clock=lambda: when)
    spec = mgr.resolve_task("publishing", {"type": "pending"})
    record: dict[str, object] = mgr.run(spec).to_json()
    return record


def test_nothing_published_says_why_per_reason_and_count(tmp_path: Path) -> None:
    home = write_home(
        tmp_path,
        {"masto": mastodon_config("http://127.0.0.1:9"), "wp": {**SLOTS, "accepts": ["blog"]}},
    )
    first = add_item(home, "social", "One", status="review")
    add_item(home, "social", "Two", status="review")
    add_item(home, "social", "Three", targets=["mastodon"])
    add_item(home, "blog", "Four", now=MON_1000)  # the 09:00 slot today has passed

    record = publish_at(home, MON_1000)
    summary = str(record["result"]["summary"])  # type: ignore[index]

    assert summary.startswith("0 published: "), summary
    assert "2 social items wait for review (amgr content list)" in summary
    assert (
        "1 item targets 'mastodon', which is not a configured platform (configured: masto, wp)"
        in summary
    )
    assert "next slot for wp 2026-01-06 09:00" in summary
    assert record["status"] == "success"
    # one item in review: the hint names it
    amgr(home, "content", "reject", add_item(home, "social", "Two b", status="review"))
    amgr(home, "content", "approve", first)
    again = str(publish_at(home, MON_1000)["result"]["summary"])  # type: ignore[index]
    assert "1 social item waits for review (amgr content approve " in again


def test_a_run_with_nothing_at_all_says_so(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"wp": SLOTS})
    summary = str(publish_at(home, MON_1000)["result"]["summary"])  # type: ignore[index]
    assert summary == "0 published: nothing is approved to publish"


def test_an_outbox_item_is_ready_not_published(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"youtube": {"kind": "outbox"}})
    item = add_item(home, "shorts", "A short", files={"script": ("script.md", "# A short\n")})

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert "0 published, 1 ready in outboxes" in result.output
    assert "published 1" not in result.output
    saved = item_json(home, item)
    assert saved["status"] == "ready"
    assert saved["history"][-1]["status"] == "ready"
    listing = amgr(home, "content", "list")
    row = next(line for line in listing.output.splitlines() if line.startswith(item))
    assert "\tready\t" in row and "\tpublished\t" not in row
    shown = json.loads(amgr(home, "content", "list", "--status", "ready", "--json").output)
    assert [i["id"] for i in shown["items"]] == [item]
    history = json.loads(amgr(home, "history", "--json").output)["records"][0]
    assert history["result"]["ready"][0]["item"] == item
    assert history["result"]["published"] == []


def test_an_item_live_on_one_target_and_in_an_outbox_on_another_is_ready(
    tmp_path: Path,
) -> None:
    home = write_home(tmp_path, {"site": {"kind": "filesystem", "path": "s"}, "x": {}})
    item = add_item(home, "blog", "Both", targets=["site", "x"])
    result = amgr(home, "exec-now", "publishing", "pending")
    assert "1 published, 1 ready in outboxes" in result.output, result.output
    assert item_json(home, item)["status"] == "ready"


def test_a_content_task_platform_may_name_the_one_platform_of_that_kind(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"masto": mastodon_config("http://127.0.0.1:9")})
    result = amgr(
        home,
        "exec-now",
        "content_creation",
        "social",
        "--json",
        "-p",
        "topic=night owls",
        "-p",
        "platform=mastodon",
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    item = record["result"]["content_id"]
    assert item_json(home, item)["targets"] == ["masto"]
    posts = json.loads((home / ".mp" / "content" / item / "posts.json").read_text(encoding="utf-8"))
    assert posts["limit"] == 500  # mastodon's limit, from the platform's kind


def test_an_unknown_platform_name_is_refused_naming_the_configured_ones(
    tmp_path: Path,
) -> None:
    home = write_home(
        tmp_path,
        {"masto": mastodon_config("http://127.0.0.1:9"), "m2": mastodon_config("http://x")},
        tasks={
            "content_creation": [
                {"id": "s", "type": "social", "topic": "t", "platform": "linkedin"},
                {"id": "m", "type": "social", "topic": "t", "platform": "mastodon"},
            ]
        },
    )
    before = (home / "tasks.json").read_bytes()
    result = amgr(home, "validate")
    assert result.exit_code == 2
    assert (
        "tasks.json: content_creation[0].platform: platform 'linkedin' is not in config.json "
        "platforms (configured: masto, m2)" in result.output
    )
    assert "2 configured platforms are of kind mastodon: masto, m2" in result.output
    assert (home / "tasks.json").read_bytes() == before
    assert not (home / ".mp" / "automation" / "logs").exists() or not list(
        (home / ".mp" / "automation" / "logs").glob("*.jsonl")
    )
