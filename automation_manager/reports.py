"""Typed reports that are also their documented JSON shape.

``amgr status``, ``plan`` and ``history`` build a :class:`Report`: a frozen dataclass
the CLI renders from attributes, whose :meth:`Report.to_json` is the ``--json``
document, key for key and in order. A report is also a read-only ``Mapping`` of that
shape (``report["tasks"][0]["fire_at"]["utc"]``), so library callers written against
the JSON keep working, and a report equals the dict it prints.

Two field options (``field(default=None, metadata=...)``) shape the JSON where a plain
field cannot:

- ``OMIT_NONE``: the key is left out when the value is None (``stale_pid``);
- ``FLATTEN``: a nested report's keys appear inline, or none of them when it is None
  (a plan row's schedule details).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["FLATTEN", "OMIT_NONE", "Report", "plain"]


OMIT_NONE: Mapping[str, bool] = {"omit_none": True}
"""Field metadata: the key is absent from the JSON while the value is None."""
FLATTEN: Mapping[str, bool] = {"flatten": True}
"""Field metadata: a nested report's keys are inlined into this one's JSON."""


@dataclass(frozen=True, eq=False)
class Report(Mapping[str, Any]):
    """Base of the report models: ``to_json()`` and read-only access by JSON key."""

    def _pairs(self) -> Iterator[tuple[str, Any]]:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("flatten"):
                if value is not None:
                    yield from value._pairs()
            elif value is not None or not f.metadata.get("omit_none"):
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
