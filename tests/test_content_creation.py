"""content_creation offline: every type makes real files a person can open."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import edit_config, exec_json, run


def files_of(record: dict[str, Any]) -> dict[str, Path]:
    return {Path(f).name: Path(f) for f in record["result"]["files"]}


def front_matter(text: str) -> dict[str, Any]:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, "no front matter"
    out: dict[str, Any] = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(": ")
        out[key] = json.loads(value) if value[:1] in '"[' else value
    return out


SRT_TIME = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"


def parse_srt(text: str) -> list[tuple[int, float, float, str]]:
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        times = re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", lines[1])
        assert times, f"bad timing line {lines[1]!r}"
        g = [int(x) for x in times.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        cues.append((int(lines[0]), start, end, "\n".join(lines[2:])))
    return cues


def test_shorts_makes_script_captions_and_metadata(home: Path) -> None:
    record = exec_json(home, "content_creation", "shorts", "topic=sourdough baking", "method=story")
    files = files_of(record)
    assert set(files) == {"script.md", "captions.srt", "shorts.json"}
    data = json.loads(files["shorts.json"].read_text())
    assert "sourdough baking" in data["hook"].lower()
    assert data["beats"] and all(b["on_screen_text"] and b["visual"] for b in data["beats"])
    assert data["call_to_action"] and data["description"]
    assert all(tag.startswith("#") and " " not in tag for tag in data["hashtags"])
    assert data["generated_by"] == "amgr offline provider (templates, no LLM)"

    cues = parse_srt(files["captions.srt"].read_text())
    assert [c[0] for c in cues] == list(range(1, len(cues) + 1))
    for (_, start, end, text), nxt in zip(cues, [*cues[1:], None], strict=True):
        assert start < end and text.strip()
        assert all(len(line) <= 42 for line in text.splitlines())
        if nxt:
            assert nxt[1] >= end - 1e-6
    assert cues[-1][2] == pytest.approx(data["duration_s"], abs=0.01)

    script = files["script.md"].read_text()
    assert front_matter(script)["generated_by"].startswith("amgr offline provider")
    assert "## Shot list" in script and "call to action" in script


def test_blog_has_front_matter_and_headings(home: Path) -> None:
    record = exec_json(
        home,
        "content_creation",
        "blog",
        "topic=personal finance for students: budgeting, saving & investing "
        "without stress or spreadsheets",
        "length=long",
    )
    post = files_of(record)["post.md"].read_text()
    head = front_matter(post)
    assert head["slug"] == re.sub(r"[^a-z0-9]+", "-", head["title"].lower()).strip("-")[:80]
    assert 0 < len(head["description"]) <= 160
    assert head["tags"] and head["generated_by"].startswith("amgr offline provider")
    body = post.split("---\n", 2)[2]
    assert len(re.findall(r"^# ", body, re.M)) == 1
    assert len(re.findall(r"^## ", body, re.M)) >= 4
    assert "personal finance for students" in body.lower()
    assert "lorem" not in body.lower()


@pytest.mark.parametrize(
    ("platform", "limit"), [("twitter", 280), ("mastodon", 500), ("linkedin", 3000)]
)
def test_social_posts_fit_the_platform(home: Path, platform: str, limit: int) -> None:
    config = json.loads((home / "config.json").read_text())
    config["platforms"].setdefault(platform, {"kind": "outbox"})
    (home / "config.json").write_text(json.dumps(config))
    record = exec_json(
        home,
        "content_creation",
        "social",
        "topic=morning routines for night owls",
        f"platform={platform}",
    )
    data = json.loads(files_of(record)["posts.json"].read_text())
    parts = data["parts"]
    assert data["limit"] == limit
    assert all(len(p) <= limit for p in parts)
    if len(parts) > 1:
        n = len(parts)
        assert all(p.endswith(f"({i}/{n})") for i, p in enumerate(parts, 1))
    else:
        assert platform == "linkedin"
    md = files_of(record)["posts.md"].read_text()
    assert "generated_by: amgr offline provider" in md
    stored = json.loads((Path(record["result"]["files"][0]).parent / "item.json").read_text())
    assert stored["targets"] == [platform]


def test_social_short_length_is_a_single_post(home: Path) -> None:
    record = exec_json(home, "content_creation", "social", "topic=focus", "length=short")
    data = json.loads(files_of(record)["posts.json"].read_text())
    assert len(data["parts"]) == 1 and not data["thread"]


def test_items_wait_for_review_unless_auto_approve(home: Path) -> None:
    edit_config(home, auto_approve=False)
    record = exec_json(home, "content_creation", "blog", "topic=focus")
    item_json = Path(record["result"]["files"][0]).parent / "item.json"
    item = json.loads(item_json.read_text())
    assert item["status"] == "review"
    assert item["task_id"] == record["task_id"] and item["record_id"] == record["id"]
    assert item["provider"] == "offline"

    edit_config(home, auto_approve=True)  # offline content still waits for a person
    record = exec_json(home, "content_creation", "blog", "topic=focus")
    item = json.loads((Path(record["result"]["files"][0]).parent / "item.json").read_text())
    assert item["status"] == "review"

    edit_config(home, auto_approve=True, auto_approve_offline=True)
    record = exec_json(home, "content_creation", "blog", "topic=focus")
    item = json.loads((Path(record["result"]["files"][0]).parent / "item.json").read_text())
    assert item["status"] == "pending"


def test_json_prints_only_the_record(home: Path) -> None:
    result = run(home, "exec-now", "content_creation", "shorts", "-p", "topic=x", "--json")
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["result"]["content_id"] and record["provider"] == "offline"
    assert record["result"]["summary"]


def test_ebook_makes_markdown_and_epub_and_reports_its_id(home: Path) -> None:
    record = exec_json(
        home,
        "content_creation",
        "ebook",
        "topic=home espresso",
        "chapters=3",
        "author=Ada Lovelace",
    )
    result = record["result"]
    assert result["ebook_id"] == result["content_id"] and result["chapters"] == 3
    files = files_of(record)
    book = files["book.md"].read_text()
    assert front_matter(book)["author"] == "Ada Lovelace"
    assert len(re.findall(r"^## Chapter \d+: ", book, re.M)) == 3
    assert files["book.epub"].read_bytes()[:2] == b"PK"
    assert not (home / ".mp" / "content" / "_work").exists() or not any(
        (home / ".mp" / "content" / "_work").iterdir()
    )


@pytest.mark.parametrize(
    ("param", "fragment"),
    [
        ("chapters=abc", "chapters='abc' is not a whole number from 1 to 30"),
        ("chapters=0", "chapters=0 is not a whole number from 1 to 30"),
        ("chapters=31", "from 1 to 30"),
    ],
)
def test_bad_chapters_fail_with_the_field_and_the_fix(
    home: Path, param: str, fragment: str
) -> None:
    result = run(home, "exec-now", "content_creation", "ebook", "-p", "topic=x", "-p", param)
    assert result.exit_code == 2  # refused at validation: no run, no record
    assert fragment in result.stderr
    assert "-p chapters=" in result.stderr
    assert not list((home / ".mp" / "automation" / "logs").glob("*.jsonl"))


def test_missing_topic_is_a_clear_failure(home: Path) -> None:
    result = run(home, "exec-now", "content_creation", "blog")
    assert result.exit_code == 2  # refused at validation: no run, no record
    assert 'needs a topic — set "topic"' in result.stderr
    assert not list((home / ".mp" / "automation" / "logs").glob("*.jsonl"))


def test_social_limit_field_overrides_the_platform_limit(home: Path) -> None:
    record = exec_json(home, "content_creation", "social", "topic=focus", "limit=100")
    data = json.loads(files_of(record)["posts.json"].read_text())
    assert data["limit"] == 100 and len(data["parts"]) > 2
    assert all(len(p) <= 100 for p in data["parts"])
