"""Publishing carries the visuals: Mastodon uploads media and waits for processing, the
filesystem platform copies images next to the Markdown, the outbox gets the video."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_platforms import (
    MASTODON_TOKEN,
    FakeMastodon,
    FakeWebhook,
    FakeWordPress,
    amgr,
    mastodon_config,
    running,
    webhook_config,
    wordpress_config,
    write_home,
)
from PIL import Image

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
    home = write_home(
        tmp_path,
        {"masto": mastodon_config(masto.url)},
        auto_approve=True,
        auto_approve_offline=True,
    )
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


def test_filesystem_copies_featured_and_inline_images_with_relative_links(tmp_path: Path) -> None:
    home = write_home(
        tmp_path,
        {"site": {"kind": "filesystem", "path": "site/content"}},
        auto_approve=True,
        auto_approve_offline=True,
        images={"images_per_article": 1},
    )
    make(home, "blog", "topic=sourdough baking")
    result = amgr(home, "exec-now", "publishing", "blog", "-p", "platform=site")
    assert result.exit_code == 0, result.output
    site = home / "site" / "content"
    (page,) = site.glob("*.md")
    text = page.read_text()
    assert f'image: "{page.stem}.png"' in text
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links == [f"{page.stem}-inline-1.png"]
    for name in (f"{page.stem}.png", *links):
        with Image.open(site / name) as img:
            assert img.width >= 1200


@pytest.mark.usefixtures("wp_password")
def test_wordpress_uploads_featured_and_inline_images_and_links_them(
    tmp_path: Path, wp: FakeWordPress
) -> None:
    home = write_home(
        tmp_path,
        {"blog": wordpress_config(wp.url)},
        auto_approve=True,
        auto_approve_offline=True,
        images={"images_per_article": 2},
    )
    make(home, "blog", "topic=sourdough baking")
    result = amgr(home, "exec-now", "publishing", "blog", "-p", "platform=blog")
    assert result.exit_code == 0, result.output
    assert len(wp.media) == 3  # featured + two inline
    (post,) = wp.posts
    content = post["content"]["raw"] if isinstance(post["content"], dict) else post["content"]
    assert "inline-1.png" not in content.replace(f"{wp.url}/wp-content/uploads/", "")
    assert content.count(f'src="{wp.url}/wp-content/uploads/') == 2
    (featured,) = [m for m in wp.media if "inline" not in m["disposition"]]
    assert post["featured_media"] == featured["id"]


@pytest.mark.usefixtures("hook_secret")
@pytest.mark.parametrize("include", ["base64", "urls", "none"])
def test_webhook_carries_images_as_configured(
    tmp_path: Path, hook: FakeWebhook, include: str
) -> None:
    platform = webhook_config(hook.url, include_files=include)
    home = write_home(tmp_path, {"hook": platform}, auto_approve=True, auto_approve_offline=True)
    make(home, "social", "topic=tea", "platform=hook")
    result = amgr(home, "exec-now", "publishing", "social", "-p", "platform=hook")
    assert result.exit_code == 0, result.output
    (delivery,) = hook.deliveries.values()
    card = delivery["files"]["card"]
    assert card["name"] == "card.png" and card["size"] > 1000
    if include == "base64":
        assert base64.b64decode(card["base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    elif include == "urls":
        assert card["url"].startswith("file://") and "base64" not in card
        assert Path(card["url"].removeprefix("file://")).read_bytes()[:4] == b"\x89PNG"
    else:
        assert "base64" not in card and "url" not in card
    assert delivery["files"]["markdown"]["text"]  # text files always travel
