"""Filesystem (static sites) and outbox (ready-to-post) platforms."""

from __future__ import annotations

import json
from pathlib import Path

from fake_platforms import add_item, amgr, item_json, write_home


def test_filesystem_writes_jekyll_named_markdown_with_front_matter(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"site": {"kind": "filesystem", "path": "site/_posts"}})
    item = add_item(home)

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    [path] = (home / "site" / "_posts").glob("*.md")
    assert path.name.endswith("-deep-work-for-remote-teams.md")
    assert path.name[:10].count("-") == 2  # YYYY-MM-DD-
    text = path.read_text()
    head, _, body = text.removeprefix("---\n").partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in head.splitlines())
    assert json.loads(fields["title"]) == "Deep work for remote teams"
    assert json.loads(fields["tags"]) == ["focus", "remote work"]
    assert fields["draft"] == "false" and json.loads(fields["amgr_id"]) == item
    assert "Focus is a **team** habit." in body and "# Deep work" not in body
    assert list(path.parent.glob(".*")) == []  # no temp files left behind
    saved = item_json(home, item)["published"]["site"]
    assert saved["remote_id"] == f"site/_posts/{path.name}"


def test_filesystem_does_not_overwrite_another_post_with_the_same_name(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"site": {"kind": "filesystem", "path": "out"}})
    first = add_item(home)
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    second = add_item(home)
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    names = sorted(p.name for p in (home / "out").glob("*.md"))
    assert len(names) == 2
    assert (
        item_json(home, first)["published"]["site"] != item_json(home, second)["published"]["site"]
    )


def test_outbox_prepares_files_and_never_claims_a_post(tmp_path: Path) -> None:
    home = write_home(tmp_path, ["youtube", "twitter"])  # the seed's list form
    shorts = add_item(
        home,
        "shorts",
        "Three focus tips",
        files={"markdown": ("script.md", "Hook. Beat one."), "srt": ("captions.srt", "1\n")},
        meta={"hashtags": ["#focus"]},
    )
    social = add_item(home, "social", "Focus thread")

    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

    box = home / ".mp" / "outbox"
    assert sorted(p.name for p in (box / "youtube" / shorts).iterdir()) == [
        "captions.srt",
        "post.txt",
        "ready.json",
        "script.md",
    ]
    assert json.loads((box / "youtube" / shorts / "ready.json").read_text())["status"] == "ready"
    assert (box / "twitter" / social / "post.txt").read_text() == "First post.\n\n---\n\nSecond.\n"
    assert not (box / "twitter" / shorts).exists() and not (box / "youtube" / social).exists()
    assert item_json(home, shorts)["published"]["youtube"]["status"] == "ready (outbox)"
    listing = amgr(home, "content", "list")
    assert "youtube: ready (outbox)" in listing.output
    assert "twitter: ready (outbox)" in listing.output
