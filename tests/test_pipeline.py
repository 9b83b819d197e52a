"""The content pipeline through the CLI, offline: keywords in, stages, status, publishing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipeline_home import (
    KEYWORDS,
    add_pipeline,
    amgr,
    as_json,
    blog_items,
    items,
    ok,
    run_pipeline,
    runs,
    seed,
    status,
)


def test_import_merges_duplicates_and_reports_bad_csv_lines(home: Path) -> None:
    add_pipeline(home)
    csv = home / "export.csv"
    csv.write_text(
        "Keyword,Volume,Difficulty,Intent\n"
        "Tomato Plants,1200,35,informational\n"
        '"tomato  plant",,,\n'  # a duplicate: case, space and plural
        "best tomato cages,90,x,commercial\n"  # line 4: difficulty is not a number
        "espresso grinder,400\n"  # line 5: too few fields
        '"espresso machine, cheap",300,20,transactional\n'
    )
    result = ok(home, "keywords", "import", "site-plan", str(csv))
    assert "3 read, 2 added, 1 duplicates merged, 2 bad lines skipped" in result.output
    assert f"{csv}:4: 'x' is not a number" in result.output
    assert f"{csv}:5: 2 fields where the header has 4" in result.output
    listed = as_json(home, "keywords", "list", "site-plan")["keywords"]
    assert [(k["keyword"], k["volume"], k["intent"]) for k in listed] == [
        ("Tomato Plants", 1200, "informational"),
        ("espresso machine, cheap", 300, "transactional"),
    ]
    text = home / "more.txt"
    text.write_text("tomato plant\nsourdough starter\n\n# a comment\nsourdough starters\n")
    again = ok(home, "keywords", "import", "site-plan", str(text))
    assert "3 read, 1 added, 2 duplicates merged" in again.output
    add = ok(home, "keywords", "add", "site-plan", "Yoga Mats", "yoga mat")
    assert "2 read, 1 added, 1 duplicates merged" in add.output
    assert len(as_json(home, "keywords", "list", "site-plan")["keywords"]) == 4


def test_a_csv_without_a_keyword_column_is_refused_and_stores_nothing(home: Path) -> None:
    add_pipeline(home)
    csv = home / "bad.csv"
    csv.write_text("term,volume\ntomato,10\n")
    result = amgr(home, "keywords", "import", "site-plan", str(csv))
    assert result.exit_code == 2 and 'name the column "keyword"' in result.output
    assert as_json(home, "keywords", "list", "site-plan")["keywords"] == []
    unknown = amgr(home, "keywords", "list", "nope")
    assert (
        unknown.exit_code == 2 and "not a pipeline task — use one of: site-plan" in unknown.output
    )


def test_pipeline_settings_are_validated_with_did_you_mean(home: Path) -> None:
    add_pipeline(
        home,
        ideas_per_cluster=0,
        stages={
            "content": {"batch_sise": 2, "budget_pct": 80},
            "images": {"budget_pct": 30},
            "tasks": {"budget_pct": 5},
            "imagez": {},
        },
    )
    before = (home / "tasks.json").read_text()
    result = amgr(home, "validate")
    assert result.exit_code == 2
    out = result.output
    assert 'stages.content.batch_sise: unknown key — did you mean "batch_size"?' in out
    assert 'stages.imagez: unknown key — did you mean "images"?' in out
    assert "ideas_per_cluster" in out
    fixed = json.loads(before)
    fixed["content_creation"][-1].update(ideas_per_cluster=2)
    fixed["content_creation"][-1]["stages"] = {
        "content": {"budget_pct": 80},
        "images": {"budget_pct": 30},
        "tasks": {"budget_pct": 5},
    }
    (home / "tasks.json").write_text(json.dumps(fixed))
    out = amgr(home, "validate").output
    assert "stage tasks calls no model and has no budget" in out
    assert "budget_pct add up to 115 %" in out


def test_an_offline_run_takes_keywords_to_illustrated_articles_in_review(home: Path) -> None:
    add_pipeline(home)
    seed(home)
    result = run_pipeline(home)
    assert result.exit_code == 0, result.output
    clusters = items(home, "site-plan", "clusters")
    assert 3 <= len(clusters) <= 6
    by_topic = {c["id"]: c["keywords"] for c in clusters}
    for group in by_topic.values():  # no cluster mixes two of the three topics
        assert len({w for k in group for w in ("tomato", "espresso", "marathon") if w in k}) == 1
    ideas = items(home, "site-plan", "ideas")
    assert len(ideas) == 2 * len(clusters)
    tasks = items(home, "site-plan", "tasks")
    assert len(tasks) == len(ideas) and {t["status"] for t in tasks} == {"review"}
    images = items(home, "site-plan", "images")
    assert len(images) == 2 * len(tasks) and {i["status"] for i in images} == {"done"}
    queue = blog_items(home)
    assert len(queue) == len(tasks) and {i["status"] for i in queue} == {"review"}
    listed = ok(home, "content", "list", "--type", "blog").output
    assert "pipeline / cluster" in listed and "site-plan / " in listed
    one = as_json(home, "content", "show", queue[0]["id"])
    assert one["meta"]["pipeline"] == "site-plan" and one["meta"]["cluster"]
    assert "featured_image" in one["files"]
    [run] = runs(home)
    detail = as_json(home, "runs", "show", run["id"])
    assert detail["status"] == "completed"
    assert detail["initial_snapshot"]["clusters"] == len(KEYWORDS)
    stage1 = detail["stages"]["clusters"]
    assert stage1["keywords_processed"] == len(KEYWORDS)
    assert stage1["clusters_created"] == len(clusters)
    assert stage1["batches_run"] == 1 and stage1["skipped"] is False
    assert {"cost_usd", "time_elapsed_s", "partial"} <= set(stage1)
    assert detail["stages"]["content"]["content_created"] == len(tasks)
    assert detail["stages"]["content"]["total_words"] > 200 * len(tasks)
    assert detail["stages"]["review"]["ready_for_review"] == len(tasks)
    log = ok(home, "runs", "log", run["id"]).output
    assert ok(home, "runs", "log", "-f", run["id"]).output == log  # a finished run: no wait
    assert "[clusters] stage 1 (clusters) started" in log
    assert "[review] stage 7 (review) done" in log
    assert status(home)["pending"] == {s: 0 for s in status(home)["pending"]}


def test_approved_articles_are_published_with_their_featured_image(home: Path) -> None:
    add_pipeline(home, stages={"content": {"max_per_run": 1}})
    seed(home)
    assert run_pipeline(home).exit_code == 0
    [article] = blog_items(home)
    ok(home, "content", "approve", article["id"])
    ok(home, "exec-now", "publishing", "pending")
    published = as_json(home, "content", "show", article["id"])
    assert published["status"] == "published"
    site = home / "site" / "content"
    pages = list(site.glob("*.md"))
    assert len(pages) == 1 and "image:" in pages[0].read_text()
    assert list(site.glob("*.png"))


def test_status_counts_match_a_hand_computed_case(home: Path) -> None:
    add_pipeline(
        home,
        stages={
            "tasks": {"max_per_run": 4},
            "content": {"max_per_run": 3},
            "image_prompts": {"max_per_run": 2},
            "images": {"max_per_run": 3},
            "review": {"max_per_run": 0},
        },
    )
    seed(home)
    ok(home, "keywords", "add", "site-plan", "sourdough starter")  # one more, left new below
    assert run_pipeline(home).exit_code == 0
    clusters = len(items(home, "site-plan", "clusters"))
    # every keyword clustered; 2 ideas per cluster; 4 queued, 3 written, 2 prompted
    # (2 prompts each = 4), 3 images made; one article has both images -> review.
    report = status(home)
    assert report["pending"] == {
        "clusters": 0,
        "ideas": 0,
        "tasks": 2 * clusters - 4,
        "content": 1,
        "image_prompts": 1,
        "images": 1,
        "review": 0,
    }
    assert report["in_review"] == 1
    text = ok(home, "pipeline", "status", "site-plan").output
    assert "4 content" in text and "tasks not written" in text


def test_per_run_limits_leave_the_rest_for_the_next_run(home: Path) -> None:
    later = {n: {"enabled": False} for n in ("ideas", "tasks", "content", "image_prompts")}
    add_pipeline(home, stages={"clusters": {"max_per_run": 7, "batch_size": 4}, **later})
    seed(home)
    assert run_pipeline(home).exit_code == 0
    first_id = runs(home)[0]["id"]
    first = as_json(home, "runs", "show", first_id)["stages"]["clusters"]
    assert first["keywords_processed"] == 7 and first["batches_run"] == 2
    assert status(home)["pending"]["clusters"] == len(KEYWORDS) - 7
    assert "max_per_run reached" in ok(home, "runs", "log", first_id).output
    assert run_pipeline(home).exit_code == 0
    assert status(home)["pending"]["clusters"] == len(KEYWORDS) - 14
    assert len(runs(home)) == 2
    listed = as_json(home, "keywords", "list", "site-plan", "--status", "new")["keywords"]
    assert len(listed) == len(KEYWORDS) - 14


def test_stage_one_below_min_keywords_is_skipped_with_the_reason(home: Path) -> None:
    add_pipeline(home, min_keywords=5)
    seed(home, keywords=["tomato plant care", "espresso grinder"])
    assert run_pipeline(home).exit_code == 0
    [run] = runs(home)
    stage = as_json(home, "runs", "show", run["id"])["stages"]["clusters"]
    assert stage["skipped"] is True
    assert stage["reason"] == "2 keywords waiting, below min_keywords 5"
    assert "skipped: 2 keywords waiting" in ok(home, "runs", "log", run["id"]).output


def test_a_disabled_keyword_keeps_its_cluster_and_a_disabled_cluster_stops(home: Path) -> None:
    add_pipeline(home, stages={"ideas": {"enabled": False}})
    seed(home)
    assert run_pipeline(home).exit_code == 0
    clusters = items(home, "site-plan", "clusters")
    ok(home, "keywords", "disable", "site-plan", KEYWORDS[0])
    assert len(items(home, "site-plan", "clusters")) == len(clusters)
    assert any(KEYWORDS[0] in c["keywords"] for c in items(home, "site-plan", "clusters"))
    target = clusters[0]["id"]
    ok(home, "pipeline", "disable-cluster", "site-plan", str(target))
    assert status(home)["pending"]["ideas"] == len(clusters) - 1
    tasks = home / "tasks.json"
    data = json.loads(tasks.read_text())
    data["content_creation"][-1]["stages"] = {}
    tasks.write_text(json.dumps(data))
    assert run_pipeline(home).exit_code == 0
    made = {i["cluster_id"] for i in items(home, "site-plan", "ideas")}
    assert target not in made and len(made) == len(clusters) - 1


@pytest.mark.parametrize("off", ["image_prompts", "images"])
def test_articles_reach_review_with_an_image_stage_turned_off(home: Path, off: str) -> None:
    add_pipeline(home, ideas_per_cluster=1, stages={off: {"enabled": False}})
    seed(home)
    result = run_pipeline(home)
    assert result.exit_code == 0, result.output
    queue = blog_items(home)
    assert queue and {i["status"] for i in queue} == {"review"}
    assert {t["status"] for t in items(home, "site-plan", "tasks")} == {"review"}


def test_articles_are_about_their_keyword_and_link_their_inline_images(home: Path) -> None:
    add_pipeline(home, ideas_per_cluster=1, images_per_article=1)
    seed(home)
    assert run_pipeline(home).exit_code == 0
    for entry in blog_items(home):
        item = as_json(home, "content", "show", entry["id"])
        text = Path(item["files"]["markdown"]).read_text(encoding="utf-8")
        body = text.split("---\n", 2)[2]
        assert f"# {item['title']}" in body  # the idea's title is the headline
        # the sentences are written around the target keyword, never the headline
        assert item["title"].lower() not in body.split("\n", 3)[-1].lower(), item["title"]
        assert "](inline_image_1.png)" in body  # linked after the heading it illustrates
        heading_at = body.index("\n## ")
        assert body.index("](inline_image_1.png)") > heading_at
