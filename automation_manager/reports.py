"""Typed reports that are also their documented JSON shape.

``amgr status``, ``plan`` and ``history`` build a :class:`Report`: a read-only value the
CLI renders from attributes, whose :meth:`Report.to_json` is the ``--json`` document,
key for key and in order. A report is also a read-only ``Mapping`` of that shape
(``report["tasks"][0]["fire_at"]["utc"]``), so library callers written against the JSON
keep working, and a report equals the dict it prints.

A report class is declared like a dataclass (the type checker treats it as one, built by
keyword and frozen), but its class is made without generating code: ``@dataclass``
costs about 1 ms per class, which ``amgr status`` would pay at every start.
:func:`field` shapes the JSON where a plain field cannot:

- ``field(omit_none=True)``: the key is left out while the value is None (``stale_pid``);
- ``field(flatten=True)``: a nested report's keys appear inline, or none of them when
  it is None (a plan row's schedule details).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, dataclass_transform

__all__ = ["Report", "field", "plain"]

_MISSING: Any = object()


class _Field:
    __slots__ = ("default", "factory", "flatten", "name", "omit_none")

    def __init__(
        self,
        name: str,
        default: Any = _MISSING,
        factory: Callable[[], Any] | None = None,
        omit_none: bool = False,
        flatten: bool = False,
    ) -> None:
        self.name = name
        self.default = default
        self.factory = factory
        self.omit_none = omit_none
        self.flatten = flatten


def field(
    *,
    default: Any = None,
    default_factory: Callable[[], Any] | None = None,
    omit_none: bool = False,
    flatten: bool = False,
) -> Any:
    """A report field with a default (None unless given) and how it shows in the JSON.

    :param omit_none: leave the key out while the value is None.
    :param flatten: inline a nested report's keys (none of them while it is None).
    """
    return _Field("", default, default_factory, omit_none, flatten)


@dataclass_transform(
    kw_only_default=True, frozen_default=True, eq_default=False, field_specifiers=(field,)
)
class Report(Mapping[str, Any]):
    """Base of the report models: keyword construction, ``to_json()``, read-only access
    by JSON key, and equality with any mapping of the same shape."""

    _fields: ClassVar[tuple[_Field, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = list(cls._fields)
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 (inspect costs ~8 ms to import)
        for name, annotation in own.items():
            if str(annotation).startswith("ClassVar"):
                continue
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, _Field):
                value.name = name
                spec = value
                delattr(cls, name)
            else:
                spec = _Field(name, value)
            fields = [f for f in fields if f.name != name] + [spec]
        cls._fields = tuple(fields)

    def __init__(self, **values: Any) -> None:
        for f in self._fields:
            if f.name in values:
                value = values.pop(f.name)
            elif f.factory is not None:
                value = f.factory()
            elif f.default is not _MISSING:
                value = f.default
            else:
                raise TypeError(f"{type(self).__name__}() needs {f.name}=")
            object.__setattr__(self, f.name, value)
        if values:
            raise TypeError(f"{type(self).__name__}() has no field {', '.join(values)}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        inner = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self._fields)
        return f"{type(self).__name__}({inner})"

    def _pairs(self) -> Iterator[tuple[str, Any]]:
        for f in self._fields:
            value = getattr(self, f.name)
            if f.flatten:
                if value is not None:
                    yield from value._pairs()
            elif value is not None or not f.omit_none:
                yield f.name, value

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON-ready data (nested reports become dicts)."""
        return {key: plain(value) for key, value in self._pairs()}

    def __getitem__(self, key: str) -> Any:
        for name, value in self._pairs():
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._pairs())

    def __len__(self) -> int:
        return sum(1 for _ in self._pairs())


def plain(value: Any) -> Any:
    """``value`` with every report in it (in lists and dicts too) turned into a dict."""
    if isinstance(value, Report):
        return value.to_json()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
