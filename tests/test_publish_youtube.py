"""YouTube end to end against a fake Google that checks resumable uploads chunk by chunk."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fake_google import FakeGoogle, google_home
from fake_google import connect as fake_connect
from fake_platforms import Reply, add_item, amgr, item_json, kill_mid_request, running, write_home

from automation_manager import AutomationManager
from automation_manager.config import load_workspace
from automation_manager.home import Home
from automation_manager.notify import Notifier
from automation_manager.publishers.oauth import Token

VIDEO = bytes(range(256)) * 2600  # 665,600 bytes: three 256 KiB chunks, the last shorter
PNG = b"\x89PNG\r\n\x1a\n" + b"thumbnail" * 50


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with running(FakeGoogle()) as server:
        yield server


def yt_home(tmp_path: Path, google: FakeGoogle, *, connected: bool = True, **platform: Any) -> Path:
    settings = {"chunk_kib": 256, "tags": ["productivity"], **platform}
    return google_home(tmp_path / "home", google, "youtube", "yt", connected=connected, **settings)


def connect(home: Path, google: FakeGoogle, expires_in: float = 3000) -> Token:
    return fake_connect(home, google, "yt", expires_in)


def credential_incidents(home: Path) -> list[str]:
    ws = load_workspace(Home.resolve(home))
    incidents = Notifier(ws.home, ws.config).open_incidents()
    return [key for key, i in incidents.items() if i.kind.value == "credentials"]


def short(home: Path, title: str = "Three rules for deep work") -> str:
    return add_item(
        home,
        "shorts",
        title,
        files={
            "video": ("video.mp4", VIDEO),
            "thumbnail": ("thumb.png", PNG),
            "script": ("script.md", "Rule one: block your mornings."),
        },
        meta={"description": "Focus in 30 seconds.", "tags": ["focus", "deep work"]},
    )


def test_a_short_is_uploaded_in_chunks_with_its_metadata_and_thumbnail(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = yt_home(tmp_path, google)
    item = short(home)

    result = amgr(home, "exec-now", "publishing", "shorts", "-p", "platform=yt")

    assert result.exit_code == 0, result.output
    (session,) = google.uploaded("youtube")
    assert bytes(session["data"]) == VIDEO and session["type"] == "video/mp4"
    assert session["chunks"] == [(0, 262143), (262144, 524287), (524288, len(VIDEO) - 1)]
    (video,) = google.videos
    snippet = video["snippet"]
    assert snippet["title"] == "Three rules for deep work"
    assert snippet["description"].startswith("Focus in 30 seconds.\n\n#Shorts\n\namgr:")
    assert snippet["tags"] == ["productivity", "focus", "deep work"]
    assert snippet["categoryId"] == "22"
    assert video["status"]["privacyStatus"] == "private"
    assert google.thumbnails[video["id"]] == PNG
    published = item_json(home, item)["published"]["yt"]
    assert published["url"] == f"https://www.youtube.com/shorts/{video['id']}"
    assert published["status"] == "private"


def test_a_second_run_sends_nothing(tmp_path: Path, google: FakeGoogle) -> None:
    home = yt_home(tmp_path, google)
    short(home)
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    before = len(google.requests)

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(google.videos) == 1
    assert [r.route for r in google.requests[before:]] == []


def test_a_dropped_connection_resumes_from_the_range_the_server_reports(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = yt_home(tmp_path, google)
    item = short(home)
    google.drop_next_chunk()  # keeps 128 KiB of the first chunk, then hangs up

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    (session,) = google.uploaded("youtube")
    assert bytes(session["data"]) == VIDEO
    status_queries = [
        r
        for r in google.routed("PUT youtube chunk")
        if r.headers["content-range"].startswith("bytes */")
    ]
    assert [r.headers["content-range"] for r in status_queries] == [f"bytes */{len(VIDEO)}"]
    assert session["chunks"][1][0] == 131072  # resumed where the server's Range ended
    assert item_json(home, item)["status"] == "published"


def test_killed_after_the_last_chunk_publishes_exactly_once(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = yt_home(tmp_path, google, chunk_kib=1024)  # one PUT: the last chunk
    item = short(home)
    kill_mid_request(home, google, "PUT youtube chunk", {})
    assert len(google.videos) == 1  # YouTube has it; amgr never heard

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    (video,) = google.videos
    assert len(google.routed("POST youtube session")) == 1
    assert item_json(home, item)["published"]["yt"]["remote_id"] == video["id"]
    assert google.thumbnails[video["id"]] == PNG


def test_an_expired_session_is_reconciled_from_the_channel_uploads(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = yt_home(tmp_path, google, chunk_kib=1024)
    item = short(home)
    kill_mid_request(home, google, "PUT youtube chunk", {})
    google.sessions.clear()  # the session URI is forgotten: only the description tells

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    (video,) = google.videos
    assert google.routed("GET playlistItems")
    assert item_json(home, item)["published"]["yt"]["remote_id"] == video["id"]


def test_an_access_token_about_to_expire_is_refreshed_first(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = yt_home(tmp_path, google, connected=False)
    old = connect(home, google, expires_in=60)
    short(home)

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    grants = [r.body.decode() for r in google.routed("POST /token")]
    assert len(grants) == 1 and "grant_type=refresh_token" in grants[0]
    path = home / ".mp" / "auth" / "yt.json"
    saved = json.loads(path.read_text())
    assert saved["access_token"] != old.access_token
    assert saved["refresh_token"] == old.refresh_token
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    uploads = google.routed("POST youtube session")
    assert uploads[0].headers["authorization"] == f"Bearer {saved['access_token']}"


def test_a_revoked_token_is_one_credentials_incident_naming_amgr_auth(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = yt_home(tmp_path, google, connected=False)
    connect(home, google, expires_in=60)
    item = short(home)
    google.revoke_all()

    first = amgr(home, "exec-now", "publishing", "pending")
    second = amgr(home, "check")

    assert first.exit_code == 1 and second.exit_code == 1
    assert "amgr auth yt" in first.output and "amgr auth yt" in second.output
    token = json.loads((home / ".mp" / "auth" / "yt.json").read_text())["refresh_token"]
    assert token not in first.output + second.output
    assert credential_incidents(home) == ["platform:yt"]
    assert item_json(home, item)["status"] == "pending" and google.videos == []

    connect(home, google)  # `amgr auth yt` again
    assert amgr(home, "check").exit_code == 0
    assert credential_incidents(home) == []


def test_a_rate_limit_waits_for_retry_after_then_uploads(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = yt_home(tmp_path, google)
    item = short(home)
    google.script(
        "POST youtube session",
        Reply(429, {"error": {"code": 429, "message": "Too many requests"}}, {"Retry-After": "1"}),
    )

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(google.routed("POST youtube session")) == 2 and len(google.videos) == 1
    assert item_json(home, item)["status"] == "published"


def test_quota_exceeded_is_a_later_not_a_credentials_problem(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = yt_home(tmp_path, google)
    item = short(home)
    body = {
        "error": {
            "code": 403,
            "message": "The request cannot be completed because you have exceeded your quota.",
            "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}],
        }
    }
    google.script("POST youtube session", Reply(403, body))

    result = amgr(home, "exec-now", "publishing", "pending")

    assert "quotaExceeded" in result.output and "later run" in result.output
    assert item_json(home, item)["status"] == "pending"
    assert credential_incidents(home) == []


def test_check_reads_the_channel_and_posts_nothing(tmp_path: Path, google: FakeGoogle) -> None:
    home = yt_home(tmp_path, google)

    result = amgr(home, "check")

    assert "ok    yt (youtube): authenticated as channel 'Deep Work Daily'" in result.output
    assert {r.method for r in google.requests} == {"GET"}


def test_publish_at_uploads_now_for_the_windows_slot(tmp_path: Path, google: FakeGoogle) -> None:
    home = yt_home(
        tmp_path,
        google,
        publish_at=True,
        privacy_status="public",
        window={"mode": "slots", "times": ["23:59"]},
    )
    item = short(home)

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    (video,) = google.videos
    assert video["status"]["privacyStatus"] == "private"
    publish_at = datetime.fromisoformat(video["status"]["publishAt"].replace("Z", "+00:00"))
    assert publish_at.strftime("%H:%M") == "23:59" and publish_at > datetime.now(UTC)
    published = item_json(home, item)["published"]["yt"]
    assert published["status"] == "scheduled"
    assert datetime.fromisoformat(published["live_at"]) == publish_at


def test_the_seed_list_form_stays_an_outbox_and_check_says_what_to_set(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home", ["youtube", "twitter"])

    result = amgr(home, "check")

    assert result.exit_code == 0, result.output
    assert "youtube (outbox)" in result.output
    assert 'set platforms.youtube to {"kind": "youtube", "google_credentials_path"' in result.output
    assert "amgr auth youtube" in result.output


def test_the_seed_constructor_credentials_path_is_used(tmp_path: Path, google: FakeGoogle) -> None:
    home = yt_home(tmp_path, google, google_credentials_path=None)
    secret = home / "client_secret.json"
    elsewhere = tmp_path / "secrets" / "client.json"
    elsewhere.parent.mkdir()
    secret.rename(elsewhere)
    short(home)
    mgr = AutomationManager(home, google_credentials_path=str(elsewhere))

    record = mgr.execute_publishing_task({"type": "shorts", "platform": "yt"})

    assert record["status"] == "success", record
    assert len(google.videos) == 1


def test_daily_limit_holds_back_the_second_short(tmp_path: Path, google: FakeGoogle) -> None:
    home = yt_home(tmp_path, google, daily_limit=1)
    first = short(home, "First short")
    second = short(home, "Second short")

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert [v["snippet"]["title"] for v in google.videos] == ["First short"]
    assert item_json(home, first)["status"] == "published"
    waiting = item_json(home, second)
    assert waiting["status"] == "pending" and "yt" in waiting["planned"]


def test_a_channel_that_may_not_set_thumbnails_still_gets_the_video(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = yt_home(tmp_path, google)
    item = short(home)
    message = (
        "The authenticated user doesn't have permissions to upload and set custom video thumbnails."
    )
    google.script(
        "POST thumbnails",
        Reply(
            403, {"error": {"code": 403, "message": message, "errors": [{"reason": "forbidden"}]}}
        ),
    )

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert "is up without its thumbnail" in result.output and "verify the channel" in result.output
    assert len(google.videos) == 1 and google.thumbnails == {}
    assert item_json(home, item)["status"] == "published"
    assert credential_incidents(home) == []


def mp4(width: int, height: int, *, rotated: bool = False) -> bytes:
    """A minimal MP4: ftyp, then moov/trak/tkhd (version 0) with a display size."""
    import struct

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    a, b = (0, 0x10000) if rotated else (0x10000, 0)
    matrix = struct.pack(">9i", a, b, 0, -b if rotated else 0, a, 0, 0, 0, 0x40000000)
    tkhd = bytes(4) + bytes(20) + bytes(8) + bytes(8) + matrix
    tkhd += struct.pack(">II", width << 16, height << 16)
    moov = box(b"moov", box(b"trak", box(b"tkhd", tkhd)))
    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + moov + bytes(300_000)


@pytest.mark.parametrize(
    ("width", "height", "rotated", "warned"),
    [(1920, 1080, False, True), (1080, 1920, False, False), (1920, 1080, True, False)],
)
def test_a_horizontal_short_is_uploaded_with_a_note_that_it_is_no_short(
    tmp_path: Path, google: FakeGoogle, width: int, height: int, rotated: bool, warned: bool
) -> None:
    home = yt_home(tmp_path, google, chunk_kib=1024)
    item = add_item(
        home,
        "shorts",
        "Wide",
        files={"video": ("video.mp4", mp4(width, height, rotated=rotated))},
        meta={},
    )

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert ("is horizontal (1920×1080)" in result.output) is warned
    assert item_json(home, item)["status"] == "published"
