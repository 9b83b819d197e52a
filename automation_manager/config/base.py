"""What the models of the three files are made of: plain dataclasses that pydantic checks.

Each model is a ``@dataclass(kw_only=True)`` subclass of :class:`Model`. Its annotations
say everything a file is checked against: types, bounds (``annotated_types``: ``Ge``,
``Le``, ``Interval``, ``MaxLen``...), and checks (:class:`After`, :class:`Before`,
:class:`Tagged`) that run when pydantic validates the class. pydantic is imported only
then (:func:`validate`), never by importing a model: a running daemon holds its
configuration for months, and pydantic with its compiled validators costs it ~18 MiB. The
daemon has its files validated by a child process and keeps the objects it gets back
(:mod:`.apart`); commands validate in their own process, with the same models.

Each ``annotations`` string is read by pydantic in its module's namespace, so the names
in it must be importable there at run time (not only under ``TYPE_CHECKING``).

Checks across fields are ``__post_init__`` methods raising ``ValueError``; a class-wide
rewrite of the input before validation is a ``before`` classmethod.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, TypeAdapter
    from pydantic_core import CoreSchema

_T = TypeVar("_T")

STRICT: dict[str, Any] = {"extra": "forbid", "validate_default": True}
"""The pydantic config of a model: an unknown key is refused (a misspelt limit silently
ignored is worse than an error), and defaults are checked like given values."""


class Model:
    """The base of every model of the three files (see the module's docstring)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT

    @classmethod
    def before(cls, data: Any) -> Any:
        """Rewrite the input before it is validated (another spelling of a setting)."""
        return data

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        schema = handler(source)
        if cls.before.__func__ is Model.before.__func__:  # type: ignore[attr-defined]
            return schema
        return core_schema.no_info_before_validator_function(cls.before, schema)

    def replace(self: _T, **changes: Any) -> _T:
        """A copy with ``changes`` (unchecked; extra fields a model allows are kept)."""
        out = copy.copy(self)
        for name, value in changes.items():
            setattr(out, name, value)
        return out


class After:
    """A check run on a value after its type was validated: ``fn`` returns the value (or
    another) or raises ``ValueError`` with what to fix."""

    __slots__ = ("fn",)
    _BEFORE: ClassVar[bool] = False

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        if self._BEFORE:
            return core_schema.no_info_before_validator_function(self.fn, handler(source))
        return core_schema.no_info_after_validator_function(self.fn, handler(source))


class Before(After):
    """A rewrite of a value before its type is validated (``"x"`` for ``["x"]``...)."""

    __slots__ = ()
    _BEFORE = True


class Pattern:
    """A string that must match ``regex`` (pydantic's own ``pattern`` check)."""

    __slots__ = ("regex",)

    def __init__(self, regex: str) -> None:
        self.regex = regex

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        if schema.get("type") != "str":
            raise TypeError(f"Pattern applies to a str, not {source!r}")
        return {**schema, "pattern": self.regex}


class Tagged:
    """A union of models picked by the value of one key (a platform's ``kind``, a window's
    ``mode``): ``choices`` maps each value to its model (or returns that map, for models
    defined later)."""

    __slots__ = ("choices", "key")

    def __init__(
        self, key: str, choices: Mapping[str, type] | Callable[[], Mapping[str, type]]
    ) -> None:
        self.key = key
        self.choices = choices

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        choices = self.choices() if callable(self.choices) else self.choices
        return core_schema.tagged_union_schema(
            {tag: handler.generate_schema(model) for tag, model in choices.items()},
            discriminator=self.key,
        )


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
_FIELD_NAMES: dict[type, frozenset[str]] = {}


def adapter(tp: Any) -> TypeAdapter[Any]:
    """pydantic's validator of ``tp`` (built once a process)."""
    found = _ADAPTERS.get(tp)
    if found is None:
        from pydantic import TypeAdapter

        found = _ADAPTERS[tp] = TypeAdapter(tp)
    return found


def validate(tp: type[_T], data: Any) -> _T:
    """``data`` checked against ``tp``; :raises pydantic.ValidationError: with every problem."""
    result: _T = adapter(tp).validate_python(data)
    return result


def dump(obj: Any, *, exclude_none: bool = False) -> dict[str, Any]:
    """A model as JSON-ready data (enums as their values), with the extra fields it was
    given (a task's). Made without pydantic: a daemon dumps a task as it fires."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if not (exclude_none and value is None):
            out[f.name] = _plain(value, exclude_none)
    for key, value in extra_fields(obj).items():  # as read from a file: JSON already
        if not (exclude_none and value is None):
            out[key] = value
    return out


def _plain(value: Any, exclude_none: bool) -> Any:
    if isinstance(value, Model):
        return dump(value, exclude_none=exclude_none)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v, exclude_none) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, exclude_none) for v in value]
    return value


def extra_fields(obj: Any) -> dict[str, Any]:
    """The keys a model that allows them (``"extra": "allow"``) was given besides its
    fields, in their order."""
    if getattr(obj, "__pydantic_config__", {}).get("extra") != "allow":
        return {}  # (and a private attribute, a token say, is never one)
    names = field_names(type(obj))
    return {k: v for k, v in vars(obj).items() if k not in names and not k.startswith("_")}


def field_names(model: type) -> frozenset[str]:
    """The names of a model's fields."""
    found = _FIELD_NAMES.get(model)
    if found is None:
        found = _FIELD_NAMES[model] = frozenset(f.name for f in dataclasses.fields(model))
    return found


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Model) and dataclasses.is_dataclass(tp)
