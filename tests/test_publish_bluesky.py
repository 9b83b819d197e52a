"""Bluesky end to end against a PDS-shaped server that checks graphemes, facets and refs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_platforms import Reply, add_item, amgr, item_json, kill_mid_request, write_home
from fake_social import BSKY_HANDLE, BSKY_PASSWORD, PNG, FakeBluesky

from automation_manager.publishers.bluesky import facets, graphemes, post_length


@pytest.fixture
def pds(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBluesky]:
    monkeypatch.setenv("BSKY_APP_PASSWORD", BSKY_PASSWORD)
    server = FakeBluesky().start()
    yield server
    server.stop()


def home_for(tmp_path: Path, url: str) -> Path:
    config = {
        "kind": "bluesky",
        "api_base": url,
        "handle": BSKY_HANDLE,
        "password_env": "BSKY_APP_PASSWORD",
        "timeout_s": 5,
    }
    return write_home(tmp_path, {"sky": config})


def social(home: Path, parts: list[str], card: bool = False) -> str:
    files: dict[str, tuple[str, bytes | str]] = {
        "json": ("posts.json", json.dumps({"parts": parts}))
    }
    if card:
        files["card"] = ("card.png", PNG)
    visuals = {"card": {"role": "card", "name": "card.png", "alt": "A focus card"}}
    return add_item(home, "social", parts[0][:40], files=files, meta={"visuals": visuals})


def test_a_thread_with_facets_and_a_card_is_posted_once(tmp_path: Path, pds: FakeBluesky) -> None:
    home = home_for(tmp_path, pds.url)
    first = "Déjà vu 🧠 ask @alice.bsky.social about #DeepWork: https://example.com/focus?x=1."
    item = social(home, [first, "Second: block your mornings."], card=True)

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    one, two = pds.posts
    kinds = [f["features"][0]["$type"].rsplit("#")[-1] for f in one["facets"]]
    assert kinds == ["mention", "tag", "link"]  # and the fake checked every byte offset
    assert one["embed"]["images"][0]["alt"] == "A focus card"
    assert two["reply"]["root"]["uri"] == one["uri"] == two["reply"]["parent"]["uri"]
    saved = item_json(home, item)["published"]["sky"]
    assert saved["remote_id"] == one["uri"] and saved["url"].startswith("https://bsky.app/")

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert len(pds.posts) == 2  # nothing sent again


def test_long_text_is_split_at_300_graphemes(tmp_path: Path, pds: FakeBluesky) -> None:
    home = home_for(tmp_path, pds.url)
    long_post = " ".join(f"Satz {n}: tiefe Arbeit braucht Ruhe 👩‍💻." for n in range(20))
    social(home, [long_post])

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    assert len(pds.posts) > 1
    assert all(graphemes(p["text"]) <= 300 for p in pds.posts)
    for before, after in zip(pds.posts, pds.posts[1:], strict=False):
        assert after["reply"]["parent"]["uri"] == before["uri"]


def test_killed_after_the_pds_stored_the_post_posts_it_once(
    tmp_path: Path, pds: FakeBluesky
) -> None:
    home = home_for(tmp_path, pds.url)
    item = social(home, ["Part one.", "Part two."])
    kill_mid_request(
        home, pds, "com.atproto.repo.createRecord", {"BSKY_APP_PASSWORD": BSKY_PASSWORD}
    )
    assert len(pds.posts) == 1

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert [p["text"] for p in pds.posts] == ["Part one.", "Part two."]
    assert item_json(home, item)["published"]["sky"]["remote_id"] == pds.posts[0]["uri"]
    assert len(pds.routed("com.atproto.repo.getRecord")) >= 1  # looked up, not resent


def test_a_wrong_app_password_opens_one_incident(
    tmp_path: Path, pds: FakeBluesky, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BSKY_APP_PASSWORD", "wrong-password-here")
    home = home_for(tmp_path, pds.url)
    item = social(home, ["Hello."])

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 1
    assert "BSKY_APP_PASSWORD" in result.output and "wrong-password-here" not in result.output
    incidents = json.loads((home / ".mp" / "state" / "incidents.json").read_text())
    assert "platform:sky" in json.dumps(incidents)
    assert item_json(home, item)["status"] == "pending" and pds.posts == []


def test_429_waits_for_the_ratelimit_reset(tmp_path: Path, pds: FakeBluesky) -> None:
    home = home_for(tmp_path, pds.url)
    item = social(home, ["Only one."])
    reset = {"ratelimit-remaining": "0", "ratelimit-reset": str(int(time.time()) + 1)}
    pds.script("com.atproto.repo.createRecord", Reply(429, {"error": "RateLimitExceeded"}, reset))

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(pds.posts) == 1 and len(pds.routed("com.atproto.repo.createRecord")) == 2
    assert item_json(home, item)["status"] == "published"


def test_graphemes_and_byte_offsets() -> None:
    assert graphemes("👩‍💻é") == 2 and post_length("a" * 3001) > 300
    text = "é #tag https://a.example/x."
    (tag, link) = facets(text)
    raw = text.encode()
    assert raw[tag["index"]["byteStart"] : tag["index"]["byteEnd"]] == b"#tag"
    assert link["features"][0]["uri"] == "https://a.example/x"
    assert raw[link["index"]["byteStart"] : link["index"]["byteEnd"]] == b"https://a.example/x"


def test_check_signs_in_and_posts_nothing(tmp_path: Path, pds: FakeBluesky) -> None:
    home = home_for(tmp_path, pds.url)
    result = amgr(home, "check")
    assert result.exit_code == 0, result.output
    assert f"authenticated as @{BSKY_HANDLE}" in result.output and pds.posts == []
