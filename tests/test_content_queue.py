"""``amgr content list|show|approve|reject|retry``: the queue as a person uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_platforms import add_item, amgr, item_json, write_home

SITE = {"kind": "filesystem", "path": "site"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return write_home(tmp_path, {"site": SITE, "youtube": {"kind": "outbox"}})


def test_list_filters_by_status_and_type(home: Path) -> None:
    blog = add_item(home, status="review")
    shorts = add_item(home, "shorts", "Clip", status="pending")

    everything = json.loads(amgr(home, "content", "list", "--json").output)["items"]
    assert [i["id"] for i in everything] == [blog, shorts]
    review = json.loads(amgr(home, "content", "list", "--status", "review", "--json").output)
    assert [i["id"] for i in review["items"]] == [blog]
    only_shorts = amgr(home, "content", "list", "--type", "shorts")
    assert shorts in only_shorts.output and blog not in only_shorts.output
    assert "youtube: waiting" in only_shorts.output


def test_list_on_an_empty_home_says_so(home: Path) -> None:
    result = amgr(home, "content", "list")
    assert result.exit_code == 0 and "no content items yet" in result.output


def test_show_gives_files_history_and_where_it_went(home: Path) -> None:
    item = add_item(home)
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    text = amgr(home, "content", "show", item)
    assert text.exit_code == 0
    assert f"file:    markdown: {home}/.mp/content/{item}/post.md" in text.output
    assert "site: published site/" in text.output
    assert "pending — created" in text.output and "published — site: published" in text.output

    data = json.loads(amgr(home, "content", "show", item, "--json").output)
    assert data["status"] == "published"
    assert [h["status"] for h in data["history"]] == ["pending", "published"]
    [where] = data["where"]
    assert where["platform"] == "site" and where["remote_id"].startswith("site/")


def test_approve_moves_review_to_pending_once(home: Path) -> None:
    item = add_item(home, status="review")
    result = amgr(home, "content", "approve", item)
    assert result.exit_code == 0 and "pending" in result.output
    assert item_json(home, item)["history"][-1]["note"] == "approved"
    again = amgr(home, "content", "approve", item)
    assert again.exit_code == 2 and "cannot approve a pending item" in again.output


def test_reject_keeps_the_reason(home: Path) -> None:
    item = add_item(home)
    assert amgr(home, "content", "reject", item, "--reason", "off topic").exit_code == 0
    saved = item_json(home, item)
    assert saved["status"] == "rejected" and saved["history"][-1]["note"] == "off topic"


def test_retry_needs_a_failed_item(home: Path) -> None:
    item = add_item(home)
    result = amgr(home, "content", "retry", item)
    assert result.exit_code == 2 and "only failed items can be retried" in result.output


@pytest.mark.parametrize("bad", ["../../etc/passwd", "nope", ".hidden"])
@pytest.mark.parametrize("command", ["show", "approve", "reject", "retry"])
def test_bad_ids_are_refused_clearly(home: Path, command: str, bad: str) -> None:
    result = amgr(home, "content", command, bad)
    assert result.exit_code == 2
    assert "amgr content list" in result.output
    assert "Traceback" not in result.output
