"""The daily budget: estimates per type, today's spend from the run log, and the skip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from automation_manager.config.base import validate
from automation_manager.config.models import LLMConfig
from automation_manager.enums import RunStatus
from automation_manager.errors import SkipRun
from automation_manager.home import Home
from automation_manager.llm import calls_model, check_budget, estimate_cost, spent_today
from automation_manager.logs.records import RunRecord, Usage
from automation_manager.logs.writer import append_record

TZ = timezone(timedelta(hours=2))
DAY = datetime(2025, 3, 14, 0, 0, tzinfo=TZ)


def openai_config(**fields: object) -> LLMConfig:
    return validate(LLMConfig, {"provider": "openai", **fields})


def record(at: datetime, usage: Usage | None) -> RunRecord:
    return RunRecord(
        id=f"r{at.timestamp()}",
        timestamp=at,
        task_id="weekly-blog",
        category="content_creation",
        type="blog",
        status=RunStatus.SUCCESS,
        success=True,
        usage=usage,
    )


def test_blog_estimate_is_expected_tokens_times_price() -> None:
    # 1.5k in at $0.15/M + 2.5k out at $0.60/M
    assert estimate_cost(openai_config(), "blog") == pytest.approx(0.001725)


def test_ebook_costs_an_outline_plus_a_call_per_chapter() -> None:
    config = openai_config()
    blog, ebook = estimate_cost(config, "blog"), estimate_cost(config, "ebook")
    assert ebook > 5 * blog
    assert estimate_cost(config, "ebook", chapters=12) > ebook


def test_per_type_model_and_configured_price_are_used() -> None:
    config = openai_config(
        model={"default": "gpt-4o-mini", "blog": "house-model"},
        prices={"house-model": {"input": 10.0, "output": 20.0}},
    )
    assert estimate_cost(config, "blog") == pytest.approx((1500 * 10 + 2500 * 20) / 1e6)


def test_unknown_price_or_non_model_type_costs_nothing() -> None:
    assert estimate_cost(openai_config(model="llama3.1"), "blog") == 0.0
    assert estimate_cost(openai_config(), "sales_report") == 0.0


def test_publishing_and_sales_reports_do_not_call_the_model() -> None:
    assert calls_model("content_creation", "blog")
    assert calls_model("monetization", "affiliate_content")
    assert not calls_model("publishing", "blog")
    assert not calls_model("monetization", "sales_report")


def test_spent_today_sums_usage_and_skips_a_torn_last_line(tmp_path: Path) -> None:
    home = Home(tmp_path)
    append_record(home, record(DAY + timedelta(hours=9), Usage(cost_usd=0.1, calls=1)))
    append_record(home, record(DAY + timedelta(hours=10), None))
    append_record(home, record(DAY + timedelta(hours=11), Usage(cost_usd=0.25, calls=3)))
    append_record(home, record(DAY - timedelta(hours=1), Usage(cost_usd=5.0)))  # yesterday
    path = home.logs_dir / "2025-03-14.jsonl"
    with path.open("a", encoding="utf-8") as f:
        f.write('{"id": "torn", "usage": {"cost_usd": 9')
    assert spent_today(home, DAY) == pytest.approx(0.35)


def test_spent_today_is_zero_without_a_log(tmp_path: Path) -> None:
    assert spent_today(Home(tmp_path), DAY) == 0.0


def test_run_that_would_pass_the_budget_is_skipped_with_the_numbers() -> None:
    config = openai_config(model="gpt-4o", daily_budget_usd=1.0)
    with pytest.raises(SkipRun) as info:
        check_budget(config, "blog", 0.98)
    assert info.value.reason == (
        "daily_budget_usd 1.00 would be exceeded: spent $0.98 today, this run is estimated "
        "at $0.03 (× 1.2 safety) — raise llm.daily_budget_usd or wait until tomorrow"
    )


def test_spent_budget_says_reached() -> None:
    config = openai_config(daily_budget_usd=0.5)
    with pytest.raises(SkipRun, match=r"^daily_budget_usd 0\.50 reached: spent \$0\.50 today"):
        check_budget(config, "blog", 0.5)


def test_run_within_budget_is_admitted() -> None:
    check_budget(openai_config(model="gpt-4o", daily_budget_usd=1.0), "blog", 0.9)


def test_offline_and_unbudgeted_runs_are_never_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    check_budget(LLMConfig(daily_budget_usd=0.0), "ebook", 100.0)
    check_budget(openai_config(daily_budget_usd=None), "ebook", 100.0)
    check_budget(openai_config(daily_budget_usd=0.0), "sales_report", 100.0)


def test_runs_in_flight_count_against_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two model runs admitted together must not pass the budget between them."""
    import json

    from click.testing import CliRunner

    from automation_manager.cli import cli
    from automation_manager.enums import Trigger

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    home = tmp_path / "home"
    assert CliRunner().invoke(cli, ["init", str(home)]).exit_code == 0
    llm = {"provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "gpt-4o-mini"}
    one_blog = estimate_cost(LLMConfig(**llm), "blog")  # type: ignore[arg-type]
    cfg = json.loads((home / "config.json").read_text())
    cfg["llm"] = {**llm, "daily_budget_usd": 1.5 * one_blog, "max_retries": 0}
    (home / "config.json").write_text(json.dumps(cfg))
    # Another run of a model type is in progress (admitted, not yet recorded): it holds
    # its estimate.
    from automation_manager.config import load_workspace
    from automation_manager.engine.admission import Admission

    ws = load_workspace(Home(home))
    Admission(Home(home)).admit(
        ws,
        ws.task("weekly-blog") or ws.tasks[0],
        trigger=Trigger.SCHEDULED,
        params={},
        record_id="r-other",
        now=datetime.now().astimezone(),
    )

    result = CliRunner().invoke(
        cli,
        ["--home", str(home), "exec-now", "content_creation", "blog", "-p", "topic=x", "--json"],
    )

    record = json.loads(result.stdout)
    assert record["status"] == RunStatus.SKIPPED, record
    assert "daily_budget_usd" in record["error"]
