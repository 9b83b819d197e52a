"""`amgr auth`: the installed-app loopback flow and the device flow against a fake Google.

The "browser" is a small script named by $BROWSER (the standard way to choose one): it
opens the consent address, which redirects to amgr's listener on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle, google_home
from fake_platforms import amgr, run, running, write_home

BROWSER = """\
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=20).read()  # follows the redirect to amgr
"""


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with running(FakeGoogle()) as server:
        yield server


def home_for(tmp_path: Path, google: FakeGoogle, **platform: Any) -> Path:
    return google_home(tmp_path / "home", google, "youtube", "yt", connected=False, **platform)


def auth_process(home: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    browser = tmp_path / "browser.py"
    browser.write_text(BROWSER)
    return subprocess.run(
        [sys.executable, "-m", "automation_manager", "--home", str(home), "auth", *args],
        env={**os.environ, "BROWSER": f"{sys.executable} {browser} %s"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_auth_youtube_connects_through_the_loopback_redirect(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = home_for(tmp_path, google)

    done = auth_process(home, tmp_path, "youtube", "--timeout", "30")  # by kind: platform yt

    assert done.returncode == 0, done.stderr
    assert "connected yt" in done.stdout
    assert "ok    yt (youtube): authenticated as channel 'Deep Work Daily'" in done.stdout
    (consent,) = google.routed("GET /o/oauth2/auth")
    assert consent.query["code_challenge_method"] == "S256"
    assert consent.query["access_type"] == "offline"
    assert "youtube.upload" in consent.query["scope"]
    (exchange,) = google.routed("POST /token")
    verifier = dict(p.split("=", 1) for p in exchange.body.decode().split("&"))["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert digest.decode() == consent.query["code_challenge"]
    path = home / ".mp" / "auth" / "yt.json"
    saved = json.loads(path.read_text())
    assert saved["refresh_token"] in google.refresh and saved["access_token"] in google.access
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    output = done.stdout + done.stderr
    for secret in (saved["refresh_token"], saved["access_token"], CLIENT_SECRET):
        assert secret not in output


def test_a_declined_consent_stores_nothing(tmp_path: Path, google: FakeGoogle) -> None:
    home = home_for(tmp_path, google)
    google.decline = True

    done = auth_process(home, tmp_path, "yt", "--timeout", "30")

    assert done.returncode == 1
    assert "consent was not given (access_denied)" in done.stderr
    assert "amgr auth yt" in done.stderr
    assert not (home / ".mp" / "auth" / "yt.json").exists()


def test_auth_device_flow_polls_until_the_code_is_entered(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = home_for(tmp_path, google)

    result = amgr(home, "auth", "yt", "--device")

    assert result.exit_code == 0, result.output
    assert "open https://www.google.com/device and enter the code GQVQ-JKEC" in result.output
    polls = google.routed("POST /token")
    assert len(polls) == 2 and all("device_code" in r.body.decode() for r in polls)
    saved = json.loads((home / ".mp" / "auth" / "yt.json").read_text())
    assert saved["refresh_token"] in google.refresh


def test_auth_without_a_client_file_names_the_setting(tmp_path: Path, google: FakeGoogle) -> None:
    home = home_for(tmp_path, google, google_credentials_path=None)

    result = run(home, "auth", "yt")

    assert result.exit_code == 2
    assert "platforms.yt.google_credentials_path: not set" in result.output
    assert "Desktop app" in result.output


def test_auth_on_a_seed_outbox_says_what_to_configure(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home", ["youtube", "twitter"])

    result = run(home, "auth", "youtube")

    assert result.exit_code == 2
    assert 'platforms.youtube: is an outbox (no connection) — set it to {"kind": "youtube"' in (
        result.output
    )


def test_auth_on_a_platform_without_oauth_is_refused(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home", {"site": {"kind": "filesystem", "path": "site"}})

    result = run(home, "auth", "site")

    assert result.exit_code == 2
    assert "kind filesystem does not connect with amgr auth" in result.output


def test_a_registered_redirect_uri_and_basic_client_auth(
    tmp_path: Path, google: FakeGoogle
) -> None:
    """For platforms that accept only a registered redirect (fixed port and path) and
    want the client as HTTP Basic at the token endpoint (the library API)."""
    import socket
    import threading
    import urllib.request
    from datetime import UTC, datetime

    from automation_manager.home import Home
    from automation_manager.publishers.oauth import OAuthClient, TokenStore, loopback_flow

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OAuthClient(
        platform="x",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        auth_uri=f"{google.url}/o/oauth2/auth",
        token_uri=f"{google.url}/token",
        scopes=("youtube.readonly",),
        extra={"access_type": "offline"},
        redirect_port=port,
        redirect_path="/callback",
        basic_auth=True,
    )
    home = Home.resolve(write_home(tmp_path / "home", {}))

    def browser(url: str) -> None:
        threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=20).read()).start()

    token = loopback_flow(
        client,
        TokenStore(home, "x"),
        open_url=browser,
        now=lambda: datetime.now(UTC),
        sleep=lambda s: None,
        timeout_s=20,
    )

    (consent,) = google.routed("GET /o/oauth2/auth")
    assert consent.query["redirect_uri"] == f"http://127.0.0.1:{port}/callback"
    (exchange,) = google.routed("POST /token")
    assert exchange.headers["authorization"].startswith("Basic ")
    assert "client_secret" not in exchange.body.decode()
    assert TokenStore(home, "x").require().refresh_token == token.refresh_token
