"""The settings of a ``pipeline`` task (``content_creation``), validated like every field.

A pipeline task carries the reference's settings: per stage ``enabled``, ``batch_size``,
``max_per_run`` (0 = unlimited), ``budget_pct`` (model stages only, summing to ≤ 100) and
``concurrency`` (stage 4: articles written at once); and ``ideas_per_cluster``,
``images_per_article``, ``min_keywords``, the delays, ``auto_approve`` and
``max_cost_per_run_usd``. :func:`pipeline_problems` names every bad value as
``FILE: field: what — fix``; :func:`settings_of` gives the typed settings to the runner.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

import annotated_types as at

from ..errors import Problem
from .base import Model, Pattern, validate

STAGES: tuple[str, ...] = (
    "clusters",
    "ideas",
    "tasks",
    "content",
    "image_prompts",
    "images",
    "review",
)
"""The seven stages, in order (stage 1 is ``clusters``)."""

MODEL_STAGES = frozenset({"clusters", "ideas", "content", "image_prompts", "images"})
"""Stages that may call a model, and so may take a ``budget_pct``."""

DEFAULT_BATCH: dict[str, int] = {
    "clusters": 200,
    "ideas": 5,
    "tasks": 20,
    "content": 1,
    "image_prompts": 5,
    "images": 5,
    "review": 20,
}

MAX_BATCH = 5_000
MAX_PER_RUN = 1_000_000


@dataclass(kw_only=True)
class StageSettings(Model):
    """One stage: whether it runs, how many items per batch and per run, its budget share."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    enabled: bool = True
    batch_size: Annotated[int, at.Ge(1), at.Le(MAX_BATCH)] | None = None
    max_per_run: Annotated[int, at.Ge(0), at.Le(MAX_PER_RUN)] = 0
    budget_pct: Annotated[float, at.Ge(0), at.Le(100)] | None = None
    concurrency: Annotated[int, at.Ge(1), at.Le(32)] = 1


@dataclass(kw_only=True)
class StagesSettings(Model):
    """``stages``: one entry per stage name; a missing stage takes the defaults."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    clusters: StageSettings = field(default_factory=StageSettings)
    ideas: StageSettings = field(default_factory=StageSettings)
    tasks: StageSettings = field(default_factory=StageSettings)
    content: StageSettings = field(default_factory=StageSettings)
    image_prompts: StageSettings = field(default_factory=StageSettings)
    images: StageSettings = field(default_factory=StageSettings)
    review: StageSettings = field(default_factory=StageSettings)


@dataclass(kw_only=True)
class PipelineSettings(Model):
    """Every pipeline-specific field of the task."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "ignore"}

    stages: StagesSettings = field(default_factory=StagesSettings)
    ideas_per_cluster: Annotated[int, at.Ge(1), at.Le(20)] = 3
    images_per_article: Annotated[int, at.Ge(0), at.Le(10)] = 2
    min_keywords: Annotated[int, at.Ge(1), at.Le(10_000)] = 5
    within_stage_delay_s: Annotated[float, at.Ge(0), at.Le(3600)] = 0
    between_stage_delay_s: Annotated[float, at.Ge(0), at.Le(3600)] = 0
    auto_approve: bool = False
    max_cost_per_run_usd: Annotated[float, at.Gt(0), at.Le(100_000)] | None = None
    words_per_article: Annotated[int, at.Ge(200), at.Le(6000)] = 1200
    image_size: Annotated[str, Pattern(r"^\d{2,4}x\d{2,4}$")] = "1200x630"

    def stage(self, name: str) -> StageSettings:
        """The settings of stage ``name``."""
        found: StageSettings = getattr(self.stages, name)
        return found

    def batch_size(self, name: str) -> int:
        return self.stage(name).batch_size or DEFAULT_BATCH[name]


_STAGE_KEYS = tuple(f.name for f in dataclasses.fields(StageSettings))


def settings_of(params: dict[str, Any]) -> PipelineSettings:
    """The typed settings of a task whose fields are ``params`` (already validated)."""
    return validate(PipelineSettings, params)


def pipeline_problems(file: str, where: str, params: dict[str, Any]) -> list[Problem]:
    """Every bad pipeline setting of a task, one :class:`Problem` each; empty when fine."""
    out: list[Problem] = []

    def at(loc: tuple[int | str, ...]) -> str:
        path = ".".join(str(p) for p in loc)
        return f"{where}.{path}" if where else path

    from pydantic import ValidationError

    try:
        settings = validate(PipelineSettings, params)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            if err["type"] == "unexpected_keyword_argument":  # a dataclass's extra_forbidden
                key = str(loc[-1])
                choices = STAGES if len(loc) == 2 else _STAGE_KEYS
                import difflib  # only when there is a mistake to name

                close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
                fix = f'did you mean "{close[0]}"?' if close else "remove it"
                out.append(
                    Problem(file, at(loc), "unknown key", f"{fix} (keys: {', '.join(choices)})")
                )
                continue
            msg = err["msg"]
            if err["type"] == "dataclass_type":  # the words of a model's model_type
                msg = (
                    f"Input should be a valid dictionary or instance of {err['ctx']['class_name']}"
                )
            out.append(Problem(file, at(loc), msg, _fix_for(loc)))
        return out
    total = 0.0
    for name in STAGES:
        pct = settings.stage(name).budget_pct
        if pct is None:
            continue
        if name not in MODEL_STAGES:
            out.append(
                Problem(
                    file,
                    at(("stages", name, "budget_pct")),
                    f"stage {name} calls no model and has no budget",
                    "remove budget_pct there",
                )
            )
        total += pct
    if total > 100:
        out.append(
            Problem(
                file,
                at(("stages",)),
                f"the stages' budget_pct add up to {total:g} %",
                "make them sum to 100 or less",
            )
        )
    return out


def _fix_for(loc: tuple[int | str, ...]) -> str:
    name = str(loc[-1]) if loc else ""
    hints = {
        "batch_size": f"use a whole number from 1 to {MAX_BATCH}",
        "max_per_run": "use 0 (unlimited) or a whole number of items",
        "budget_pct": "use a percentage from 0 to 100",
        "concurrency": "use a whole number from 1 to 32",
        "enabled": "use true or false",
        "image_size": 'use WIDTHxHEIGHT, e.g. "1200x630"',
    }
    return hints.get(name, f'see README "Content pipeline" for {name}')
