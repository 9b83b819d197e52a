"""The task-type registry: one value object per (category, type), agreeing with the
tables it replaced, with runners that load only when a run needs them."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.config.base import validate
from automation_manager.config.models import LLMConfig
from automation_manager.enums import Category
from automation_manager.errors import SkipRun
from automation_manager.executors import content_creation, maintenance, monetization, publishing
from automation_manager.llm.budget import (
    Expected,
    calls_model,
    check_budget,
    check_run_budget,
    estimate_cost,
    expected_tokens,
    run_cost,
)
from automation_manager.tasktypes import REGISTRY, TaskType, UnknownTaskType

README = Path(__file__).resolve().parent.parent / "README.md"

# The tables as they stood before the registry (automation_manager 2026-12), copied by
# hand: the registry and the views over it must give exactly these answers.
BEFORE_TASK_TYPES: dict[str, tuple[str, ...]] = {
    "content_creation": ("shorts", "blog", "ebook", "social", "pipeline"),
    "publishing": ("pending", "shorts", "blog", "ebook", "social"),
    "monetization": (
        "affiliate_content",
        "ebook_promotion",
        "bundle_creation",
        "affiliate_program",
        "sales_report",
    ),
    "maintenance": ("archive_logs", "pending_report", "health_check", "actions"),
}
BEFORE_MULTI_STAGE = {
    ("content_creation", "ebook"),
    ("content_creation", "pipeline"),  # issue 13
    ("publishing", "pending"),
}
BEFORE_MODEL_TYPES = {
    "content_creation": {"shorts", "blog", "ebook", "social", "pipeline"},
    "monetization": {
        "affiliate_content",
        "ebook_promotion",
        "bundle_creation",
        "affiliate_program",
    },
}
BEFORE_EXPECTED = {
    "blog": (1_500, 2_500, 1),
    "shorts": (800, 1_200, 1),
    "social": (600, 800, 1),
    "affiliate_content": (1_500, 2_500, 1),
    "ebook_promotion": (800, 1_000, 1),
    "bundle_creation": (800, 800, 1),
    "affiliate_program": (600, 600, 1),
    "pipeline": (2_000, 2_000, 1),  # admission's share; the run estimates its own cost
}
EBOOK_OUTLINE = (800, 1_500)
EBOOK_CHAPTER = (1_500, 3_000)
EBOOK_DEFAULT_CHAPTERS = 8

ALL_PAIRS = [(c, t) for c, types in BEFORE_TASK_TYPES.items() for t in types]


def ebook_tokens(chapters: int) -> tuple[int, int, int]:
    return (
        EBOOK_OUTLINE[0] + EBOOK_CHAPTER[0] * chapters,
        EBOOK_OUTLINE[1] + EBOOK_CHAPTER[1] * chapters,
        1 + chapters,
    )


def triple(expected: Expected | None) -> tuple[int, int, int] | None:
    if expected is None:
        return None
    return expected.prompt_tokens, expected.completion_tokens, expected.calls


def test_the_registry_lists_the_same_types_in_the_same_order() -> None:
    assert {c.value: REGISTRY.names(c) for c in Category} == BEFORE_TASK_TYPES


@pytest.mark.parametrize(("category", "kind"), ALL_PAIRS)
def test_calls_model_and_multi_stage_views_answer_as_before(category: str, kind: str) -> None:
    assert calls_model(category, kind) == (kind in BEFORE_MODEL_TYPES.get(category, set()))
    assert calls_model(Category(category), kind) == calls_model(category, kind)
    assert REGISTRY.get(category, kind).multi_stage == ((category, kind) in BEFORE_MULTI_STAGE)


def test_expected_tokens_view_answers_as_before() -> None:
    for kind, tokens in BEFORE_EXPECTED.items():
        assert triple(expected_tokens(kind)) == tokens
    assert triple(expected_tokens("ebook")) == ebook_tokens(EBOOK_DEFAULT_CHAPTERS)
    assert triple(expected_tokens("ebook", chapters=12)) == ebook_tokens(12)
    assert triple(expected_tokens("ebook", chapters=0)) == ebook_tokens(EBOOK_DEFAULT_CHAPTERS)
    for kind in ("sales_report", "pending", "archive_logs", "health_check", "nonsense"):
        assert expected_tokens(kind) is None


# -- the registry itself ----------------------------------------------------------------


def test_registry_holds_every_type_once_and_nothing_else() -> None:
    assert [t.key for t in REGISTRY] == ALL_PAIRS
    assert len(REGISTRY) == len(ALL_PAIRS)
    for category, names in BEFORE_TASK_TYPES.items():
        assert REGISTRY.names(category) == names
        assert all(t.category is Category(category) for t in REGISTRY.types(category))
    assert ("content_creation", "ebook") in REGISTRY
    assert ("publishing", "podcast") not in REGISTRY


@pytest.mark.parametrize(("category", "kind"), ALL_PAIRS)
def test_each_type_answers_as_the_old_tables_did(category: str, kind: str) -> None:
    found = REGISTRY.get(category, kind)
    assert found is REGISTRY.get(Category(category), kind)
    assert found.calls_model == (kind in BEFORE_MODEL_TYPES.get(category, set()))
    assert found.multi_stage == ((category, kind) in BEFORE_MULTI_STAGE)
    tokens = triple(found.expected_tokens())
    if kind == "ebook" and category == "content_creation":
        assert tokens == ebook_tokens(EBOOK_DEFAULT_CHAPTERS)
        assert triple(found.expected_tokens({"chapters": 3})) == ebook_tokens(3)
    elif found.calls_model:
        assert tokens == BEFORE_EXPECTED[kind]
        assert triple(found.expected_tokens({"chapters": 3})) == tokens  # only ebooks count
    else:
        assert tokens is None


def test_an_ebook_estimate_never_goes_below_the_default_on_a_bad_chapter_count() -> None:
    ebook = REGISTRY.get("content_creation", "ebook")
    default = ebook_tokens(EBOOK_DEFAULT_CHAPTERS)
    for bad in (0, -3, True, "12", 2.5, None, [4]):
        assert triple(ebook.expected_tokens({"chapters": bad})) == default, bad


def test_run_cost_is_the_registry_estimate_times_the_price() -> None:
    config = validate(
        LLMConfig, {"provider": "openai", "prices": {"gpt-4o-mini": {"input": 10, "output": 20}}}
    )
    ebook = REGISTRY.get("content_creation", "ebook")
    four = (800 + 1500 * 4) * 10 + (1500 + 3000 * 4) * 20
    assert run_cost(config, ebook, {"chapters": 4}) == pytest.approx(four / 1e6)
    assert estimate_cost(config, "ebook", chapters=4) == run_cost(config, ebook, {"chapters": 4})
    assert run_cost(config, REGISTRY.get("publishing", "ebook"), {"chapters": 4}) == 0.0
    assert run_cost(config, REGISTRY.get("monetization", "sales_report")) == 0.0


def test_the_budget_gate_estimates_an_ebook_by_its_chapters() -> None:
    config = validate(LLMConfig, {"provider": "openai", "daily_budget_usd": 0.05})
    ebook = REGISTRY.get("content_creation", "ebook")
    assert 1.2 * run_cost(config, ebook, {"chapters": 1}) < 0.05
    assert 1.2 * run_cost(config, ebook, {"chapters": 30}) > 0.05
    check_run_budget(config, ebook, {"chapters": 1}, 0.0)
    with pytest.raises(SkipRun, match=r"daily_budget_usd 0\.05 would be exceeded"):
        check_run_budget(config, ebook, {"chapters": 30}, 0.0)
    with pytest.raises(SkipRun, match=r"daily_budget_usd 0\.05 would be exceeded"):
        check_budget(config, "ebook", 0.0, chapters=30)
    check_run_budget(config, REGISTRY.get("publishing", "ebook"), {"chapters": 30}, 0.0)


def test_quota_flags_say_which_runs_count_toward_the_daily_limits() -> None:
    content = {t.key for t in REGISTRY if t.content_quota}
    assert content == {("content_creation", n) for n in BEFORE_TASK_TYPES["content_creation"]}
    assert [t.key for t in REGISTRY if t.ebook_quota] == [("content_creation", "ebook")]


def test_required_fields_are_documented_and_named() -> None:
    for kind in REGISTRY:
        assert set(kind.required) <= set(kind.fields), kind.key
        for name, doc in kind.fields.items():
            assert re.fullmatch(r"[a-z_]+", name) and doc.strip() and "\n" not in doc
        assert kind.summary.strip()
    for name in ("shorts", "blog", "ebook", "social"):
        assert REGISTRY.get("content_creation", name).required == ("topic",)
        # issue 11 point 3: without a platform, every platform accepting the kind
        assert REGISTRY.get("publishing", name).required == ()
        assert "platform" in REGISTRY.get("publishing", name).fields
    assert REGISTRY.get("monetization", "affiliate_content").required == ("topic",)
    assert REGISTRY.get("publishing", "pending").required == ()
    assert "chapters" in REGISTRY.get("content_creation", "ebook").fields


@pytest.mark.parametrize("kind", [t for t in REGISTRY if t.required], ids=lambda t: " ".join(t.key))
def test_a_run_without_a_required_field_fails_naming_it(home: Path, kind: TaskType) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home), "exec-now", *kind.key])
    if kind.category is Category.PUBLISHING and "no configured platform" in result.output:
        # the default home has no platform that takes this kind: refused at validation
        assert result.exit_code == 2, result.output
        assert f'accepts "{kind.name}"' in result.output
    elif kind.category is Category.PUBLISHING:  # platform may be left out: run time
        assert result.exit_code == 1, result.output
        assert f"failed: {kind.category} {kind.name}" in result.output
        assert all(f'"{name}"' in result.output for name in kind.required), result.output
    else:  # refused at validation (exit 2), before any record
        assert result.exit_code == 2, result.output
        assert "needs a" in result.output
        assert all(f'"{name}"' in result.output for name in kind.required), result.output
        assert not list((home / ".mp" / "automation" / "logs").glob("*.jsonl"))


def readme_fields() -> dict[str, set[str]]:
    """type name (``publishing X`` for publishing) → the fields README "Fields by type" lists."""
    text = README.read_text(encoding="utf-8")
    table = text.split("### Fields by type", 1)[1].split("\n\n", 2)[1]
    out: dict[str, set[str]] = {}
    for line in table.splitlines()[2:]:
        kinds, fields = (cell.strip() for cell in line.strip("|").split("|"))
        while "(" in fields:  # drop "(...)" groups: they hold values, not field names
            fields = re.sub(r"\([^()]*\)", "", fields)
        names = set(re.findall(r"`([a-z_]+)`", fields.split(":")[0]))
        if kinds.startswith("publishing"):
            keys = [f"publishing {k}" for k in re.findall(r"`([a-z_]+)`", kinds)]
        else:
            keys = [k.strip() for k in kinds.split(",")]
        for key in keys:
            out[key] = names
    return out


def test_every_field_the_readme_documents_is_in_the_registry() -> None:
    documented = readme_fields()
    # maintenance fields live in its docstring (actions: in the README's table too)
    assert len(documented) == len(REGISTRY) - 3
    for key, names in documented.items():
        category, _, name = key.rpartition(" ")
        kind = (
            REGISTRY.get("publishing", name)
            if category
            else next(t for t in REGISTRY if t.name == name and t.category != "publishing")
        )
        assert names and names <= set(kind.fields), (key, names - set(kind.fields))


PACKAGE = Path(__file__).resolve().parent.parent / "automation_manager"
READS = re.compile(
    r'(?:_param\((?:brief\.|ctx\.)?params|_number\(ctx|params\.get\()\s*,?\s*"(\w+)"'
)


def fields_read(*paths: Path) -> set[str]:
    return {name for path in paths for name in READS.findall(path.read_text(encoding="utf-8"))}


def test_every_field_a_runner_reads_is_documented_for_its_category() -> None:
    def documented(*categories: str) -> set[str]:
        return {f for c in categories for t in REGISTRY.types(c) for f in t.fields}

    executors = PACKAGE / "executors"
    writers = [*(PACKAGE / "content").rglob("*.py"), executors / "content_creation.py"]
    writers.append(executors / "monetization.py")
    seen = {
        "writers": fields_read(*writers),
        "publishing": fields_read(executors / "publishing.py"),
        "maintenance": fields_read(executors / "maintenance.py"),
    }
    assert {"chapters", "topic", "period"} <= seen["writers"]  # the pattern finds reads
    assert "max_items" in seen["publishing"] and "min_free_mb" in seen["maintenance"]
    assert seen["writers"] <= documented("content_creation", "monetization")
    assert seen["publishing"] <= documented("publishing")
    assert seen["maintenance"] <= documented("maintenance")


def test_a_task_type_is_a_frozen_value() -> None:
    blog = REGISTRY.get("content_creation", "blog")
    with pytest.raises(dataclasses.FrozenInstanceError):
        blog.multi_stage = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        blog.fields["slug"] = "changed"  # type: ignore[index]
    same = dataclasses.replace(blog, summary="another line")
    assert same == blog and hash(same) == hash(blog)


def test_an_unknown_type_or_category_names_the_choices() -> None:
    with pytest.raises(
        UnknownTaskType,
        match="content_creation has no type 'podcast': use one of shorts, blog, ebook, social",
    ):
        REGISTRY.get(Category.CONTENT_CREATION, "podcast")
    with pytest.raises(UnknownTaskType, match="no category 'marketing': use one of content_"):
        REGISTRY.get("marketing", "blog")
    assert REGISTRY.find("marketing", "blog") is None and REGISTRY.types("marketing") == ()


def test_a_registry_refuses_a_type_twice() -> None:
    from automation_manager.tasktypes import Registry

    blog = REGISTRY.get("content_creation", "blog")
    with pytest.raises(ValueError, match="registered twice"):
        Registry((blog, blog))
    with pytest.raises(ValueError, match="not documented"):
        dataclasses.replace(blog, required=("nope",))


# -- runners ---------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "kind"), ALL_PAIRS)
def test_each_runner_loads_and_is_its_executors_own(category: str, kind: str) -> None:
    runner = REGISTRY.get(category, kind).load_runner()
    tables = {
        "content_creation": content_creation.RUNNERS,
        "monetization": monetization.RUNNERS,
        "maintenance": maintenance.RUNNERS,
    }
    expected = publishing.run if category == "publishing" else tables[category][kind]
    assert runner is expected and callable(runner)


def test_executor_tables_have_exactly_the_registry_types() -> None:
    assert tuple(content_creation.RUNNERS) == REGISTRY.names("content_creation")
    assert tuple(monetization.RUNNERS) == REGISTRY.names("monetization")
    assert tuple(maintenance.RUNNERS) == REGISTRY.names("maintenance")


PROBE = """
import json, runpy, sys
sys.argv = ['amgr', *sys.argv[1:]]
try:
    runpy.run_module('automation_manager', run_name='__main__')
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.startswith('automation_manager.executors.'))
sys.stderr.write('\\nLOADED ' + json.dumps(loaded) + '\\n')
"""


def loaded_executors(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    line = done.stderr.rsplit("LOADED ", 1)[1]
    return list(json.loads(line))


def test_help_imports_no_executor_and_status_and_history_no_category_executor(
    home: Path,
) -> None:
    assert loaded_executors("--help") == []
    categories = {f"automation_manager.executors.{c.value}" for c in Category}
    for command in ("status", "history"):
        loaded = loaded_executors("--home", str(home), command)
        assert not categories & set(loaded), (command, loaded)
    ran = loaded_executors("--home", str(home), "exec-now", "maintenance", "pending_report")
    assert "automation_manager.executors.maintenance" in ran  # the probe can see an import
    assert "automation_manager.executors.content_creation" not in ran
