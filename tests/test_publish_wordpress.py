"""WordPress end to end against a WordPress-shaped REST server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_platforms import (
    WP_PASSWORD,
    FakeWordPress,
    Reply,
    add_item,
    amgr,
    item_json,
    kill_mid_request,
    ledger_events,
    running,
    wordpress_config,
    write_home,
)

pytestmark = pytest.mark.usefixtures("wp_password")


def blog_home(tmp_path: Path, url: str, **platform: object) -> Path:
    return write_home(tmp_path, {"blog": wordpress_config(url, **platform)})


def test_a_blog_post_is_published_with_html_tags_and_categories(
    tmp_path: Path, wp: FakeWordPress
) -> None:
    wp.terms["tags"].append({"id": 7, "name": "Focus"})
    home = blog_home(tmp_path, wp.url, categories=["Guides"])
    item = add_item(home)

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    [post] = wp.posts
    assert post["title"]["raw"] == "Deep work for remote teams"
    assert post["slug"] == "deep-work-for-remote-teams"
    assert post["status"] == "publish"
    assert post["excerpt"] == "How remote teams protect focus."
    html = post["content"]["raw"]
    assert "<strong>team</strong>" in html and "<li>no meetings before noon</li>" in html
    assert "<h1>" not in html and "slug:" not in html  # title and front matter left out
    tag_names = {t["id"]: t["name"] for t in wp.terms["tags"]}
    assert sorted(tag_names[i] for i in post["tags"]) == ["Focus", "remote work"]
    assert [t["name"] for t in wp.terms["tags"]] == ["Focus", "remote work"]  # reused
    assert [t["name"] for t in wp.terms["categories"]] == ["Guides"]
    saved = item_json(home, item)
    assert saved["status"] == "published"
    assert saved["published"]["blog"]["url"] == post["link"]
    assert saved["published"]["blog"]["remote_id"] == str(post["id"])
    shown = amgr(home, "content", "show", item)
    assert post["link"] in shown.output


def test_a_second_run_never_sends_again(tmp_path: Path, wp: FakeWordPress) -> None:
    home = blog_home(tmp_path, wp.url)
    add_item(home)
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert amgr(home, "exec-now", "publishing", "blog", "-p", "platform=blog").exit_code == 0
    assert len(wp.posts) == 1
    assert len(wp.routed("POST posts")) == 1


@pytest.mark.parametrize("page_answer", [301, 404])
def test_sites_without_pretty_permalinks_use_rest_route(tmp_path: Path, page_answer: int) -> None:
    with running(FakeWordPress(password=WP_PASSWORD, pretty=False, page_answer=page_answer)) as wp:
        home = blog_home(tmp_path, wp.url)
        add_item(home)
        result = amgr(home, "exec-now", "publishing", "pending")
        assert result.exit_code == 0, result.output
        assert len(wp.posts) == 1
        post_requests = wp.routed("POST posts")
        assert post_requests and post_requests[0].query["rest_route"] == "/wp/v2/posts"
        assert "via ?rest_route=" in amgr(home, "check").output


def test_a_site_that_is_not_wordpress_is_named(tmp_path: Path) -> None:
    from fake_platforms import FakeWebhook

    with running(FakeWebhook()) as other:
        home = blog_home(tmp_path, other.url)
        result = amgr(home, "check")
    assert result.exit_code == 1
    assert "no WordPress REST API at" in result.output and "platforms.blog.url" in result.output


def test_an_image_becomes_the_featured_media(tmp_path: Path, wp: FakeWordPress) -> None:
    home = blog_home(tmp_path, wp.url)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    add_item(home, files={"markdown": ("post.md", "Body text."), "image": ("cover.png", png)})

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    [media] = wp.media
    assert media["mime_type"] == "image/png" and media["size"] == len(png)
    assert 'filename="deep-work-for-remote-teams.png"' in media["disposition"]
    assert wp.posts[0]["featured_media"] == media["id"]


def test_future_status_schedules_the_post_at_the_window_slot(
    tmp_path: Path, wp: FakeWordPress
) -> None:
    home = blog_home(
        tmp_path,
        wp.url,
        status="future",
        window={"mode": "slots", "days": ["mon"], "times": ["09:00"]},
    )
    item = add_item(home)

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    [post] = wp.posts
    assert post["status"] == "future"
    assert post["date_gmt"].endswith("T09:00:00")
    saved = item_json(home, item)["published"]["blog"]
    assert saved["status"] == "scheduled" and saved["live_at"].startswith(post["date_gmt"])


def test_refused_credentials_name_the_setting_never_the_secret(
    tmp_path: Path, wp: FakeWordPress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WP_APP_PASSWORD", "wrong-password-value")
    home = blog_home(tmp_path, wp.url)
    item = add_item(home)

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 1
    assert "WP_APP_PASSWORD" in result.output and "platforms.blog.password_env" in result.output
    assert "wrong-password-value" not in result.output
    assert item_json(home, item)["status"] == "pending"  # not the item's fault
    assert wp.posts == []


def test_a_validation_error_fails_the_item_with_wordpress_message(
    tmp_path: Path, wp: FakeWordPress
) -> None:
    home = blog_home(tmp_path, wp.url)
    item = add_item(home)
    wp.script(
        "POST posts",
        Reply(400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): slug"}),
    )

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 1
    saved = item_json(home, item)
    assert saved["status"] == "failed"
    assert "Invalid parameter(s): slug" in saved["errors"]["blog"]
    assert "Invalid parameter(s): slug" in amgr(home, "content", "show", item).output

    assert amgr(home, "content", "retry", item).exit_code == 0
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert item_json(home, item)["status"] == "published"
    assert len(wp.posts) == 1


def test_a_server_error_is_checked_before_the_resend(tmp_path: Path, wp: FakeWordPress) -> None:
    home = blog_home(tmp_path, wp.url)
    add_item(home)
    wp.script("POST posts", Reply(502, "<html>Bad Gateway</html>"))

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(wp.posts) == 1
    lookups = [r for r in wp.routed("GET posts") if r.query.get("slug")]
    assert lookups, "the unsure send must be looked up before the resend"


def test_a_lost_answer_is_reconciled_not_resent(tmp_path: Path, wp: FakeWordPress) -> None:
    home = blog_home(tmp_path, wp.url, timeout_s=1)
    item = add_item(home)
    release = wp.stall("POST posts")  # the post is created, the answer never comes in time
    try:
        result = amgr(home, "exec-now", "publishing", "pending")
    finally:
        release.set()
    assert result.exit_code == 0, result.output
    assert len(wp.posts) == 1 and len(wp.routed("POST posts")) == 1
    assert item_json(home, item)["published"]["blog"]["url"] == wp.posts[0]["link"]


def test_killed_between_send_and_record_publishes_exactly_once(
    tmp_path: Path, wp: FakeWordPress
) -> None:
    home = blog_home(tmp_path, wp.url, timeout_s=30)
    item = add_item(home)
    # killed after the server created the post, before the answer
    kill_mid_request(home, wp, "POST posts", {"WP_APP_PASSWORD": WP_PASSWORD})
    assert len(wp.posts) == 1
    events = [e["event"] for e in ledger_events(home)]
    assert events[-1] == "intent"  # the outcome is unknown to amgr

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(wp.posts) == 1, "the rerun must find the post, not send it again"
    assert len(wp.routed("POST posts")) == 1
    saved = item_json(home, item)
    assert saved["status"] == "published"
    assert saved["published"]["blog"]["remote_id"] == str(wp.posts[0]["id"])
    assert json.loads(json.dumps(ledger_events(home)[-1]))["event"] == "done"
