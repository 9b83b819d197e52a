"""Content worth publishing: offline labels, rotation, no near-duplicates, readable
templates over a 30-topic corpus, model output checked against the request, metadata."""

from __future__ import annotations

import itertools
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import (
    FakeWordPress,
    add_item,
    amgr,
    edit_config,
    exec_json,
    item_json,
    run,
    wordpress_config,
    write_home,
)
from openai_server import FakeOpenAI, blog_json, content, outline_json, shorts_json, social_json

from automation_manager.content.similar import THRESHOLD, Print

TOPICS = [
    line.strip()
    for line in (Path(__file__).parent / "data" / "topics.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
LD_JSON = re.compile(r'<script type="application/ld\+json">.*?</script>', re.S)
BAD = [
    re.compile(p, re.I)
    for p in (
        r"\btips habits\b",
        r"\bneeds the night before\b",
        r"\bdoesn't need more motivation\b",
        r"\bguide to (how|what|should|can) ",
        r"\babout (should|can|is|do) ",
    )
]
RUNNERS: dict[str, tuple[str, ...]] = {
    "blog": ("faq=true",),
    "shorts": (),
    "social": (),
}


@pytest.fixture(autouse=True)
def no_quota(request: pytest.FixtureRequest) -> None:
    """Corpus runs make hundreds of items: lift the daily quotas of the ``home`` fixture."""
    if "home" in request.fixturenames:
        home = request.getfixturevalue("home")
        edit_config(home, max_daily_content=100_000, max_daily_ebooks=1_000)


@pytest.fixture
def model(home: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``home`` using the fake OpenAI server as its model."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-quality")
    config = json.loads((home / "config.json").read_text())
    config["llm"] = {**config.get("llm", {}), "provider": "openai", "base_url": server.url}
    (home / "config.json").write_text(json.dumps(config))
    return home


def files_of(record: dict[str, Any]) -> dict[str, Path]:
    return {Path(f).name: Path(f) for f in record["result"]["files"]}


def front(text: str) -> dict[str, Any]:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, "no front matter"
    out: dict[str, Any] = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(": ")
        out[key] = json.loads(value)
    return out


def texts_of(path: Path) -> list[str]:
    """Every text a person reads in an artifact (JSON: its string values)."""
    if path.suffix == ".epub":
        with zipfile.ZipFile(path) as z:
            return [z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml")]
    raw = path.read_text(encoding="utf-8")
    if path.suffix != ".json":
        return [LD_JSON.sub("", raw)]
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(json.loads(raw))
    return found


def assert_readable(paths: list[Path], topic: str) -> None:
    for path in paths:
        for text in texts_of(path):
            assert not PLACEHOLDER.search(text), f"{path.name}: {PLACEHOLDER.search(text)}"
            for bad in BAD:
                assert not bad.search(text), f"{path.name} ({topic}): {bad.pattern}"
            if not topic:
                continue
            # the topic as the subject of a verb, or in front of another noun
            t = re.escape(topic.rstrip("?"))
            subject = rf"(^|[.!?:]\s+|\bif\s+){t}\s+(is|are|needs|keeps|sounds|doesn't)\b"
            modifier = rf"\b{t}\s+(tips|habits|advice|session|idea|ideas)\b"
            for pattern in (subject, modifier):
                found = re.search(pattern, text, re.I | re.M)
                assert not found, f"{path.name}: {found.group(0)!r}"


# -- 1. offline is never mistaken for a model ---------------------------------------------


def test_offline_items_wait_in_review_and_content_list_shows_the_provider(home: Path) -> None:
    record = exec_json(home, "content_creation", "blog", "topic=focus")
    assert record["result"]["status"] == "review"  # auto_approve is on in a fresh home
    listing = amgr(home, "content", "list")
    assert "provider" in listing.output and "offline" in listing.output
    published = exec_json(home, "publishing", "pending")["result"]
    assert not published.get("published")

    edit_config(home, auto_approve_offline=True)
    assert exec_json(home, "content_creation", "blog", "topic=focus")["result"]["status"] == (
        "pending"
    )


@pytest.mark.usefixtures("wp_password")
def test_a_published_offline_item_carries_its_label_everywhere(
    tmp_path: Path, wp: FakeWordPress
) -> None:
    platforms = {
        "site": {"kind": "filesystem", "path": "site", "accepts": ["blog", "shorts"]},
        "blog": wordpress_config(wp.url),
        "youtube": {"kind": "outbox", "accepts": ["shorts"]},
    }
    home = write_home(tmp_path / "h", platforms, auto_approve=True, auto_approve_offline=True)
    blog = exec_json(home, "content_creation", "blog", "topic=cold showers")["result"]
    shorts = exec_json(home, "content_creation", "shorts", "topic=cold showers")["result"]
    assert exec_json(home, "publishing", "pending")["status"] == "success"

    pages = [front(p.read_text()) for p in (home / "site").glob("*.md")]
    [head] = [h for h in pages if h["amgr_id"] == blog["content_id"]]
    assert head["generated_by"].startswith("amgr offline provider") and head["draft"] is True

    box = home / ".mp" / "outbox" / "youtube" / shorts["content_id"]
    text = (box / "post.txt").read_text()
    assert text.startswith("[Offline draft: amgr offline provider")
    script = json.loads(next(box.glob("shorts.json")).read_text())
    assert script["title"] in text and script["description"] in text
    assert all(tag in text for tag in script["hashtags"][:3])
    assert json.loads((box / "ready.json").read_text())["offline"] is True

    [post] = wp.posts
    assert "<!-- generated_by: amgr offline provider" in post["content"]["raw"]
    tag_names = {t["id"]: t["name"] for t in wp.terms["tags"]}
    assert "offline-draft" in {tag_names[i] for i in post["tags"]}
    assert item_json(home, blog["content_id"])["status"] == "published"


def test_the_epub_names_author_publisher_language_and_generator(home: Path) -> None:
    edit_config(home, author="Ada Writer", publisher="Small Press", language="de")
    record = exec_json(home, "content_creation", "ebook", "topic=focus", "chapters=2")
    epub = files_of(record)["book.epub"]
    with zipfile.ZipFile(epub) as z:
        opf = next(z.read(n).decode() for n in z.namelist() if n.endswith(".opf"))
    assert "Ada Writer" in opf and "Small Press" in opf and "Anonymous" not in opf
    assert "<dc:language>de</dc:language>" in opf
    assert re.search(r'<meta name="generator" content="Generated by amgr offline', opf)


# -- 2. never the same post twice -----------------------------------------------------------


def test_topics_rotate_in_order_and_the_position_survives_a_restart(home: Path) -> None:
    tasks = {
        "content_creation": [
            {"id": "series", "type": "social", "topics": ["sleep", "focus", "journaling"]}
        ]
    }
    (home / "tasks.json").write_text(json.dumps(tasks))
    seen = []
    for _ in range(4):  # each exec-now is a fresh process view: the state file carries on
        result = run(home, "exec-now", "content_creation", "social", "--task", "series", "--json")
        assert result.exit_code == 0, result.output
        seen.append(json.loads(result.stdout)["result"]["title"])
    assert [t for t in seen[:3]] and "sleep" in seen[0].lower()
    assert "focus" in seen[1].lower() and "journaling" in seen[2].lower()
    assert "sleep" in seen[3].lower()
    state = json.loads((home / ".mp" / "state" / "rotation" / "series.json").read_text())
    assert state["topic_position"] == 4


def test_a_topic_file_gives_the_topics(home: Path) -> None:
    (home / "ideas.txt").write_text("# ideas\n\nhouseplants\nminimalism\n")
    tasks = {"content_creation": [{"id": "f", "type": "blog", "topic_file": "ideas.txt"}]}
    (home / "tasks.json").write_text(json.dumps(tasks))
    topics = []
    for _ in range(2):
        result = run(home, "exec-now", "content_creation", "blog", "--task", "f", "--json")
        topics.append(item_json(home, json.loads(result.stdout)["result"]["content_id"])["topic"])
    assert topics == ["houseplants", "minimalism"]


def test_ten_runs_of_one_task_make_ten_different_posts(home: Path) -> None:
    records = [
        exec_json(home, "content_creation", "blog", "topic=batch cooking") for _ in range(10)
    ]
    prints = []
    for record in records:
        path = files_of(record)["post.md"]
        prints.append(Print.of(record["result"]["title"], path.read_text()))
    assert len({p.title for p in prints}) == 10
    worst = max(a.score(b) for a, b in itertools.combinations(prints, 2))
    assert worst < THRESHOLD, worst
    angles = {item_json(home, r["result"]["content_id"])["meta"]["angle"] for r in records}
    assert len(angles) == 10


def test_a_model_that_keeps_repeating_itself_is_skipped(model: Path, server: FakeOpenAI) -> None:
    home = model
    same = blog_json(1200, seed="always the same")
    server.push(*(content(same) for _ in range(4)))
    first = exec_json(home, "content_creation", "blog", "topic=focus")
    result = run(home, "exec-now", "content_creation", "blog", "-p", "topic=focus", "--json")
    record = json.loads(result.stdout)
    assert record["status"] == "skipped"
    assert f"would repeat {first['result']['content_id']}" in record["error"]
    prompts = [r.body["messages"][-1]["content"] for r in server.chat_requests()[1:]]
    assert all(first["result"]["title"] in p for p in prompts)  # the model is told to avoid it
    angles = [re.search(r"Angle: (.*)", p).group(1) for p in prompts]  # type: ignore[union-attr]
    assert len(set(angles)) == 3


def test_publishing_never_sends_a_near_duplicate_of_a_published_item(tmp_path: Path) -> None:
    home = write_home(tmp_path / "h", {"site": {"kind": "filesystem", "path": "site"}})
    body = "---\ntitle: x\n---\n\n" + " ".join(f"word{i % 40} step{i}" for i in range(120))
    first = add_item(home, title="Focus guide", files={"markdown": ("post.md", body)})
    assert exec_json(home, "publishing", "pending")["status"] == "success"
    again = add_item(home, title="Focus guide!", files={"markdown": ("post.md", body + " more")})
    result = run(home, "exec-now", "publishing", "pending", "--json")
    assert json.loads(result.stdout)["status"] == "failed"
    assert item_json(home, again)["status"] == "failed"
    assert f"near-duplicate of {first}" in item_json(home, again)["errors"]["site"]
    assert len(list((home / "site").glob("*.md"))) == 1


# -- 3. offline drafts that read well, over a 30-topic corpus ------------------------------


@pytest.mark.parametrize("kind", sorted(RUNNERS))
def test_every_type_reads_well_for_thirty_topics(home: Path, kind: str) -> None:
    for topic in TOPICS:
        record = exec_json(home, "content_creation", kind, f"topic={topic}", *RUNNERS[kind])
        paths = list(files_of(record).values())
        assert_readable(paths, topic)
        if kind == "blog":
            post = paths[0].read_text()
            head = front(post)
            assert len(head["seo_title"]) <= 60 and len(head["description"]) <= 155
            headings = re.findall(r"^##+ (.+)$", post, re.M)
            listed = re.split(r", in \d+ parts: ", head["description"], maxsplit=1)[1]
            promised = listed.rstrip(".").split("; ")
            for part in promised:
                if part != "and more" and part != "answers to common questions":
                    assert any(h.startswith(part) for h in headings), (part, headings)
            ld = json.loads(LD_JSON.search(post).group(0).split(">", 1)[1][: -len("</script>")])  # type: ignore[union-attr]
            assert ld["@type"] == "FAQPage" and len(ld["mainEntity"]) >= 3
        if kind == "shorts":
            data = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
            assert len(data["title"]) <= 100 and data["description"] and data["hashtags"]


def test_a_thirty_chapter_ebook_never_repeats_an_element(home: Path) -> None:
    record = exec_json(home, "content_creation", "ebook", "topic=cold showers", "chapters=30")
    paths = list(files_of(record).values())
    assert_readable(paths, "cold showers")
    book = files_of(record)["book.md"].read_text()
    chapters = re.findall(r"^## Chapter \d+: (.+)$", book, re.M)
    assert len(chapters) == 30 and len(set(chapters)) == 30
    body = book.split("## Chapter 1:", 1)[1]
    lines = [
        ln.strip()
        for ln in body.splitlines()
        if ln.strip() and not ln.startswith("#") and len(ln.split()) >= 4
    ]
    repeated = {ln for ln in lines if lines.count(ln) > 1}
    assert not repeated, sorted(repeated)[:5]
    steps = re.findall(r"^\d+\. (.+)$", body, re.M)
    assert len(steps) == len(set(steps)) >= 90


def test_ebooks_over_the_corpus_and_monetization_copy_have_no_placeholders(home: Path) -> None:
    edit_config(
        home,
        affiliate_links=[{"name": "Notion", "url": "https://example.com/notion?ref=me"}],
        affiliate_disclosure="I earn a small commission from links here.",
    )
    ids = []
    for topic in TOPICS[:10]:
        record = exec_json(home, "content_creation", "ebook", f"topic={topic}", "chapters=3")
        assert_readable(list(files_of(record).values()), topic)
        ids.append(record["result"]["ebook_id"])
    # the same book from another task: a bundle must list it once
    task = {"id": "other-books", "type": "ebook", "topic": "focus", "chapters": 3}
    (home / "tasks.json").write_text(json.dumps({"content_creation": [task]}))
    again = run(home, "exec-now", "content_creation", "ebook", "--task", "other-books", "--json")
    ids.append(json.loads(again.stdout)["result"]["ebook_id"])
    failed = run(home, "exec-now", "monetization", "ebook_promotion", "--json")
    assert "product_links" in json.loads(failed.stdout)["error"] and "Focus" in failed.stdout
    edit_config(home, product_links={i: f"https://shop.example/{i}" for i in ids})
    promo = exec_json(home, "monetization", "ebook_promotion")["result"]
    for path in map(Path, promo["files"]):
        assert_readable([path], "")
        if path.suffix == ".md":
            assert "https://shop.example/" in path.read_text()
    bundle = exec_json(home, "monetization", "bundle_creation")["result"]
    text = next(Path(f) for f in bundle["files"] if f.endswith(".md")).read_text()
    included = re.findall(r"^- (.+) \(`", text.split("## Included ebooks", 1)[1], re.M)
    assert len(included) == len(set(included))  # "Focus, Made Simple" made twice: listed once
    article = exec_json(home, "monetization", "affiliate_content", "topic=Notion")["result"]
    md = next(Path(f) for f in article["files"] if f.endswith(".md")).read_text()
    assert md.count("I earn a small commission from links here.") == 2
    assert_readable([Path(f) for f in article["files"]], "Notion")


# -- 4. model output is checked against the request ----------------------------------------


def test_an_ebook_of_one_chapter_when_six_were_asked_fails(model: Path, server: FakeOpenAI) -> None:
    home = model
    server.push(content(outline_json(1)), content(outline_json(1)))
    result = run(
        home,
        "exec-now",
        "content_creation",
        "ebook",
        "-p",
        "topic=focus",
        "-p",
        "chapters=6",
        "--json",
    )
    record = json.loads(result.stdout)
    assert record["status"] == "failed"
    assert "asked for 6 chapters, got 1 chapter" in record["error"]
    second = server.chat_requests()[1].body["messages"][-1]["content"]
    assert "did not meet the request" in second and "6 chapters" in second


def test_a_short_chapter_is_asked_again_once(model: Path, server: FakeOpenAI) -> None:
    home = model
    server.push(content(outline_json(2)), content("Only eight words in this chapter, sorry."))
    record = exec_json(home, "content_creation", "ebook", "topic=focus", "chapters=2")
    assert record["result"]["chapters"] == 2
    reasks = [r for r in server.chat_requests() if "did not meet" in json.dumps(r.body)]
    assert len(reasks) == 1 and "7 words" in json.dumps(reasks[0].body)


def test_too_short_a_blog_fails_with_what_was_asked(model: Path, server: FakeOpenAI) -> None:
    home = model
    server.push(content(blog_json(80)), content(blog_json(90, seed="b")))
    result = run(home, "exec-now", "content_creation", "blog", "-p", "topic=focus", "--json")
    record = json.loads(result.stdout)
    assert record["status"] == "failed"
    assert "an article of about 1200 words (720-1920)" in record["error"]
    assert not list((home / ".mp" / "content").glob("blog-*"))


def test_too_long_a_social_post_fails(model: Path, server: FakeOpenAI) -> None:
    home = model
    server.push(content(social_json(400)), content(social_json(400)))
    result = run(home, "exec-now", "content_creation", "social", "-p", "topic=focus", "--json")
    record = json.loads(result.stdout)
    assert record["status"] == "failed"
    assert "posts of at most 280 characters, got a post of 400 characters" in record["error"]


def test_too_long_a_shorts_script_is_asked_again_then_accepted(
    model: Path, server: FakeOpenAI
) -> None:
    home = model
    server.push(content(shorts_json(400, seed="long")))  # then the fitting default answer
    record = exec_json(home, "content_creation", "shorts", "topic=focus", "length=45")
    assert record["status"] == "success"
    reask = server.chat_requests()[1].body["messages"][-1]["content"]
    assert "a 45-second script (58-152 spoken words" in reask and "396 spoken words" in reask


# -- validation ---------------------------------------------------------------------------


def test_topics_replace_topic_and_bad_topics_are_refused(home: Path) -> None:
    bad = {"content_creation": [{"id": "b", "type": "blog", "topics": [1, ""]}]}
    (home / "tasks.json").write_text(json.dumps(bad))
    result = run(home, "validate")
    assert result.exit_code == 2 and "topics[0]" in result.output
    good = {"content_creation": [{"id": "g", "type": "blog", "topics": ["sleep", "focus"]}]}
    (home / "tasks.json").write_text(json.dumps(good))
    assert run(home, "status").exit_code == 0  # no "topic" needed with "topics"
    bad_angle = run(home, "exec-now", "content_creation", "blog", "-p", "topic=x", "-p", "angle=zz")
    assert "is not an angle" in bad_angle.output


def test_a_streamed_ebook_reports_title_words_and_eta(model: Path, server: FakeOpenAI) -> None:
    from automation_manager.manager import AutomationManager

    mgr = AutomationManager(model)
    spec = mgr.resolve_task("content_creation", {"type": "ebook", "topic": "focus", "chapters": 2})
    seen: list[tuple[str, int, int]] = []
    record = mgr.run(spec, progress=lambda label, done, total: seen.append((label, done, total)))
    assert record.status.value == "success", record.error
    streamed = [s for s in seen if "ETA" in s[0]]
    assert streamed and "chapter 1/2: Part 1" in streamed[0][0]
    assert streamed[-1][2] == 2 * 1200 and streamed[-1][1] > streamed[0][1]
    assert any(r.body.get("stream") for r in server.chat_requests())
