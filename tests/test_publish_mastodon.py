"""Mastodon end to end against a Mastodon-shaped server with real Idempotency-Key rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_platforms import (
    MASTODON_TOKEN,
    FakeMastodon,
    Reply,
    add_item,
    amgr,
    item_json,
    kill_mid_request,
    mastodon_config,
    running,
    write_home,
)

from automation_manager.publishers.mastodon import split_text, status_length

pytestmark = pytest.mark.usefixtures("mastodon_token")


@pytest.fixture
def masto() -> Iterator[FakeMastodon]:
    with running(FakeMastodon(token=MASTODON_TOKEN, max_characters=120)) as server:
        yield server


def masto_home(tmp_path: Path, url: str, **platform: object) -> Path:
    config = mastodon_config(url, **{"visibility": "unlisted", **platform})
    return write_home(tmp_path, {"masto": config})


def social(home: Path, parts: list[str]) -> str:
    return add_item(
        home,
        "social",
        parts[0][:40],
        files={
            "markdown": ("posts.md", "\n\n".join(parts)),
            "json": ("posts.json", json.dumps({"thread": len(parts) > 1, "parts": parts})),
        },
        meta={},
    )


def test_a_social_thread_is_posted_in_order_as_replies(tmp_path: Path, masto: FakeMastodon) -> None:
    home = masto_home(tmp_path, masto.url)
    item = social(home, ["First: why focus matters.", "Second: block your mornings."])

    result = amgr(home, "exec-now", "publishing", "social", "-p", "platform=masto")

    assert result.exit_code == 0, result.output
    first, second = masto.statuses
    assert first["content"] == "First: why focus matters." and first["in_reply_to_id"] is None
    assert second["in_reply_to_id"] == first["id"]
    assert {s["visibility"] for s in masto.statuses} == {"unlisted"}
    published = item_json(home, item)["published"]["masto"]
    assert published["url"] == first["url"]


def test_text_longer_than_the_instance_limit_becomes_a_thread(
    tmp_path: Path, masto: FakeMastodon
) -> None:
    home = masto_home(tmp_path, masto.url)
    long_post = " ".join(f"Sentence number {n} about deep work." for n in range(12))
    social(home, [long_post])

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    count = len(masto.statuses)
    assert count > 1
    assert all(len(s["content"]) <= 120 for s in masto.statuses)
    suffixes = [f" ({i}/{count})" for i in range(1, count + 1)]
    assert all(s["content"].endswith(x) for s, x in zip(masto.statuses, suffixes, strict=True))
    text = " ".join(
        s["content"].removesuffix(x) for s, x in zip(masto.statuses, suffixes, strict=True)
    )
    assert text == long_post
    for before, after in zip(masto.statuses, masto.statuses[1:], strict=False):
        assert after["in_reply_to_id"] == before["id"]


def test_split_counts_links_as_23_characters() -> None:
    link = "https://example.com/" + "x" * 200
    assert status_length(f"see {link}") == 4 + 23
    assert split_text(f"see {link}", 30) == [f"see {link}"]
    assert split_text("", 10) == []
    short = "Read this: https://x.co " + "word " * 20  # the 12-character link counts as 23
    assert all(status_length(part) <= 60 for part in split_text(short, 60))


def test_idempotency_keys_are_stable_per_item_and_part(tmp_path: Path, masto: FakeMastodon) -> None:
    home = masto_home(tmp_path, masto.url)
    social(home, ["One.", "Two."])
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    keys = [r.headers["idempotency-key"] for r in masto.routed("POST /api/v1/statuses")]
    assert len(set(keys)) == 2 and all(k.startswith("amgr-") for k in keys)


def test_rate_limit_waits_for_retry_after(tmp_path: Path, masto: FakeMastodon) -> None:
    home = masto_home(tmp_path, masto.url)
    item = social(home, ["Only one."])
    masto.script(
        "POST /api/v1/statuses", Reply(429, {"error": "Too many requests"}, {"Retry-After": "1"})
    )

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(masto.statuses) == 1 and len(masto.routed("POST /api/v1/statuses")) == 2
    assert item_json(home, item)["status"] == "published"


def test_a_refusal_shows_mastodons_message(tmp_path: Path, masto: FakeMastodon) -> None:
    home = masto_home(tmp_path, masto.url)
    item = social(home, ["Hello."])
    masto.script("POST /api/v1/statuses", Reply(422, {"error": "Validation failed: spam"}))

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 1
    assert "Validation failed: spam" in result.output
    saved = item_json(home, item)
    assert saved["status"] == "failed" and "Validation failed: spam" in saved["errors"]["masto"]


def test_a_missing_token_says_which_variable_to_set(
    tmp_path: Path, masto: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MASTODON_TOKEN")
    home = masto_home(tmp_path, masto.url)
    item = social(home, ["Hello."])

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 1
    assert "platforms.masto.token_env" in result.output and "MASTODON_TOKEN" in result.output
    assert item_json(home, item)["status"] == "pending"
    assert masto.statuses == []


def test_killed_mid_thread_resumes_without_duplicates(tmp_path: Path, masto: FakeMastodon) -> None:
    home = masto_home(tmp_path, masto.url, timeout_s=30)
    item = social(home, ["Part one.", "Part two.", "Part three."])
    # the first status: created, unanswered
    kill_mid_request(home, masto, "POST /api/v1/statuses", {"MASTODON_TOKEN": MASTODON_TOKEN})
    assert len(masto.statuses) == 1

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert [s["content"] for s in masto.statuses] == ["Part one.", "Part two.", "Part three."]
    assert masto.statuses[1]["in_reply_to_id"] == masto.statuses[0]["id"]
    assert item_json(home, item)["published"]["masto"]["remote_id"] == masto.statuses[0]["id"]
