"""What a task type is: one frozen value object per (category, type), and the registry.

Everything amgr knows about a type lives on its :class:`TaskType`: whether it calls the
model and how many tokens a run is expected to use, whether it keeps a run file, which
daily quotas it counts toward, the fields it reads, and where its runner is. The runner
is a lazy reference, so commands that only read (``--help``, ``status``, ``history``)
never import an executor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..enums import Category
from ..errors import TaskError

if TYPE_CHECKING:
    from ..executors.base import Runner


@dataclass(frozen=True)
class Expected:
    """Tokens a typical run of one type uses, summed over its calls."""

    prompt_tokens: int
    completion_tokens: int
    calls: int = 1

    def __add__(self, other: Expected) -> Expected:
        return Expected(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.calls + other.calls,
        )

    def __mul__(self, times: int) -> Expected:
        return Expected(
            self.prompt_tokens * times, self.completion_tokens * times, self.calls * times
        )


@dataclass(frozen=True)
class Tokens:
    """How many tokens a run is expected to use, as a function of the task's fields.

    ``fixed`` once, plus ``each`` times the count in the field ``count_field`` (an ebook:
    the outline, plus one call per ``chapters``). A missing or unusable count (not a
    whole number ≥ 1) estimates ``default_count``, so a bad field never makes a run look
    free: the executor refuses it later with its own message.
    """

    fixed: Expected
    each: Expected | None = None
    count_field: str | None = None
    default_count: int = 0

    def of(self, params: Mapping[str, Any]) -> Expected:
        """The expected tokens of one run whose task has ``params``."""
        if self.each is None or self.count_field is None:
            return self.fixed
        count = params.get(self.count_field)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            count = self.default_count
        return self.fixed + self.each * count


@dataclass(frozen=True)
class TaskType:
    """One task type: everything amgr decides by a task's (category, type).

    :param category: the tasks.json section it belongs to.
    :param name: its ``type`` in tasks.json.
    :param summary: one line saying what a run does.
    :param load_runner: imports the executor on first call and returns the function
        that performs one run.
    :param tokens: expected model tokens; ``None`` for a type that never calls a model.
    :param multi_stage: runs keep a run file (``.mp/runs/``) and can be paused.
    :param content_quota: a successful run counts toward ``max_daily_content``.
    :param ebook_quota: a successful run also counts toward ``max_daily_ebooks``.
    :param required: fields a run cannot do without.
    :param fields: every type-specific field it reads, name → one-line doc (the
        common ones, ``id``, ``schedule``, ``enabled``, ..., are not listed).
    """

    category: Category
    name: str
    summary: str = field(compare=False)
    load_runner: Callable[[], Runner] = field(compare=False, repr=False)
    tokens: Tokens | None = None
    multi_stage: bool = False
    content_quota: bool = False
    ebook_quota: bool = False
    required: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        # A read-only copy: the registry is shared by every thread of the daemon.
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        missing = [name for name in self.required if name not in self.fields]
        if missing:
            raise ValueError(f"{self.key}: required {missing} not documented in fields")

    @property
    def key(self) -> tuple[str, str]:
        """``(category, name)`` as plain strings, the shape run records and state use."""
        return self.category.value, self.name

    @property
    def calls_model(self) -> bool:
        """Whether a run calls the model (and so is checked against the daily budget)."""
        return self.tokens is not None

    def expected_tokens(self, params: Mapping[str, Any] | None = None) -> Expected | None:
        """Tokens one run of a task with ``params`` is expected to use; ``None`` without
        a model."""
        return None if self.tokens is None else self.tokens.of(params or {})


class UnknownTaskType(TaskError, LookupError):
    """A (category, type) the registry does not have; the message lists the choices."""


class Registry:
    """Every task type, in the order the README and ``tasks.json`` list them.

    Iterating gives every :class:`TaskType`; :meth:`get` is the one lookup that names
    the choices when it fails.
    """

    def __init__(self, types: tuple[TaskType, ...]) -> None:
        self._by_key: dict[tuple[str, str], TaskType] = {}
        for kind in types:
            if kind.key in self._by_key:
                raise ValueError(f"task type {kind.key} is registered twice")
            self._by_key[kind.key] = kind
        self._by_category: dict[Category, tuple[TaskType, ...]] = {
            c: tuple(t for t in types if t.category is c) for c in Category
        }
        self._models: dict[str, TaskType] = {}
        for kind in types:
            if kind.calls_model:
                if kind.name in self._models:
                    raise ValueError(f"two model-calling types are called {kind.name!r}")
                self._models[kind.name] = kind

    def __iter__(self) -> Iterator[TaskType]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def find(self, category: Category | str, name: str) -> TaskType | None:
        """The type, or ``None`` when ``category`` has no type ``name``."""
        return self._by_key.get((str(category), name))

    def get(self, category: Category | str, name: str) -> TaskType:
        """The type; :class:`UnknownTaskType` naming the choices when there is none."""
        found = self.find(category, name)
        if found is not None:
            return found
        try:
            choices = ", ".join(self.names(Category(category)))
        except ValueError:
            raise UnknownTaskType(
                f"there is no category {str(category)!r}: use one of "
                f"{', '.join(c.value for c in Category)}"
            ) from None
        raise UnknownTaskType(f"{category} has no type {name!r}: use one of {choices}")

    def types(self, category: Category | str) -> tuple[TaskType, ...]:
        """The types of ``category``, in order; empty for an unknown category."""
        try:
            return self._by_category[Category(category)]
        except ValueError:
            return ()

    def names(self, category: Category | str) -> tuple[str, ...]:
        """The ``type`` names of ``category``, in order."""
        return tuple(t.name for t in self.types(category))

    def model_type(self, name: str) -> TaskType | None:
        """The model-calling type called ``name``, whatever its category.

        Unambiguous because no two model-calling types share a name (checked when the
        registry is built); it serves callers that know only a kind, such as
        ``llm.budget.estimate_cost`` and ``LLMConfig.model_for``.
        """
        return self._models.get(name)
