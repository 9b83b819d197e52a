"""X end to end against an API v2-shaped server: weighted 280, threads, chunked media,
OAuth 1.0a signatures verified, x-rate-limit-reset honoured."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import Reply, add_item, amgr, item_json, kill_mid_request, write_home
from fake_social import MP4, PNG, X_KEYS, X_TOKEN, FakeX, x_weighted_length

from automation_manager.publishers.x import weighted_length


@pytest.fixture
def xapi(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeX]:
    monkeypatch.setenv("X_USER_TOKEN", X_TOKEN)
    for name, value in X_KEYS.items():
        monkeypatch.setenv(name, value)
    server = FakeX().start()
    yield server
    server.stop()


def home_for(tmp_path: Path, url: str, **platform: Any) -> Path:
    config = {"kind": "twitter", "api_base": url, "timeout_s": 5, **platform}
    if not any(k.endswith("_env") or k == "client_id" for k in platform):
        config["token_env"] = "X_USER_TOKEN"
    return write_home(tmp_path, {"x": config})


def social(home: Path, parts: list[str], **files: tuple[str, bytes]) -> str:
    every: dict[str, tuple[str, bytes | str]] = {
        "json": ("posts.json", json.dumps({"parts": parts})),
        **files,
    }
    return add_item(home, "social", parts[0][:40], files=every, meta={})


OAUTH1 = {
    "api_key_env": "X_API_KEY",
    "api_secret_env": "X_API_SECRET",
    "access_token_env": "X_ACCESS_TOKEN",
    "access_secret_env": "X_ACCESS_SECRET",
}


def test_a_thread_with_a_card_goes_out_once_signed_with_oauth1(tmp_path: Path, xapi: FakeX) -> None:
    home = home_for(tmp_path, xapi.url, **OAUTH1)
    item = social(
        home,
        ["Focus beats hustle. https://example.com/a", "Block mornings."],
        card=("card.png", PNG),
    )

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    first, second = xapi.tweets
    assert first["media_ids"] and second["referenced_tweets"][0]["id"] == first["id"]
    assert xapi.oauth1_seen >= 5  # users/me, INIT, APPEND, FINALIZE, 2 tweets: all verified
    saved = item_json(home, item)["published"]["x"]
    assert saved["url"] == f"https://x.com/amgr_bot/status/{first['id']}"

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert len(xapi.tweets) == 2


def test_a_video_is_uploaded_in_chunks_and_waited_for(tmp_path: Path, xapi: FakeX) -> None:
    home = home_for(tmp_path, xapi.url)
    social(home, ["The daily short."], video=("video.mp4", MP4))

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    (tweet,) = xapi.tweets
    media = xapi.media[tweet["media_ids"][0]]
    assert media["type"] == "video/mp4" and media["category"] == "tweet_video"
    assert len(xapi.routed("GET media STATUS")) == 2  # pending → in_progress → succeeded


def test_weighted_counting_splits_cjk_and_counts_links_as_23(tmp_path: Path, xapi: FakeX) -> None:
    assert weighted_length("https://example.com/" + "x" * 100) == 23
    assert weighted_length("日本語") == 6 and weighted_length("👩‍💻 ok") == 5
    cjk = "。".join("集中力は大切です" for _ in range(30)) + "。"
    assert x_weighted_length(cjk) > 280 >= len(cjk) // 2
    home = home_for(tmp_path, xapi.url)
    social(home, [cjk])

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    assert len(xapi.tweets) > 1  # the fake refuses anything over 280 weighted
    assert all(x_weighted_length(t["text"]) <= 280 for t in xapi.tweets)


def test_killed_after_x_created_the_tweet_posts_it_once(tmp_path: Path, xapi: FakeX) -> None:
    home = home_for(tmp_path, xapi.url)
    item = social(home, ["Part one.", "Part two."])
    kill_mid_request(home, xapi, "POST /2/tweets", {"X_USER_TOKEN": X_TOKEN})
    assert len(xapi.tweets) == 1

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert [t["text"] for t in xapi.tweets] == ["Part one.", "Part two."]
    assert xapi.tweets[1]["referenced_tweets"][0]["id"] == xapi.tweets[0]["id"]
    assert item_json(home, item)["published"]["x"]["remote_id"] == xapi.tweets[0]["id"]
    assert xapi.routed("GET timeline")


def test_a_revoked_token_is_an_incident(
    tmp_path: Path, xapi: FakeX, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X_USER_TOKEN", "revoked-x-token-000")
    home = home_for(tmp_path, xapi.url)
    social(home, ["Hello."])

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 1 and "X_USER_TOKEN" in result.output
    incidents = (home / ".mp" / "state" / "incidents.json").read_text()
    assert "platform:x" in incidents and "revoked-x-token" not in incidents
    assert xapi.tweets == []


def test_429_waits_for_x_rate_limit_reset(tmp_path: Path, xapi: FakeX) -> None:
    home = home_for(tmp_path, xapi.url)
    item = social(home, ["Only one."])
    reset = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(time.time()) + 1)}
    xapi.script("POST /2/tweets", Reply(429, {"title": "Too Many Requests"}, reset))

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(xapi.tweets) == 1 and len(xapi.routed("POST /2/tweets")) == 2
    assert item_json(home, item)["status"] == "published"


def test_the_seed_list_form_stays_an_outbox_and_check_says_what_to_set(tmp_path: Path) -> None:
    home = write_home(tmp_path, ["youtube", "twitter", "instagram"])

    result = amgr(home, "check")

    assert "twitter (outbox)" in result.output and '"kind": "x"' in result.output
    assert '"kind": "instagram"' in result.output


def test_amgr_auth_x_stores_tokens_that_publishing_uses_and_refreshes(
    tmp_path: Path, xapi: FakeX
) -> None:
    import os
    import socket
    import stat
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = home_for(
        tmp_path,
        xapi.url,
        client_id=xapi.client_id,
        auth_url=f"{xapi.url}/i/oauth2/authorize",
        redirect_port=port,
    )
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "automation_manager", "--home", str(home), "auth", "x"),
            *("--no-browser", "--timeout", "30"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "X_USER_TOKEN"},
    )
    assert proc.stderr is not None
    url = next(line.strip() for line in proc.stderr if line.strip().startswith("http"))
    assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback" in url
    with urllib.request.urlopen(url, timeout=10) as page:  # the browser: allow, redirected
        assert page.status == 200
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "connected x" in out and "ok    x (x): authenticated as @amgr_bot" in out
    stored = home / ".mp" / "auth" / "x.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    token = json.loads(stored.read_text())
    assert token["access_token"] == "issued-access-0-xyz123"
    assert xapi.routed("GET /2/users/me")[0].headers["authorization"] == (
        "Bearer issued-access-0-xyz123"
    )
    # two hours later: the access token is about to expire
    soon = datetime.now(UTC) + timedelta(minutes=1)
    stored.write_text(json.dumps({**token, "expires_at": soon.isoformat()}))

    social(home, ["Posted with the stored token."])
    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(xapi.tweets) == 1
    assert xapi.routed("POST /2/tweets")[0].headers["authorization"] == (
        "Bearer issued-access-1-xyz123"  # refreshed before it expired
    )
    assert json.loads(stored.read_text())["refresh_token"] == "issued-refresh-1-xyz123"


def test_a_used_up_quota_waits_for_its_reset_before_the_next_tweet(
    tmp_path: Path, xapi: FakeX
) -> None:
    home = home_for(tmp_path, xapi.url)
    social(home, ["One.", "Two."])
    xapi.quota_left = 0  # every answer says: nothing left until the reset, 1 s away

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert [t["text"] for t in xapi.tweets] == ["One.", "Two."]
    assert len(xapi.routed("POST /2/tweets")) == 2  # no 429: it waited for the reset


def test_check_reads_the_account_and_posts_nothing(tmp_path: Path, xapi: FakeX) -> None:
    home = home_for(tmp_path, xapi.url, **OAUTH1)
    result = amgr(home, "check")
    assert result.exit_code == 0, result.output
    assert "x (x): authenticated as @amgr_bot" in result.output and xapi.tweets == []
