"""The pure parts of notifications: which run opens or closes which incident, and how a
message is put together, with no server involved."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from automation_manager.config.base import validate
from automation_manager.config.models import NotifyWebhook, SmtpConfig
from automation_manager.enums import RunStatus
from automation_manager.logs.records import RunRecord
from automation_manager.notify import (
    Closing,
    IncidentKind,
    Notice,
    NotifyError,
    Opening,
    run_event,
)
from automation_manager.notify.mail import EmailChannel, message_domain
from automation_manager.notify.notice import clean_subject
from automation_manager.notify.webhook import WebhookChannel, describe_url
from automation_manager.signing import verify

AT = datetime(2025, 7, 1, 23, 30, tzinfo=ZoneInfo("America/New_York"))


def rec(status: RunStatus, error: str | None = "boom", attempt: int = 1) -> RunRecord:
    return RunRecord(
        id="r0001",
        timestamp=AT,
        task_id="weekly-ebook",
        category="content_creation",
        type="ebook",
        attempt=attempt,
        status=status,
        success=status is RunStatus.SUCCESS,
        error=error,
    )


def notice(**changes: object) -> Notice:
    base: dict[str, object] = {
        "event": "task_failed",
        "key": "task:weekly-ebook",
        "subject": "[amgr] task weekly-ebook failed",
        "body": "It failed.",
        "at": AT,
        "message_id": "<1@example.com>",
        "delivery_id": "d1",
    }
    base.update(changes)
    return Notice(**base)  # type: ignore[arg-type]


# -- which incident a run means ------------------------------------------------------------


def test_final_failure_opens_the_task_incident() -> None:
    event = run_event(rec(RunStatus.FAILED, attempt=4), final=True)

    assert isinstance(event, Opening)
    assert (event.key, event.kind) == ("task:weekly-ebook", IncidentKind.TASK_FAILED)
    assert "failed after 4 attempts" in event.body
    assert "boom" in event.body


def test_failure_before_the_last_retry_means_nothing() -> None:
    assert run_event(rec(RunStatus.FAILED), final=False) is None


def test_success_closes_the_task_incident() -> None:
    event = run_event(rec(RunStatus.SUCCESS, error=None), final=True)

    assert isinstance(event, Closing)
    assert event.key == "task:weekly-ebook"


def test_interrupted_run_opens_its_own_incident_even_when_not_final() -> None:
    event = run_event(rec(RunStatus.INTERRUPTED), final=False)

    assert isinstance(event, Opening)
    assert (event.key, event.kind) == ("interrupted:r0001", IncidentKind.INTERRUPTED)


def test_budget_skip_opens_the_incident_of_the_runs_local_day() -> None:
    event = run_event(rec(RunStatus.SKIPPED, "daily_budget_usd 2.00 reached: …"), final=True)

    assert isinstance(event, Opening)
    # 23:30 in New York is already July 2nd in UTC; the record's own day counts.
    assert (event.key, event.kind) == ("budget:2025-07-01", IncidentKind.BUDGET)


@pytest.mark.parametrize(
    "error", ["max_daily_ebooks 2 reached today", "task weekly-ebook is disabled", None]
)
def test_other_skips_mean_nothing(error: str | None) -> None:
    assert run_event(rec(RunStatus.SKIPPED, error), final=True) is None


# -- subjects and e-mail -------------------------------------------------------------------


def test_subject_is_one_prefixed_line() -> None:
    assert clean_subject("task x\nfailed ") == "[amgr] task x failed"
    assert clean_subject("[amgr] already") == "[amgr] already"
    assert len(clean_subject("y" * 500)) == 200


def test_message_ids_use_the_senders_domain() -> None:
    smtp = validate(SmtpConfig, {"host": "h", "from": "Bot <bot@news.example.org>"})

    assert message_domain(smtp) == "news.example.org"
    assert message_domain(None) == "amgr.invalid"


def test_recovery_email_replies_to_the_opening_message() -> None:
    smtp = validate(SmtpConfig, {"host": "h", "from": "bot@example.com"})
    msg = EmailChannel(smtp, "me@example.com, you@example.com").build(
        notice(event="recovered", in_reply_to="<0@example.com>")
    )

    assert msg["In-Reply-To"] == "<0@example.com>"
    assert msg["References"] == "<0@example.com>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["To"] == "me@example.com, you@example.com"
    assert msg["Date"] == "Tue, 01 Jul 2025 23:30:00 -0400"


def test_boolean_ssl_flag_in_config_selects_implicit_tls() -> None:
    smtp = validate(SmtpConfig, {"host": "h", "port": 465, "ssl": True, "from": "a@b.c"})

    assert smtp.security == "ssl"


# -- webhook -------------------------------------------------------------------------------


def test_webhook_request_is_signed_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", "s3cr3t-value")
    channel = WebhookChannel(NotifyWebhook(url="https://h.example/x", secret_env="HOOK_SECRET"))

    body, headers = channel.request(notice(), timestamp="1751427000")

    assert json.loads(body) == {
        "event": "task_failed",
        "key": "task:weekly-ebook",
        "subject": "[amgr] task weekly-ebook failed",
        "body": "It failed.",
        "at": "2025-07-01T23:30:00-04:00",
    }
    assert headers["X-Amgr-Delivery"] == "d1"
    assert verify("s3cr3t-value", "1751427000", body, headers["X-Amgr-Signature"])


def test_webhook_without_secret_env_is_unsigned() -> None:
    channel = WebhookChannel(NotifyWebhook(url="https://h.example/x"))

    _, headers = channel.request(notice(), timestamp="1")

    assert "X-Amgr-Signature" not in headers


def test_webhook_with_unset_secret_variable_refuses_to_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    channel = WebhookChannel(NotifyWebhook(url="https://h.example/x", secret_env="HOOK_SECRET"))

    with pytest.raises(NotifyError, match="HOOK_SECRET, which is not set"):
        channel.request(notice(), timestamp="1")


def test_webhook_url_is_described_without_path_or_userinfo() -> None:
    url = "https://user:pw@hooks.example.com:8443/services/T000/B000/XXXX?token=abc"

    assert describe_url(url) == "https://hooks.example.com:8443"
