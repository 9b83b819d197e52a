"""Webhooks end to end: a receiver that verifies the signature and drops repeats."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_platforms import (
    HOOK_SECRET,
    FakeWebhook,
    add_item,
    amgr,
    item_json,
    kill_mid_request,
    webhook_config,
    write_home,
)

from automation_manager.signing import sign

pytestmark = pytest.mark.usefixtures("hook_secret")


def hook_home(tmp_path: Path, url: str, **platform: object) -> Path:
    return write_home(tmp_path, {"hook": webhook_config(url, **platform)})


def test_the_item_is_delivered_signed(tmp_path: Path, hook: FakeWebhook) -> None:
    home = hook_home(tmp_path, hook.url)
    item = add_item(home)

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    [request] = [r for r in hook.routed("POST /hook") if r.headers["x-amgr-event"] == "content"]
    headers = request.headers
    assert headers["x-amgr-event"] == "content"
    signature = sign(HOOK_SECRET, headers["x-amgr-timestamp"], request.body)
    assert headers["x-amgr-signature"] == signature
    body = request.json()
    assert body["item"]["id"] == item and body["item"]["kind"] == "blog"
    assert "Focus is a **team** habit." in body["markdown"]
    assert "<strong>team</strong>" in body["html"]
    assert body["files"]["markdown"]["name"] == "post.md"
    delivery = headers["x-amgr-delivery"]
    assert item_json(home, item)["published"]["hook"]["remote_id"] == f"rcv-{delivery[-6:]}"


def test_a_wrong_secret_names_the_setting(
    tmp_path: Path, hook: FakeWebhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMGR_HOOK_SECRET", "not-the-secret")
    home = hook_home(tmp_path, hook.url)
    item = add_item(home)

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 1
    assert "AMGR_HOOK_SECRET" in result.output and "not-the-secret" not in result.output
    assert item_json(home, item)["status"] == "pending"
    assert hook.deliveries == {}


def test_a_server_error_is_retried_with_the_same_delivery_id(
    tmp_path: Path, hook: FakeWebhook
) -> None:
    from fake_platforms import Reply

    home = hook_home(tmp_path, hook.url)
    add_item(home)
    assert amgr(home, "check").exit_code == 0  # today's check is done: no ping in the run
    hook.script("POST /hook", Reply(503, {"error": "busy"}))

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    sends = [r for r in hook.routed("POST /hook") if r.headers["x-amgr-event"] == "content"]
    assert len(sends) == 2 and len({r.headers["x-amgr-delivery"] for r in sends}) == 1


def test_killed_after_delivery_redelivers_the_same_id(tmp_path: Path, hook: FakeWebhook) -> None:
    home = hook_home(tmp_path, hook.url, timeout_s=30)
    item = add_item(home)
    assert amgr(home, "check").exit_code == 0  # so the stalled request is the delivery
    kill_mid_request(home, hook, "POST /hook", {"AMGR_HOOK_SECRET": HOOK_SECRET})

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    requests = [r for r in hook.routed("POST /hook") if r.headers["x-amgr-event"] == "content"]
    assert len(requests) == 2
    assert requests[0].headers["x-amgr-delivery"] == requests[1].headers["x-amgr-delivery"]
    assert len(hook.deliveries) == 1
    assert item_json(home, item)["status"] == "published"
