"""Instagram end to end against a Graph API-shaped server that really fetches the media
from a static host serving ``public_media_dir``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import Reply, add_item, amgr, item_json, kill_mid_request, write_home
from fake_social import IG_TOKEN, IG_USER, MP4, PNG, FakeInstagram, FakeStatic


@pytest.fixture
def servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("IG_ACCESS_TOKEN", IG_TOKEN)
    public = tmp_path / "public"
    public.mkdir()
    graph, static = FakeInstagram().start(), FakeStatic(public).start()
    yield graph, static
    graph.stop()
    static.stop()


def home_for(tmp_path: Path, graph: Any, static: Any) -> Path:
    config = {
        "kind": "instagram",
        "api_base": graph.url,
        "user_id": IG_USER,
        "token_env": "IG_ACCESS_TOKEN",
        "public_media_base_url": static.url,
        "public_media_dir": str(tmp_path / "public"),
        "timeout_s": 5,
    }
    return write_home(tmp_path / "home", {"ig": config})


def item(home: Path, text: str, **files: tuple[str, bytes]) -> str:
    every: dict[str, tuple[str, bytes | str]] = {
        "json": ("posts.json", json.dumps({"parts": [text]})),
        **files,
    }
    return add_item(home, "social", text[:40], files=every, meta={})


def test_a_card_is_published_through_a_container_once(tmp_path: Path, servers: Any) -> None:
    graph, static = servers
    home = home_for(tmp_path, graph, static)
    it = item(home, "Focus beats hustle #focus", card=("card.png", PNG))

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    (post,) = graph.published
    assert post["container"]["bytes"] == PNG  # fetched from the public URL
    assert post["caption"] == "Focus beats hustle #focus"
    assert len(graph.routed("GET node")) >= 2  # IN_PROGRESS, then FINISHED
    assert item_json(home, it)["published"]["ig"]["url"] == post["permalink"]

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert len(graph.published) == 1


def test_a_video_is_a_reel_and_two_images_a_carousel(tmp_path: Path, servers: Any) -> None:
    graph, static = servers
    home = home_for(tmp_path, graph, static)
    item(home, "The short.", video=("video.mp4", MP4))
    item(home, "Two cards.", card=("card.png", PNG), thumbnail=("thumb.png", PNG + b"\0"))

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    reel, carousel = (p["container"] for p in graph.published)
    assert reel["media_type"] == "REELS" and reel["bytes"] == MP4
    assert carousel["media_type"] == "CAROUSEL" and len(carousel["children"]) == 2


def test_killed_during_media_publish_posts_it_once(tmp_path: Path, servers: Any) -> None:
    graph, static = servers
    home = home_for(tmp_path, graph, static)
    it = item(home, "Only once.", card=("card.png", PNG))
    kill_mid_request(home, graph, "POST user/media_publish", {"IG_ACCESS_TOKEN": IG_TOKEN})
    assert len(graph.published) == 1

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(graph.published) == 1 and len(graph.routed("POST user/media")) == 1
    assert item_json(home, it)["published"]["ig"]["remote_id"] == graph.published[0]["id"]


def test_an_invalid_token_is_an_incident(
    tmp_path: Path, servers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, static = servers
    monkeypatch.setenv("IG_ACCESS_TOKEN", "expired-ig-token-000")
    home = home_for(tmp_path, graph, static)

    result = amgr(home, "check")

    assert result.exit_code == 1 and "IG_ACCESS_TOKEN" in result.output
    assert "code 190" in result.output and "expired-ig-token" not in result.output
    assert "platform:ig" in (home / ".mp" / "state" / "incidents.json").read_text()


def test_429_waits_and_retries_and_no_media_is_refused(tmp_path: Path, servers: Any) -> None:
    graph, static = servers
    home = home_for(tmp_path, graph, static)
    ok = item(home, "One.", card=("card.png", PNG))
    graph.script(
        "POST user/media_publish",
        Reply(
            429,
            {"error": {"code": 4, "message": "Application request limit reached"}},
            {"Retry-After": "1"},
        ),
    )

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert item_json(home, ok)["status"] == "published" and len(graph.published) == 1

    bare = item(home, "No picture.")
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 1
    assert "needs an image or a video" in item_json(home, bare)["errors"]["ig"]


def test_validation_says_what_is_missing(tmp_path: Path) -> None:
    home = write_home(
        tmp_path, {"ig": {"kind": "instagram", "user_id": IG_USER, "token_env": "IG_ACCESS_TOKEN"}}
    )
    result = amgr(home, "check")
    assert result.exit_code == 2
    assert "public_media_base_url" in result.output


def test_the_long_lived_token_is_refreshed_once_and_kept_0600(tmp_path: Path, servers: Any) -> None:
    import stat

    graph, static = servers
    home = home_for(tmp_path, graph, static)
    item(home, "One.", card=("card.png", PNG))

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    item(home, "Two.", card=("card.png", PNG))
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    assert len(graph.routed("GET refresh")) == 1  # fresh for 60 days: not again
    stored = home / ".mp" / "auth" / "ig.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    fresh = json.loads(stored.read_text())["access_token"]
    assert fresh.startswith("ig-refreshed-")
    used = {r.headers.get("authorization") for r in graph.routed("POST user/media_publish")}
    assert used == {f"Bearer {fresh}"}


def test_a_token_too_young_to_refresh_is_used_and_asked_again_tomorrow(
    tmp_path: Path, servers: Any
) -> None:
    graph, static = servers
    graph.refreshable = False
    home = home_for(tmp_path, graph, static)
    item(home, "One.", card=("card.png", PNG))
    item(home, "Two.", card=("card.png", PNG))

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert amgr(home, "check").exit_code == 0

    assert len(graph.published) == 2 and len(graph.routed("GET refresh")) == 1


def test_media_can_go_through_a_wordpress_media_library(
    tmp_path: Path, servers: Any, wp: Any, wp_password: None
) -> None:
    from fake_platforms import wordpress_config

    graph, _ = servers
    config = {
        "kind": "instagram",
        "api_base": graph.url,
        "user_id": IG_USER,
        "token_env": "IG_ACCESS_TOKEN",
        "media_wordpress": "blog",
        "timeout_s": 5,
    }
    home = write_home(tmp_path / "home", {"blog": wordpress_config(wp.url), "ig": config})
    it = item(home, "Via the blog's library.", card=("card.png", PNG))

    result = amgr(home, "exec-now", "publishing", "pending", "-p", "platform=ig")

    assert result.exit_code == 0, result.output
    (media,) = wp.media
    (post,) = graph.published
    assert post["container"]["url"] == media["source_url"] and post["container"]["bytes"] == PNG
    assert item_json(home, it)["published"]["ig"]["remote_id"] == post["id"]


def test_check_reads_the_account_and_its_quota(tmp_path: Path, servers: Any) -> None:
    graph, static = servers
    home = home_for(tmp_path, graph, static)
    result = amgr(home, "check")
    assert result.exit_code == 0, result.output
    assert "authenticated as @amgr_ig; 0 of 100 posts used" in result.output
    assert graph.containers == {}
