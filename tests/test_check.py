"""``amgr check``: one line per platform and one for the LLM; nothing is posted."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import (
    HOOK_SECRET,
    MASTODON_TOKEN,
    WP_PASSWORD,
    FakeMastodon,
    add_item,
    amgr,
    item_json,
    mastodon_config,
    running,
    webhook_config,
    wordpress_config,
    write_home,
)
from openai_server import FakeOpenAI


@pytest.fixture
def servers(
    wp_password: None, mastodon_token: None, hook_secret: None, wp: Any, hook: Any
) -> Iterator[tuple[Any, Any, Any]]:
    with running(FakeMastodon(token=MASTODON_TOKEN)) as masto:
        yield wp, masto, hook


def every_platform(wp: Any, masto: Any, hook: Any) -> dict[str, Any]:
    return {
        "blog": wordpress_config(wp.url),
        "masto": mastodon_config(masto.url),
        "hook": webhook_config(hook.url),
        "site": {"kind": "filesystem", "path": "site/content"},
        "youtube": {"kind": "outbox"},
    }


def test_everything_passes_and_nothing_is_posted(tmp_path: Path, servers: Any) -> None:
    wp, masto, hook = servers
    home = write_home(tmp_path, every_platform(wp, masto, hook))

    result = amgr(home, "check")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ok", "blog"],
        ["ok", "masto"],
        ["ok", "hook"],
        ["ok", "site"],
        ["ok", "youtube"],
        ["ok", "llm"],
    ]
    assert "authenticated as Ed Itor (editor) via /wp-json" in lines[0]
    assert "@amgr" in lines[1] and "500 characters" in lines[1]
    assert "signed ping answered 200" in lines[2]
    assert "will be created" in lines[3]
    assert "offline" in lines[5]
    assert wp.posts == [] and masto.statuses == [] and hook.deliveries == {}
    assert hook.pings == 1
    assert not (home / "site").exists()


def test_failures_say_what_to_fix_and_exit_1(
    tmp_path: Path, servers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wp, masto, hook = servers
    monkeypatch.setenv("WP_APP_PASSWORD", "not-the-password")
    monkeypatch.delenv("MASTODON_TOKEN")
    monkeypatch.setenv("AMGR_HOOK_SECRET", "not-the-secret")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    platforms = every_platform(wp, masto, hook)
    platforms["site"]["path"] = str(locked / "content")
    home = write_home(tmp_path / "home", platforms)

    try:
        result = amgr(home, "check", "--json")
    finally:
        locked.chmod(0o700)

    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    by_name = {c["name"]: c for c in data["checks"]}
    assert not by_name["blog"]["ok"] and "check WP_APP_PASSWORD" in by_name["blog"]["message"]
    assert "platforms.masto.token_env" in by_name["masto"]["message"]
    assert "AMGR_HOOK_SECRET" in by_name["hook"]["message"]
    if os.geteuid() != 0:  # root writes anywhere
        assert not by_name["site"]["ok"] and "not writable" in by_name["site"]["message"]
    assert by_name["youtube"]["ok"] and by_name["llm"]["ok"]
    assert "not-the-password" not in result.output and "not-the-secret" not in result.output


def test_a_user_who_cannot_publish_is_told(tmp_path: Path, servers: Any) -> None:
    wp, masto, hook = servers
    wp.capabilities = {"edit_posts": True, "publish_posts": False}
    home = write_home(tmp_path, {"blog": every_platform(wp, masto, hook)["blog"]})
    result = amgr(home, "check")
    assert result.exit_code == 1
    assert "may not publish posts" in result.output and "Author role" in result.output


def test_a_real_llm_server_must_list_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test-123456")
    with FakeOpenAI(models=("llama3.1",)) as server:
        llm = {
            "provider": "openai",
            "base_url": server.url,
            "api_key_env": "TEST_LLM_KEY",
            "model": "llama3.1",
            "max_retries": 0,
        }
        home = write_home(tmp_path, {}, llm=llm)
        ok = amgr(home, "check")
        assert ok.exit_code == 0, ok.output
        assert "ok" in ok.output and "1 models listed" in ok.output

        wrong = write_home(tmp_path / "wrong", {}, llm={**llm, "model": "gpt-9"})
        failed = amgr(wrong, "check")
        assert failed.exit_code == 1
        assert "FAIL  llm" in failed.output and "llama3.1" in failed.output


def test_publishing_checks_once_a_day_and_skips_a_platform_with_bad_credentials(
    tmp_path: Path, servers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wp, masto, hook = servers
    home = write_home(
        tmp_path,
        {
            "blog": every_platform(wp, masto, hook)["blog"],
            "site": {"kind": "filesystem", "path": "site"},
        },
    )
    first = add_item(home)
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    second = add_item(home, title="Another post")
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert len(wp.routed("GET users/me")) == 1  # checked before the day's first publish only
    assert item_json(home, second)["status"] == "published"

    wp.password = "rotated-on-the-server"  # the stored password stops working
    third = add_item(home, title="Third post")
    result = amgr(home, "exec-now", "publishing", "pending")
    assert result.exit_code == 1
    assert "blog skipped" in result.output and "WP_APP_PASSWORD" in result.output
    saved = item_json(home, third)
    assert saved["status"] == "pending" and "site" in saved["published"]
    assert item_json(home, first)["status"] == "published"

    again = amgr(home, "exec-now", "publishing", "pending")
    assert again.exit_code == 1
    assert len(wp.routed("GET users/me")) == 2  # a failed check is not trusted for the day


def test_failing_credentials_notify_once_and_recovery_once(
    tmp_path: Path, servers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wp, masto, hook = servers
    monkeypatch.setenv("AMGR_NOTIFY_SECRET", HOOK_SECRET)
    monkeypatch.setenv("WP_APP_PASSWORD", "revoked-password")
    home = write_home(
        tmp_path,
        {"blog": every_platform(wp, masto, hook)["blog"]},
        notification_webhook={"url": f"{hook.url}/hook", "secret_env": "AMGR_HOOK_SECRET"},
    )

    assert amgr(home, "check").exit_code == 1
    assert amgr(home, "check").exit_code == 1
    events = [d["event"] for d in hook.deliveries.values()]
    assert events == ["credentials"]
    first = next(iter(hook.deliveries.values()))
    assert "blog" in first["subject"] and "revoked-password" not in json.dumps(first)

    monkeypatch.setenv("WP_APP_PASSWORD", WP_PASSWORD)
    assert amgr(home, "check").exit_code == 0
    assert amgr(home, "check").exit_code == 0
    assert len(hook.deliveries) == 2
    assert "recover" in json.dumps(list(hook.deliveries.values())[1]).lower()
