"""Notifications end to end: a real SMTP server (aiosmtpd) and a real webhook receiver on
127.0.0.1, real incident state under ``tmp_path``."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import os
import shutil
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from automation_manager.config.base import validate
from automation_manager.config.models import Config
from automation_manager.enums import RunStatus, Trigger
from automation_manager.home import Home
from automation_manager.logs.records import RunRecord, new_record_id
from automation_manager.notify import Notice, Notifier, task_key
from automation_manager.signing import verify

TZ = ZoneInfo("Europe/Berlin")
T0 = datetime(2025, 3, 10, 9, 0, tzinfo=TZ)
PASSWORD = "smtp-pass-0f9e8d"
SECRET = "hook-secret-7c6b5a"


# -- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """What the SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((mechanism, login, password))
        return AuthResult(success=password == PASSWORD, handled=False)

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


def start_smtp(port: int) -> tuple[Controller, Mailbox]:
    """A plain SMTP server on 127.0.0.1 that also offers AUTH (PLAIN, LOGIN) without TLS."""
    box = Mailbox()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    return controller, box


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    port = free_port()
    controller, box = start_smtp(port)
    yield port, box
    controller.stop()


@dataclass
class Hook:
    """What the webhook receiver got, and what it answers."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/amgr-token-path"
    yield state
    server.shutdown()
    server.server_close()


# -- helpers -------------------------------------------------------------------------------


def make_config(
    *, smtp_port: int | None = None, hook_url: str | None = None, **smtp: Any
) -> Config:
    data: dict[str, Any] = {"notification_email": "owner@example.com"}
    if smtp_port is not None:
        data["smtp"] = {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from": "amgr <amgr@example.com>",
            "timeout_s": 3,
            **smtp,
        }
    if hook_url is not None:
        data["notification_webhook"] = {"url": hook_url, "secret_env": "AMGR_TEST_HOOK_SECRET"}
    return validate(Config, data)


def record(
    status: RunStatus,
    at: datetime = T0,
    *,
    task: str = "daily-blog",
    attempt: int = 1,
    error: str | None = "WordPress answered HTTP 500: internal error",
) -> RunRecord:
    return RunRecord(
        id=new_record_id(at),
        timestamp=at,
        task_id=task,
        category="content_creation",
        type="blog",
        trigger=Trigger.SCHEDULED,
        attempt=attempt,
        status=status,
        success=status is RunStatus.SUCCESS,
        error=None if status is RunStatus.SUCCESS else error,
        duration_ms=1200,
    )


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMGR_TEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("AMGR_TEST_HOOK_SECRET", SECRET)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


def state_of(home: Home) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((home.state_dir / "incidents.json").read_text())
    return data


# -- one message per incident --------------------------------------------------------------


def test_three_failing_runs_send_one_email(home: Home, smtp: tuple[int, Mailbox]) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))

    opened = [
        notifier.notify_run(record(RunStatus.FAILED, T0 + timedelta(hours=h)), final=True)
        for h in range(3)
    ]

    assert opened == [True, False, False]
    assert box.subjects() == ["[amgr] task daily-blog failed"]
    msg = box.messages[0]
    assert msg["To"] == "owner@example.com"
    assert msg["From"] == "amgr <amgr@example.com>"
    body = msg.get_content()
    assert "WordPress answered HTTP 500" in body
    assert "2025-03-10 09:00:00 CET" in body
    assert "amgr exec-now content_creation blog --task daily-blog" in body
    incident = state_of(home)["open"][task_key("daily-blog")]
    assert incident["occurrences"] == 3
    assert incident["undelivered"] == []


def test_incident_state_file_is_private(home: Home, smtp: tuple[int, Mailbox]) -> None:
    notifier = Notifier(home, make_config(smtp_port=smtp[0]))
    notifier.notify_run(record(RunStatus.FAILED), final=True)

    mode = stat.S_IMODE(os.stat(home.state_dir / "incidents.json").st_mode)
    assert mode == 0o600


def test_failure_that_will_be_retried_sends_nothing(home: Home, smtp: tuple[int, Mailbox]) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))

    assert notifier.notify_run(record(RunStatus.FAILED, attempt=1), final=False) is False

    assert box.messages == []
    assert notifier.open_incidents() == {}


def test_a_new_notifier_remembers_the_open_incident(home: Home, smtp: tuple[int, Mailbox]) -> None:
    port, box = smtp
    Notifier(home, make_config(smtp_port=port)).notify_run(record(RunStatus.FAILED), final=True)

    # e.g. exec-now in another process, or the daemon after a restart
    again = Notifier(home, make_config(smtp_port=port))
    again.notify_run(record(RunStatus.FAILED, T0 + timedelta(days=1)), final=True)

    assert len(box.messages) == 1


def test_concurrent_failures_of_one_task_send_one_email(
    home: Home, smtp: tuple[int, Mailbox]
) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))
    barrier = threading.Barrier(8)

    def fail() -> None:
        barrier.wait()
        notifier.notify_run(record(RunStatus.FAILED), final=True)

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(box.messages) == 1
    assert state_of(home)["open"]["task:daily-blog"]["occurrences"] == 8


# -- recovery ------------------------------------------------------------------------------


def test_success_after_failure_sends_one_recovery_in_the_same_thread(
    home: Home, smtp: tuple[int, Mailbox]
) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))
    for h in range(3):
        notifier.notify_run(record(RunStatus.FAILED, T0 + timedelta(hours=h)), final=True)

    later = T0 + timedelta(hours=5)
    closed = [notifier.notify_run(record(RunStatus.SUCCESS, later), final=True) for _ in range(2)]

    assert closed == [True, False]
    assert box.subjects() == ["[amgr] task daily-blog failed", "[amgr] task daily-blog recovered"]
    opening, recovery = box.messages
    assert recovery["In-Reply-To"] == opening["Message-ID"]
    body = recovery.get_content()
    assert "succeeded again" in body
    assert "Open since 2025-03-10 09:00:01 +0100; it happened 3 times." in body
    assert notifier.open_incidents() == {}


def test_success_without_an_open_incident_sends_nothing(
    home: Home, smtp: tuple[int, Mailbox]
) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))

    assert notifier.notify_run(record(RunStatus.SUCCESS), final=True) is False
    assert notifier.recovered("platform:blog", "x", "y", T0) is False

    assert box.messages == []


def test_failing_again_after_recovery_opens_a_new_incident(
    home: Home, smtp: tuple[int, Mailbox]
) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))

    notifier.notify_run(record(RunStatus.FAILED, T0), final=True)
    notifier.notify_run(record(RunStatus.SUCCESS, T0 + timedelta(hours=1)), final=True)
    notifier.notify_run(record(RunStatus.FAILED, T0 + timedelta(hours=2)), final=True)

    assert box.subjects() == [
        "[amgr] task daily-blog failed",
        "[amgr] task daily-blog recovered",
        "[amgr] task daily-blog failed",
    ]
    assert box.messages[0]["Message-ID"] != box.messages[2]["Message-ID"]


def test_credentials_failure_and_recovery_send_one_message_each(
    home: Home, smtp: tuple[int, Mailbox]
) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))

    notifier.credentials_failed("blog", "WordPress answered 401: check platforms.blog.user", T0)
    notifier.credentials_failed("blog", "WordPress answered 401", T0 + timedelta(days=1))
    notifier.credentials_ok("blog", T0 + timedelta(days=2))
    notifier.credentials_ok("blog", T0 + timedelta(days=3))

    assert box.subjects() == [
        "[amgr] credentials for blog failed",
        "[amgr] credentials for blog work again",
    ]
    assert "amgr check" in box.messages[0].get_content()


# -- interrupted and budget ----------------------------------------------------------------


def test_interrupted_run_sends_one_message(home: Home, smtp: tuple[int, Mailbox]) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))
    interrupted = record(RunStatus.INTERRUPTED, error="the daemon stopped while it ran")

    notifier.notify_run(interrupted, final=True)
    notifier.notify_run(interrupted, final=True)  # e.g. a second crash mid-recovery

    assert box.subjects() == ["[amgr] run of task daily-blog interrupted"]
    body = box.messages[0].get_content()
    assert interrupted.id in body
    assert "misfire policy" in body
    assert f"interrupted:{interrupted.id}" in notifier.open_incidents()


def test_budget_skip_sends_one_message_per_day(home: Home, smtp: tuple[int, Mailbox]) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))
    reason = (
        "daily_budget_usd 1.00 reached: spent $1.02 today, this run is estimated at $0.01 "
        "(× 1.2 safety) — raise llm.daily_budget_usd or wait until tomorrow"
    )

    notifier.notify_run(record(RunStatus.SKIPPED, T0, error=reason), final=True)
    notifier.notify_run(
        record(RunStatus.SKIPPED, T0 + timedelta(hours=2), task="shorts", error=reason),
        final=True,
    )
    notifier.notify_run(record(RunStatus.SKIPPED, T0 + timedelta(days=1), error=reason), final=True)

    assert box.subjects() == [
        "[amgr] daily model budget reached (2025-03-10)",
        "[amgr] daily model budget reached (2025-03-11)",
    ]
    body = box.messages[0].get_content()
    assert "spent $1.02 today" in body
    assert "raise llm.daily_budget_usd" in body


def test_skip_for_another_reason_sends_nothing(home: Home, smtp: tuple[int, Mailbox]) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port))

    notifier.notify_run(
        record(RunStatus.SKIPPED, error="max_daily_content 5 reached today"), final=True
    )

    assert box.messages == []


def test_one_shot_incidents_are_forgotten_after_thirty_days(
    home: Home, smtp: tuple[int, Mailbox]
) -> None:
    port, _ = smtp
    notifier = Notifier(home, make_config(smtp_port=port))
    notifier.notify_run(record(RunStatus.INTERRUPTED, T0), final=True)
    notifier.notify_run(record(RunStatus.FAILED, T0), final=True)

    notifier.notify_run(record(RunStatus.FAILED, T0 + timedelta(days=31)), final=True)

    assert list(notifier.open_incidents()) == ["task:daily-blog"]


# -- SMTP login, TLS -----------------------------------------------------------------------


def test_smtp_logs_in_with_the_password_from_its_env_variable(
    home: Home, smtp: tuple[int, Mailbox]
) -> None:
    port, box = smtp
    config = make_config(smtp_port=port, user="amgr-bot", password_env="AMGR_TEST_SMTP_PASSWORD")

    Notifier(home, config).notify_run(record(RunStatus.FAILED), final=True)

    assert box.logins == [("PLAIN", "amgr-bot", PASSWORD)]
    assert len(box.messages) == 1


def test_refused_login_is_logged_without_the_password(
    home: Home,
    smtp: tuple[int, Mailbox],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, box = smtp
    monkeypatch.setenv("AMGR_TEST_SMTP_PASSWORD", "wrong-password-123")
    config = make_config(smtp_port=port, user="amgr-bot", password_env="AMGR_TEST_SMTP_PASSWORD")

    with caplog.at_level(logging.WARNING, logger="automation_manager.notify"):
        Notifier(home, config).notify_run(record(RunStatus.FAILED), final=True)

    assert box.messages == []
    assert "SMTPAuthenticationError" in caplog.text
    assert "wrong-password-123" not in caplog.text


def test_missing_password_variable_is_named_in_the_warning(
    home: Home,
    smtp: tuple[int, Mailbox],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, box = smtp
    monkeypatch.delenv("AMGR_TEST_SMTP_PASSWORD")
    config = make_config(smtp_port=port, user="amgr-bot", password_env="AMGR_TEST_SMTP_PASSWORD")

    with caplog.at_level(logging.WARNING, logger="automation_manager.notify"):
        Notifier(home, config).notify_run(record(RunStatus.FAILED), final=True)

    assert box.messages == []
    assert "AMGR_TEST_SMTP_PASSWORD, which is not set" in caplog.text


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> Any:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_transports_deliver_and_log_in(
    home: Home, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test certificate
    port = free_port()
    box = Mailbox()
    tls = server_tls(certificate)
    options: dict[str, Any] = (
        {"tls_context": tls, "require_starttls": True}
        if security == "starttls"
        else {"ssl_context": tls, "auth_require_tls": False}  # TLS from the first byte
    )
    controller = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=box.authenticate, **options
    )
    controller.start()
    try:
        config = make_config(
            smtp_port=port,
            security=security,
            user="amgr-bot",
            password_env="AMGR_TEST_SMTP_PASSWORD",
        )
        Notifier(home, config).notify_run(record(RunStatus.FAILED), final=True)
    finally:
        controller.stop()

    assert box.subjects() == ["[amgr] task daily-blog failed"]
    assert box.logins == [("PLAIN", "amgr-bot", PASSWORD)]


def test_untrusted_certificate_is_refused(
    home: Home, certificate: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    box = Mailbox()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, tls_context=server_tls(certificate)
    )
    controller.start()
    try:
        with caplog.at_level(logging.WARNING, logger="automation_manager.notify"):
            Notifier(home, make_config(smtp_port=port, security="starttls")).notify_run(
                record(RunStatus.FAILED), final=True
            )
    finally:
        controller.stop()

    assert box.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


# -- webhook -------------------------------------------------------------------------------


def test_webhook_receives_signed_incident_and_recovery(home: Home, hook: Hook) -> None:
    notifier = Notifier(home, make_config(hook_url=hook.url))

    notifier.notify_run(record(RunStatus.FAILED), final=True)
    notifier.notify_run(record(RunStatus.FAILED, T0 + timedelta(hours=1)), final=True)
    notifier.notify_run(record(RunStatus.SUCCESS, T0 + timedelta(hours=2)), final=True)

    assert len(hook.requests) == 2
    for headers, body in hook.requests:
        assert headers["content-type"] == "application/json"
        assert verify(SECRET, headers["x-amgr-timestamp"], body, headers["x-amgr-signature"])
    failed, recovered = hook.payloads()
    assert failed["event"] == "task_failed"
    assert failed["key"] == "task:daily-blog"
    assert failed["subject"] == "[amgr] task daily-blog failed"
    assert "WordPress answered HTTP 500" in failed["body"]
    assert failed["at"] == "2025-03-10T09:00:01.200000+01:00"
    assert recovered["event"] == "recovered"
    assert recovered["key"] == "task:daily-blog"
    delivery_ids = [h["x-amgr-delivery"] for h, _ in hook.requests]
    assert delivery_ids[1] == delivery_ids[0] + "-recovered"


def test_email_and_webhook_both_receive_the_incident(
    home: Home, smtp: tuple[int, Mailbox], hook: Hook
) -> None:
    port, box = smtp
    notifier = Notifier(home, make_config(smtp_port=port, hook_url=hook.url))

    notifier.credentials_failed("mastodon", "401 Unauthorized", T0)

    assert box.subjects() == ["[amgr] credentials for mastodon failed"]
    assert [p["event"] for p in hook.payloads()] == ["credentials"]


def test_webhook_error_status_is_logged_without_the_url_path(
    home: Home, hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    hook.status = 503
    with caplog.at_level(logging.WARNING, logger="automation_manager.notify"):
        Notifier(home, make_config(hook_url=hook.url)).notify_run(
            record(RunStatus.FAILED), final=True
        )

    assert "HTTP 503" in caplog.text
    assert "amgr-token-path" not in caplog.text


def test_webhook_secret_never_appears_in_warnings(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    class Leaky:
        name = "webhook"

        def send(self, notice: Notice) -> None:
            raise RuntimeError(f"refused: signature made with {SECRET}")

    config = make_config(hook_url="http://127.0.0.1:9/")
    with caplog.at_level(logging.WARNING, logger="automation_manager.notify"):
        Notifier(home, config, channels=[Leaky()]).notify_run(record(RunStatus.FAILED), final=True)

    assert "refused: signature made with ***" in caplog.text
    assert SECRET not in caplog.text


# -- failures never reach the caller -------------------------------------------------------


def test_smtp_down_logs_a_warning_and_keeps_the_incident(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier(home, make_config(smtp_port=free_port()))  # nothing listens there

    with caplog.at_level(logging.WARNING, logger="automation_manager.notify"):
        opened = notifier.notify_run(record(RunStatus.FAILED), final=True)

    assert opened is True
    assert "email notification '[amgr] task daily-blog failed' failed" in caplog.text
    assert state_of(home)["open"]["task:daily-blog"]["undelivered"] == ["email"]


def test_undelivered_message_is_sent_on_the_next_occurrence(home: Home) -> None:
    port = free_port()
    notifier = Notifier(home, make_config(smtp_port=port))
    notifier.notify_run(record(RunStatus.FAILED, T0), final=True)  # server down

    controller, box = start_smtp(port)
    try:
        notifier.notify_run(record(RunStatus.FAILED, T0 + timedelta(hours=1)), final=True)
        notifier.notify_run(record(RunStatus.FAILED, T0 + timedelta(hours=2)), final=True)
    finally:
        controller.stop()

    assert box.subjects() == ["[amgr] task daily-blog failed"]
    assert state_of(home)["open"]["task:daily-blog"]["undelivered"] == []


def test_without_channels_incidents_are_still_tracked(home: Home) -> None:
    notifier = Notifier(home, Config())

    assert notifier.notify_run(record(RunStatus.FAILED), final=True) is True
    assert notifier.notify_run(record(RunStatus.FAILED), final=True) is False
    assert notifier.notify_run(record(RunStatus.SUCCESS), final=True) is True


def test_unreadable_state_file_is_reported_and_replaced(
    home: Home, smtp: tuple[int, Mailbox], caplog: pytest.LogCaptureFixture
) -> None:
    port, box = smtp
    home.state_dir.mkdir(parents=True)
    (home.state_dir / "incidents.json").write_text("{not json")

    with caplog.at_level(logging.WARNING, logger="automation_manager.notify"):
        Notifier(home, make_config(smtp_port=port)).notify_run(record(RunStatus.FAILED), final=True)

    assert "incidents.json is unreadable" in caplog.text
    assert len(box.messages) == 1
    assert "task:daily-blog" in state_of(home)["open"]


def test_unknown_kind_is_logged_not_raised(home: Home, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="automation_manager.notify"):
        assert Notifier(home, Config()).incident("x:1", "meteor", "s", "b", T0) is False

    assert "could not handle incident x:1" in caplog.text
