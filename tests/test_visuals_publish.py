"""Publishing carries the visuals: Mastodon uploads media and waits for processing, the
filesystem platform copies images next to the Markdown, the outbox gets the video."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_platforms import (
    MASTODON_TOKEN,
    FakeMastodon,
    amgr,
    mastodon_config,
    running,
    write_home,
)

pytestmark = pytest.mark.usefixtures("mastodon_token")


@pytest.fixture
def masto() -> Iterator[FakeMastodon]:
    with running(FakeMastodon(token=MASTODON_TOKEN)) as server:
        yield server


@pytest.fixture(autouse=True)
def images_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMGR_VISUALS", "images")


def make(home: Path, kind: str, *params: str) -> dict[str, object]:
    args = ["exec-now", "content_creation", kind, "--json"]
    for p in params:
        args += ["-p", p]
    result = amgr(home, *args)
    assert result.exit_code == 0, result.output
    record: dict[str, object] = json.loads(result.stdout)
    return record


def test_mastodon_uploads_the_card_waits_for_processing_and_attaches_it(
    tmp_path: Path, masto: FakeMastodon
) -> None:
    masto.processing_polls = 2
    home = write_home(tmp_path, {"masto": mastodon_config(masto.url)}, auto_approve=True)
    make(home, "social", "topic=home espresso", "platform=masto")
    result = amgr(home, "exec-now", "publishing", "social", "-p", "platform=masto")
    assert result.exit_code == 0, result.output
    (upload,) = masto.uploads.values()
    assert upload["name"] == "card.png" and upload["type"] == "image/png"
    assert upload["size"] > 1000 and upload["description"]
    polls = [r for r in masto.requests if r.method == "GET" and "/api/v1/media/" in r.path]
    assert len(polls) == 3  # two answered 206 (processing), then 200
    first = masto.statuses[0]
    assert [m["name"] for m in first["media_attachments"]] == ["card.png"]
    assert all(not s["media_attachments"] for s in masto.statuses[1:])

