"""Dropbox and Google Drive as file destinations, against fakes that check the protocol."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_google import (
    APP_KEY,
    APP_SECRET,
    DROPBOX_REFRESH,
    DROPBOX_TOKEN,
    FakeDropbox,
    FakeGoogle,
    google_home,
)
from fake_platforms import Reply, add_item, amgr, item_json, kill_mid_request, running, write_home

from automation_manager import AutomationManager
from automation_manager.config import load_workspace
from automation_manager.home import Home
from automation_manager.notify import Notifier

EPUB = b"PK\x03\x04" + bytes(range(256)) * 1200  # 307 KB
BIG = bytes(range(251)) * 10_000  # 2.5 MB: an upload session with 1 MiB chunks


@pytest.fixture
def dropbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDropbox]:
    monkeypatch.setenv("DROPBOX_TOKEN", DROPBOX_TOKEN)
    with running(FakeDropbox()) as server:
        yield server


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with running(FakeGoogle()) as server:
        yield server


def ebook(home: Path, video: bytes | None = None) -> str:
    files: dict[str, tuple[str, bytes | str]] = {
        "epub": ("book.epub", EPUB),
        "markdown": ("book.md", "# Deep Work\n\nChapter one."),
    }
    if video is not None:
        files["video"] = ("trailer.mp4", video)
    return add_item(home, "ebook", "Deep Work", files=files, meta={})


def credential_incidents(home: Path) -> list[str]:
    ws = load_workspace(Home.resolve(home))
    incidents = Notifier(ws.home, ws.config).open_incidents()
    return [key for key, i in incidents.items() if i.kind.value == "credentials"]


# -- Dropbox --------------------------------------------------------------------------------


def dropbox_home(tmp_path: Path, server: FakeDropbox, **platform: Any) -> Path:
    config = {
        "kind": "dropbox",
        "api_base": server.url,
        "content_base": server.url,
        "folder": "/Books",
        "timeout_s": 5,
        **platform,
    }
    return write_home(tmp_path / "home", {"box": config})


def test_dropbox_copies_the_files_and_records_the_shared_link(
    tmp_path: Path, dropbox: FakeDropbox
) -> None:
    home = dropbox_home(tmp_path, dropbox)
    item = ebook(home)

    result = amgr(home, "exec-now", "publishing", "ebook", "-p", "platform=box")

    assert result.exit_code == 0, result.output
    assert dropbox.files[f"/books/{item}/book.epub"] == EPUB
    assert f"/books/{item}/book.md" in dropbox.files
    uploads = dropbox.routed("POST files/upload")
    args = [json.loads(r.headers["dropbox-api-arg"]) for r in uploads]
    assert {a["mode"] for a in args} == {"overwrite"}
    assert all(r.headers["authorization"] == f"Bearer {DROPBOX_TOKEN}" for r in uploads)
    published = item_json(home, item)["published"]["box"]
    assert published["url"] == dropbox.links[f"/books/{item}"]

    before = len(dropbox.requests)
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert len(dropbox.requests) == before  # a second run sends nothing


def test_dropbox_large_files_go_through_an_upload_session(
    tmp_path: Path, dropbox: FakeDropbox
) -> None:
    home = dropbox_home(tmp_path, dropbox, session_threshold_mib=1, chunk_mib=1)
    item = ebook(home, video=BIG)
    # a 503 to the first append: nothing stored, resent at the same offset
    dropbox.script("POST files/upload_session/append_v2", Reply(503, "upstream timeout"))

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert dropbox.files[f"/books/{item}/trailer.mp4"] == BIG
    offsets = [
        json.loads(r.headers["dropbox-api-arg"])["cursor"]["offset"]
        for r in dropbox.routed("POST files/upload_session/append_v2")
    ]
    assert offsets == [1048576, 1048576]
    (finish,) = dropbox.routed("POST files/upload_session/finish")
    assert json.loads(finish.headers["dropbox-api-arg"])["cursor"]["offset"] == 2097152


def test_dropbox_killed_mid_upload_keeps_one_copy(tmp_path: Path, dropbox: FakeDropbox) -> None:
    home = dropbox_home(tmp_path, dropbox)
    item = ebook(home)
    kill_mid_request(home, dropbox, "POST files/upload", {"DROPBOX_TOKEN": DROPBOX_TOKEN})
    assert len(dropbox.files) == 1

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert sorted(dropbox.files) == [f"/books/{item}/book.epub", f"/books/{item}/book.md"]
    assert item_json(home, item)["status"] == "published"


def test_dropbox_an_existing_shared_link_is_reused(tmp_path: Path, dropbox: FakeDropbox) -> None:
    home = dropbox_home(tmp_path, dropbox)
    item = ebook(home)
    dropbox.files[f"/books/{item}/old.txt"] = b"x"
    dropbox.links[f"/books/{item}"] = "https://www.dropbox.com/scl/fo/old/amgr?dl=0"

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    url = item_json(home, item)["published"]["box"]["url"]
    assert url == "https://www.dropbox.com/scl/fo/old/amgr?dl=0"


def test_dropbox_a_refused_token_is_one_incident_and_never_shown(
    tmp_path: Path, dropbox: FakeDropbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = dropbox_home(tmp_path, dropbox)
    item = ebook(home)
    monkeypatch.setenv("DROPBOX_TOKEN", "sl.a-revoked-token-0000")

    result = amgr(home, "exec-now", "publishing", "pending")
    check = amgr(home, "check")

    assert result.exit_code == 1 and check.exit_code == 1
    assert "platforms.box.token_env" in check.output
    assert "sl.a-revoked-token-0000" not in result.output + check.output
    assert credential_incidents(home) == ["platform:box"]
    assert item_json(home, item)["status"] == "pending"
    monkeypatch.setenv("DROPBOX_TOKEN", DROPBOX_TOKEN)
    assert amgr(home, "check").exit_code == 0
    assert credential_incidents(home) == []


def test_dropbox_a_rate_limit_waits_for_retry_after(tmp_path: Path, dropbox: FakeDropbox) -> None:
    home = dropbox_home(tmp_path, dropbox)
    item = ebook(home)
    dropbox.script(
        "POST files/upload",
        Reply(429, {"error_summary": "too_many_write_operations/"}, {"Retry-After": "1"}),
    )

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(dropbox.routed("POST files/upload")) == 3
    assert item_json(home, item)["status"] == "published"


def test_dropbox_token_given_to_the_library_is_used(
    tmp_path: Path, dropbox: FakeDropbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DROPBOX_TOKEN")
    home = dropbox_home(tmp_path, dropbox)
    ebook(home)

    record = AutomationManager(home, dropbox_token=DROPBOX_TOKEN).execute_publishing_task(
        {"type": "ebook", "platform": "box"}
    )

    assert record["status"] == "success", record
    assert DROPBOX_TOKEN not in json.dumps(record)
    assert len(dropbox.files) == 2


def test_dropbox_a_refresh_token_fetches_the_access_token(
    tmp_path: Path, dropbox: FakeDropbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DROPBOX_TOKEN")
    monkeypatch.setenv("DROPBOX_REFRESH_TOKEN", DROPBOX_REFRESH)
    monkeypatch.setenv("DROPBOX_APP_SECRET", APP_SECRET)
    home = dropbox_home(
        tmp_path,
        dropbox,
        refresh_token_env="DROPBOX_REFRESH_TOKEN",
        app_key=APP_KEY,
        app_secret_env="DROPBOX_APP_SECRET",
    )
    item = ebook(home)

    result = amgr(home, "exec-now", "publishing", "pending", "--json")

    assert result.exit_code == 0, result.output
    assert dropbox.token.startswith("sl.refreshed-")
    uploads = dropbox.routed("POST files/upload")
    assert {r.headers["authorization"] for r in uploads} == {f"Bearer {dropbox.token}"}
    assert item_json(home, item)["status"] == "published"
    assert dropbox.token not in result.output and APP_SECRET not in result.output


def test_dropbox_refresh_settings_are_checked_at_validation(tmp_path: Path) -> None:
    server_url = "http://127.0.0.1:9"
    home = write_home(
        tmp_path / "home",
        {"box": {"kind": "dropbox", "api_base": server_url, "refresh_token_env": "DBX_R"}},
    )
    before = (home / "config.json").read_bytes()

    result = amgr(home, "validate")

    assert result.exit_code == 2
    assert "config.json: platforms.box: refresh_token_env needs app_key and app_secret_env" in (
        result.output
    )
    assert (home / "config.json").read_bytes() == before


def test_the_daemon_started_from_the_library_uses_its_dropbox_token(
    tmp_path: Path, dropbox: FakeDropbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import subprocess
    import sys

    monkeypatch.delenv("DROPBOX_TOKEN")
    home = dropbox_home(tmp_path, dropbox)
    task = {"id": "books", "type": "ebook", "platform": "box", "schedule": {"interval": "1h"}}
    (home / "tasks.json").write_text(json.dumps({"publishing": [task]}))
    state = home / ".mp" / "state"
    state.mkdir(parents=True)
    last = (datetime.now(UTC) - timedelta(minutes=90)).isoformat()
    (state / "schedule.json").write_text(
        json.dumps({"version": 1, "tasks": {"books": {"last_due": last}}})
    )
    item = ebook(home)
    script = (
        "import sys; from automation_manager import AutomationManager; "
        "sys.exit(AutomationManager(sys.argv[1], dropbox_token=sys.argv[2])"
        ".run_scheduler(run_once=True))"
    )

    done = subprocess.run(
        [sys.executable, "-c", script, str(home), DROPBOX_TOKEN],
        env={k: v for k, v in os.environ.items() if k != "DROPBOX_TOKEN"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert item_json(home, item)["status"] == "published"
    assert len(dropbox.files) == 2
    assert DROPBOX_TOKEN not in done.stderr + done.stdout


# -- Google Drive ---------------------------------------------------------------------------


def drive_home(tmp_path: Path, google: FakeGoogle, **platform: Any) -> Path:
    settings = {"chunk_kib": 256, **platform}
    return google_home(tmp_path / "home", google, "gdrive", "drive", connected=True, **settings)


def test_drive_copies_files_with_resumable_uploads_and_shares_the_folder(
    tmp_path: Path, google: FakeGoogle
) -> None:
    google.files["parent1"] = {
        "id": "parent1",
        "name": "Books",
        "mimeType": "application/vnd.google-apps.folder",
        "parents": ["root"],
        "appProperties": {},
        "webViewLink": "https://drive.google.com/drive/folders/parent1",
    }
    home = drive_home(tmp_path, google, folder_id="parent1")
    item = ebook(home)
    google.drop_next_chunk()

    result = amgr(home, "exec-now", "publishing", "ebook", "-p", "platform=drive")

    assert result.exit_code == 0, result.output
    folder = next(f for f in google.files.values() if f["name"] == item)
    assert folder["parents"] == ["parent1"]
    names = {f["name"]: f for f in google.files.values() if folder["id"] in f["parents"]}
    assert (
        names["book.epub"]["data"] == EPUB
        and names["book.epub"]["mimeType"] == "application/epub+zip"
    )
    assert "book.md" in names
    assert google.permissions[folder["id"]] == [
        {"id": google.permissions[folder["id"]][0]["id"], "role": "reader", "type": "anyone"}
    ]
    published = item_json(home, item)["published"]["drive"]
    assert published["url"] == folder["webViewLink"]
    assert amgr(home, "check").output.startswith("ok    drive (gdrive): authenticated as ada@")

    before = len(google.requests)
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert len(google.requests) == before


def test_drive_killed_after_the_folder_was_made_creates_it_once(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = drive_home(tmp_path, google)
    item = ebook(home)
    kill_mid_request(home, google, "POST drive files", {})
    assert [f["name"] for f in google.files.values()] == [item]

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    folders = [f for f in google.files.values() if f["name"] == item]
    assert len(folders) == 1 and google.routed("GET drive files")
    assert sorted(f["name"] for f in google.files.values()) == sorted(
        [item, "book.epub", "book.md"]
    )


def test_drive_killed_after_a_files_last_chunk_uploads_it_once(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = drive_home(tmp_path, google, chunk_kib=1024)
    item = ebook(home)
    kill_mid_request(home, google, "PUT drive chunk", {})
    google.sessions.clear()  # and the session is forgotten: the appProperties key tells

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    names = sorted(f["name"] for f in google.files.values())
    assert names == sorted([item, "book.epub", "book.md"])
    assert item_json(home, item)["status"] == "published"


def test_drive_a_revoked_token_is_one_incident_naming_amgr_auth(
    tmp_path: Path, google: FakeGoogle
) -> None:
    home = drive_home(tmp_path, google)
    item = ebook(home)
    google.revoke_all()

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 1 and "amgr auth drive" in result.output
    assert credential_incidents(home) == ["platform:drive"]
    assert item_json(home, item)["status"] == "pending"


def test_drive_a_rate_limit_waits_for_retry_after(tmp_path: Path, google: FakeGoogle) -> None:
    home = drive_home(tmp_path, google)
    item = ebook(home)
    google.script("POST drive files", Reply(429, {"error": {"code": 429}}, {"Retry-After": "1"}))

    result = amgr(home, "exec-now", "publishing", "pending")

    assert result.exit_code == 0, result.output
    assert len(google.routed("POST drive files")) == 2
    assert item_json(home, item)["status"] == "published"
