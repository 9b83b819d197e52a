"""Telegram end to end against a Bot API-shaped server (ok/description, limits, HTML)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_platforms import Reply, add_item, amgr, item_json, kill_mid_request, write_home
from fake_social import MP4, PNG, TG_TOKEN, FakeTelegram


@pytest.fixture
def bot(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TG_TOKEN)
    server = FakeTelegram().start()
    yield server
    server.stop()


def home_for(tmp_path: Path, url: str) -> Path:
    config = {
        "kind": "telegram",
        "api_base": url,
        "token_env": "TELEGRAM_BOT_TOKEN",
        "chat_id": "@amgr_channel",
        "timeout_s": 5,
    }
    return write_home(tmp_path, {"tg": config})


def social(home: Path, parts: list[str], **files: tuple[str, bytes]) -> str:
    all_files: dict[str, tuple[str, bytes | str]] = {
        "json": ("posts.json", json.dumps({"parts": parts})),
        **files,
    }
    return add_item(home, "social", parts[0][:40], files=all_files, meta={})


def test_a_card_goes_as_a_photo_with_the_caption_and_the_rest_as_replies(
    tmp_path: Path, bot: FakeTelegram
) -> None:
    home = home_for(tmp_path, bot.url)
    item = social(
        home, ["Focus <beats> hustle & noise.", "Block your mornings."], card=("card.png", PNG)
    )

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    photo, reply = bot.messages
    assert (
        photo["photo"] == "card.png"
        and photo["caption"] == "Focus &lt;beats&gt; hustle &amp; noise."
    )
    assert reply["text"] == "Block your mornings." and reply["reply_to"] == photo["message_id"]
    saved = item_json(home, item)["published"]["tg"]
    assert saved["url"] == f"https://t.me/amgr_channel/{photo['message_id']}"

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert len(bot.messages) == 2  # nothing sent twice


def test_a_video_and_an_album(tmp_path: Path, bot: FakeTelegram) -> None:
    home = home_for(tmp_path, bot.url)
    social(home, ["The short."], video=("video.mp4", MP4))
    social(home, ["Two cards."], card=("card.png", PNG), thumbnail=("thumb.png", PNG))

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    assert bot.messages[0]["video"] == "video.mp4" and bot.messages[0]["bytes"] == len(MP4)
    assert [m.get("photo") for m in bot.messages[1:]] == ["card.png", "thumb.png"]
    assert bot.messages[1]["caption"] == "Two cards."


def test_a_long_text_is_split_below_4096(tmp_path: Path, bot: FakeTelegram) -> None:
    home = home_for(tmp_path, bot.url)
    social(home, [" ".join(f"Sentence {n} about deep work." for n in range(300))])
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert len(bot.messages) > 1 and all(len(m["text"]) <= 4096 for m in bot.messages)


def test_killed_before_the_answer_is_not_resent_and_says_what_to_check(
    tmp_path: Path, bot: FakeTelegram
) -> None:
    home = home_for(tmp_path, bot.url)
    item = social(home, ["Only once."])
    kill_mid_request(home, bot, "sendMessage", {"TELEGRAM_BOT_TOKEN": TG_TOKEN})
    assert len(bot.messages) == 1

    result = amgr(home, "exec-now", "publishing", "pending")

    assert len(bot.messages) == 1  # at most once: the Bot API cannot say what was sent
    saved = item_json(home, item)
    assert saved["status"] == "failed" and "amgr content retry" in saved["errors"]["tg"]
    assert "cannot be asked whether it arrived" in saved["errors"]["tg"]
    assert result.exit_code == 1

    # a person looked, did not find it, and asked for it again
    assert amgr(home, "content", "retry", item).exit_code == 0
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert len(bot.messages) == 2 and item_json(home, item)["status"] == "published"


def test_a_revoked_token_is_one_incident_and_never_shown(
    tmp_path: Path, bot: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:revoked-token-abcdef")
    home = home_for(tmp_path, bot.url)
    social(home, ["Hello."])

    result = amgr(home, "check")

    assert result.exit_code == 1
    assert "TELEGRAM_BOT_TOKEN" in result.output and "revoked-token" not in result.output
    incidents = (home / ".mp" / "state" / "incidents.json").read_text()
    assert "platform:tg" in incidents and "revoked-token" not in incidents
    assert bot.messages == []


def test_429_waits_retry_after_and_a_refusal_shows_the_description(
    tmp_path: Path, bot: FakeTelegram
) -> None:
    home = home_for(tmp_path, bot.url)
    ok = social(home, ["Only one."])
    limited = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1"}
    bot.script("sendMessage", Reply(429, {**limited, "parameters": {"retry_after": 1}}))
    started = time.monotonic()

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1
    assert item_json(home, ok)["status"] == "published" and len(bot.messages) == 1
    bad = social(home, ["Another."])
    bot.chat = "@elsewhere"
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 1
    assert "chat not found" in item_json(home, bad)["errors"]["tg"]


def test_check_reaches_the_chat_and_posts_nothing(tmp_path: Path, bot: FakeTelegram) -> None:
    home = home_for(tmp_path, bot.url)
    result = amgr(home, "check")
    assert result.exit_code == 0, result.output
    assert "bot @amgr_bot can reach channel amgr channel" in result.output
    assert bot.messages == [] and {r.route for r in bot.requests} == {"getMe", "getChat"}
