"""The pipeline against the fake OpenAI server: structured output, a refused format, a
429, the × 1.2 estimate refusing with its figures, and budget_pct stopping a stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openai_server import FakeOpenAI, content, rate_limited, refuse_response_format
from pipeline_home import (
    TOPICS,
    add_pipeline,
    as_json,
    blog_items,
    items,
    ok,
    run_pipeline,
    runs,
    seed,
)

from automation_manager.cli import cli

KEY = "sk-pipeline-test-0123456789abcdef"
TASK = "site-plan"


@pytest.fixture
def home(tmp_path: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("AMGR_HOME", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    config = json.loads((tmp_path / "config.json").read_text())
    config["llm"]["base_url"] = server.url
    (tmp_path / "config.json").write_text(json.dumps(config))
    server.usage = (1000, 500)  # $0.00045 a call with gpt-4o-mini
    return tmp_path


def set_budget(home: Path, usd: float) -> None:
    config = json.loads((home / "config.json").read_text())
    config["llm"]["daily_budget_usd"] = usd
    (home / "config.json").write_text(json.dumps(config))


PLAN = {
    "clusters": [
        {"name": name.title(), "intent": "informational", "keywords": kws}
        for name, kws in TOPICS.items()
    ]
}
SMALL = {"content": {"max_per_run": 2}, "images": {"max_per_run": 0}}


def test_stage_one_uses_the_models_structured_clusters(home: Path, server: FakeOpenAI) -> None:
    add_pipeline(home, TASK, stages=SMALL)
    seed(home, TASK)
    server.push(content(json.dumps(PLAN)))
    result = run_pipeline(home)
    assert result.exit_code == 0, result.output
    clusters = items(home, TASK, "clusters")
    assert [c["name"] for c in clusters] == ["Tomato", "Espresso", "Running"]
    assert [c["keywords"] for c in clusters] == list(TOPICS.values())
    first = server.chat_requests()[0]
    assert first.response_format == "json_schema"
    assert "tomato plant care" in json.dumps(first.body)
    detail = as_json(home, "runs", "show", runs(home)[0]["id"])
    assert detail["stages"]["clusters"]["cost_usd"] == pytest.approx(0.00045)
    assert detail["stages"]["content"]["content_created"] == 2
    assert detail["usage"]["cost_usd"] == pytest.approx(0.00045 * len(server.chat_requests()))


def test_a_refused_format_and_a_429_are_survived(home: Path, server: FakeOpenAI) -> None:
    add_pipeline(home, TASK, stages=SMALL)
    seed(home, TASK)
    server.push(refuse_response_format(), rate_limited(0.05), content(json.dumps(PLAN)))
    result = run_pipeline(home)
    assert result.exit_code == 0, result.output
    formats = [r.response_format for r in server.chat_requests()[:3]]
    assert formats[0] == "json_schema" and formats[1] != "json_schema"
    assert [c["name"] for c in items(home, TASK, "clusters")] == ["Tomato", "Espresso", "Running"]


def test_the_estimate_times_1_2_refuses_a_run_with_its_figures(
    home: Path, server: FakeOpenAI
) -> None:
    add_pipeline(home, TASK, max_cost_per_run_usd=0.001)
    seed(home, TASK)
    estimate = as_json(home, "pipeline", "estimate", TASK)
    assert estimate["with_safety_usd"] == pytest.approx(1.2 * estimate["estimate_usd"], abs=1e-6)
    assert estimate["with_safety_usd"] > 0.001 and estimate["enough"] is False
    result = run_pipeline(home)
    assert "× 1.2 =" in result.output and "is above max_cost_per_run_usd $0.0010" in result.output
    assert runs(home) == [] and server.chat_requests() == []
    set_budget(home, 0.005)
    tasks = json.loads((home / "tasks.json").read_text())
    tasks["content_creation"][-1].pop("max_cost_per_run_usd")
    (home / "tasks.json").write_text(json.dumps(tasks))
    daily = run_pipeline(home)
    assert "but today's budget has $0.0050 left (daily_budget_usd $0.0050" in daily.output
    assert runs(home) == [] and server.chat_requests() == []


def test_budget_pct_stops_a_stage_and_marks_it_partial(home: Path, server: FakeOpenAI) -> None:
    add_pipeline(
        home,
        TASK,
        max_cost_per_run_usd=1.0,
        stages={"content": {"budget_pct": 0.1}, "images": {"max_per_run": 0}},
    )
    seed(home, TASK)
    server.push(content(json.dumps(PLAN)))
    assert run_pipeline(home).exit_code == 0
    run_id = runs(home)[0]["id"]
    stage = as_json(home, "runs", "show", run_id)["stages"]["content"]
    # $1.00 × 0.1 % = $0.001: the third article ($0.00135 in all) reaches it
    assert stage["partial"] is True and stage["content_created"] == 3
    assert stage["cost_usd"] == pytest.approx(3 * 0.00045)
    pending = as_json(home, "pipeline", "status", TASK)["pipelines"][0]["pending"]
    assert pending["content"] == len(items(home, TASK, "tasks")) - 3


def test_stage_six_draws_with_the_images_api_and_never_pays_twice(
    home: Path, server: FakeOpenAI
) -> None:
    """Issue 13 stage 6 / issue 14: with ``images.provider: "openai"`` the pipeline's image
    prompts go to the images API; a later run reuses what was bought."""
    from fake_platforms import edit_config

    edit_config(
        home,
        images={"provider": "openai", "model": "gpt-image-1", "base_url": server.url},
        llm={"provider": "offline"},
    )
    add_pipeline(home, ideas_per_cluster=1, images_per_article=0)
    seed(home)
    result = run_pipeline(home)
    assert result.exit_code == 0, result.output
    bought = server.media_requests("images")
    articles = blog_items(home)
    assert bought and len(bought) == len(articles)  # one featured image each
    assert all(r.body and r.body["model"] == "gpt-image-1" for r in bought)
    [run] = runs(home)
    detail = as_json(home, "runs", "show", run["id"])
    assert detail["stages"]["images"]["images_generated"] == len(articles)
    assert detail["stages"]["images"]["cost_usd"] > 0
    record = json.loads(ok(home, "history", "--json").output)["records"][0]
    assert record["usage"]["images"] == len(articles) and record["usage"]["cost_usd"] > 0
    again = run_pipeline(home)  # nothing new to draw: nothing bought
    assert again.exit_code == 0, again.output
    assert len(server.media_requests("images")) == len(bought)
