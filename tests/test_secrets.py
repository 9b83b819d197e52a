"""No secret leaves amgr: not in a file under the home, not on stdout/stderr, not in a
notification, in none of the forms it travels in (as read, stripped, URL-encoded,
Basic-auth base64, Bearer), even when a server echoes the credentials it was sent.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from fake_platforms import (
    FakeWebhook,
    FakeWordPress,
    Reply,
    Request,
    add_item,
    run,
    running,
    wordpress_config,
    write_home,
)
from test_notify import Mailbox, free_port, start_smtp

from automation_manager.enums import RunStatus
from automation_manager.logs.records import RunRecord, new_record_id
from automation_manager.secrets import REGISTRY

USER = "editor"
WP_SECRET = "abcd efgh/ijkl+mnop\r"
"""An Application Password read from a CRLF EnvironmentFile: the ``\\r`` is still on it."""
CRLF_SECRET = "s3cr3t-value\r"


class EchoingWordPress(FakeWordPress):
    """A WordPress that refuses every login and echoes what it got, the way a debugging
    proxy or a badly written plugin does: the Authorization header and the password."""

    def handle(self, request: Request) -> Reply:
        header = request.headers.get("authorization", "")
        sent = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")[2]
        return Reply(
            401,
            {
                "code": "rest_not_logged_in",
                "message": f"Authorization: {header} refused; password {sent} "
                f"({quote(sent)}, {quote_plus(sent)}) is wrong",
                "data": {"status": 401, "authorization": header},
            },
        )


def forms(secret: str, user: str = USER) -> list[str]:
    """Every form a secret may be found in."""
    clean = secret.strip()
    found = [secret, clean, quote(clean), quote_plus(clean), quote(secret), quote_plus(secret)]
    found += [base64.b64encode(f"{user}:{clean}".encode()).decode()]
    found += [base64.b64encode(clean.encode()).decode(), json.dumps(secret)[1:-1]]
    return found


def leaks(text: str | bytes, secret: str) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [f for f in forms(secret) if f.encode() in data]


def files_under(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture
def echo_wp() -> Iterator[EchoingWordPress]:
    with running(EchoingWordPress(user=USER)) as server:
        yield server


def outputs(home: Path, *commands: tuple[str, ...]) -> dict[str, str]:
    """What each command printed, stdout and stderr together."""
    shown: dict[str, str] = {}
    for args in commands:
        result = run(home, *args)
        assert "Traceback" not in result.output, result.output
        shown[" ".join(args)] = result.output
    return shown


def test_a_401_echoing_the_password_leaks_it_nowhere(
    tmp_path: Path, echo_wp: EchoingWordPress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WP_APP_PASSWORD", WP_SECRET)
    home = write_home(tmp_path / "home", {"blog": wordpress_config(echo_wp.url)})
    item = add_item(home)

    shown = outputs(
        home,
        ("check",),
        ("check", "--json"),
        ("exec-now", "publishing", "pending"),
        ("exec-now", "publishing", "pending", "--json"),
    )
    [run_file, *_] = sorted((home / ".mp" / "runs").glob("*.json"))
    shown |= outputs(
        home,
        ("history",),
        ("history", "--json"),
        ("history", "--csv"),
        ("runs", "list"),
        ("runs", "show", run_file.stem),
        ("content", "show", item),
        ("status",),
    )

    sent = echo_wp.requests[0].headers["authorization"]
    assert sent == "Basic " + base64.b64encode(f"{USER}:{WP_SECRET.strip()}".encode()).decode()
    assert "FAIL" in shown["check"] and "WP_APP_PASSWORD" in shown["check"]
    assert "***" in shown["check"]  # the echo arrived, masked
    for command, text in shown.items():
        assert leaks(text, WP_SECRET) == [], command
    for path in files_under(home):
        assert leaks(path.read_bytes(), WP_SECRET) == [], path
    private = [
        home / ".mp" / "publish" / "checks.json",
        run_file,
        home / ".mp" / "content" / item / "item.json",
        home / ".mp" / "state" / "incidents.json",
        *(home / ".mp" / "automation" / "logs").glob("*.jsonl"),
    ]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_crlf_secret_is_masked_in_exports_output_and_notifications(
    tmp_path: Path, echo_wp: EchoingWordPress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WP_APP_PASSWORD", CRLF_SECRET)
    monkeypatch.setenv("AMGR_NOTIFY_SECRET", "n0tify-key-1\r")
    port = free_port()
    controller, box = start_smtp(port)
    try:
        with running(FakeWebhook(secret=None)) as receiver:
            home = write_home(
                tmp_path / "home",
                {"blog": wordpress_config(echo_wp.url)},
                notification_email="owner@example.com",
                smtp={"host": "127.0.0.1", "port": port, "security": "none", "from": "a@b.c"},
                notification_webhook={
                    "url": f"{receiver.url}/hook",
                    "secret_env": "AMGR_NOTIFY_SECRET",
                },
            )
            add_item(home)
            shown = outputs(
                home,
                ("exec-now", "publishing", "pending"),
                ("history", "--json"),
                ("history", "--csv"),
            )
            bodies = [r.body for r in receiver.requests]
    finally:
        controller.stop()

    assert isinstance(box, Mailbox) and box.messages, "no notification mail was sent"
    assert bodies, "no notification webhook was posted"
    records = json.loads(shown["history --json"])["records"]
    assert records and "***" in records[0]["error"]
    assert "***" in shown["history --csv"]
    for command, text in shown.items():
        assert leaks(text, CRLF_SECRET) == [], command
    for message in box.messages:
        assert leaks(message.as_bytes(), CRLF_SECRET) == [], message["Subject"]
    for body in bodies:
        assert leaks(body, CRLF_SECRET) == [], body
    for path in files_under(home):
        assert leaks(path.read_bytes(), CRLF_SECRET) == [], path


@pytest.mark.parametrize("value", ["abc", " ab\r"])
def test_a_secret_too_short_to_mask_is_refused_naming_the_variable(
    tmp_path: Path, echo_wp: EchoingWordPress, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("WP_APP_PASSWORD", value)
    home = write_home(tmp_path / "home", {"blog": wordpress_config(echo_wp.url)})

    result = run(home, "check")

    assert result.exit_code == 1
    assert "WP_APP_PASSWORD" in result.output and "too short" in result.output
    assert echo_wp.requests == []  # never sent


def test_an_env_name_that_is_not_a_secret_is_refused_before_anything_is_sent(
    tmp_path: Path, echo_wp: EchoingWordPress
) -> None:
    home = write_home(
        tmp_path / "home", {"blog": wordpress_config(echo_wp.url, password_env="HOME")}
    )

    result = run(home, "check")

    # Refused at validation (exit 2), before anything could be sent.
    assert result.exit_code == 2
    assert "platforms.blog.password_env" in result.output and "HOME" in result.output
    assert "does not hold a secret" in result.output
    assert echo_wp.requests == []


def test_a_bearer_token_is_masked_with_and_without_its_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "tok-9f8e7d6c5b\r"
    monkeypatch.setenv("MASTODON_TOKEN", token)
    home = write_home(
        tmp_path / "home",
        {"masto": {"kind": "mastodon", "url": "http://127.0.0.1:9", "token_env": "MASTODON_TOKEN"}},
    )
    run(home, "status")  # loads the config: every secret it names is registered

    text = REGISTRY.mask(f"Authorization: Bearer {token.strip()} / {quote(token)}")

    assert text == "Authorization: *** / ***"


def test_a_record_an_older_amgr_wrote_with_a_secret_is_masked_in_the_table_and_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WP_APP_PASSWORD", CRLF_SECRET)
    home = write_home(tmp_path / "home", {"blog": wordpress_config("http://127.0.0.1:9")})
    now = datetime.now(UTC)
    basic = base64.b64encode(f"{USER}:{CRLF_SECRET.strip()}".encode()).decode()
    old = RunRecord(
        id=new_record_id(now),
        timestamp=now,
        task_id="old-publish",
        category="publishing",
        type="pending",
        status=RunStatus.FAILED,
        success=False,
        error=f"blog: 401: Authorization: Basic {basic}; password {CRLF_SECRET.strip()}",
        result={"echo": quote_plus(CRLF_SECRET)},
    )
    logs = home / ".mp" / "automation" / "logs"
    logs.mkdir(parents=True)
    (logs / f"{now.date().isoformat()}.jsonl").write_text(old.to_line() + "\n")

    # (``history --json`` sends stored records as they are, with a zero-copy writev:
    # records amgr writes are scrubbed before they reach the log, see the tests above.)
    shown = outputs(home, ("history",), ("history", "--csv"))

    assert "old-publish" in shown["history"] and "***" in shown["history"]
    assert "old-publish" in shown["history --csv"] and "***" in shown["history --csv"]
    for command, text in shown.items():
        assert leaks(text, CRLF_SECRET) == [], command


def test_the_daemon_logs_and_records_no_secret(tmp_path: Path, echo_wp: EchoingWordPress) -> None:
    schedule = {"interval": "1h", "misfire": "once"}
    tasks = {"publishing": [{"id": "pub", "type": "pending", "schedule": schedule}]}
    home = write_home(
        tmp_path / "home", {"blog": wordpress_config(echo_wp.url)}, tasks=tasks, log_level="debug"
    )
    add_item(home)
    last = (datetime.now(UTC) - timedelta(hours=3)).isoformat()  # so --once catches up
    state = home / ".mp" / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "schedule.json").write_text(
        json.dumps({"version": 1, "tasks": {"pub": {"last_due": last}}})
    )
    env = {**os.environ, "WP_APP_PASSWORD": CRLF_SECRET, "PYTHONUNBUFFERED": "1"}

    done = subprocess.run(
        [sys.executable, "-m", "automation_manager", "--home", str(home), "run", "--once"],
        env=env,
        capture_output=True,
        timeout=60,
    )

    assert echo_wp.requests, done.stderr.decode()  # the server was asked, and echoed
    assert b"pub" in done.stderr and b"***" in done.stderr, done.stderr.decode()
    assert leaks(done.stdout + done.stderr, CRLF_SECRET) == []
    for path in files_under(home):
        assert leaks(path.read_bytes(), CRLF_SECRET) == [], path


def test_every_form_of_a_secret_read_with_its_user_is_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from automation_manager.secrets import mask, secret_from_env

    secret = ' p@ss "w0rd"\\+/é \r'
    monkeypatch.setenv("AMGR_TEST_FORMS", secret)

    used = secret_from_env("AMGR_TEST_FORMS", "smtp.password_env", "a password", user="me")

    assert used == secret.strip()
    plain = base64.b64encode(f"\0me\0{used}".encode()).decode()
    for form in [*forms(secret, user="me"), f"Bearer {used}", plain]:
        assert mask(f"<{form}>") == "<***>", form
