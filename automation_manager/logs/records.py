"""The run record: one per attempt, one JSON line in ``.mp/automation/logs/YYYY-MM-DD.jsonl``.

Plain dataclasses, written and read with msgspec (a daemon imports no pydantic). A line
is the one the pydantic model of earlier versions wrote: the fields in order, ``None``
ones too, then the keys a record was read with and does not know (kept in ``extra``);
datetimes in RFC 3339 (``Z`` for UTC), enums as their values, floats in the shortest
form that reads back (``1e20``, ``1e-7``; pydantic wrote ``1e+20``, read alike).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import PurePath
from typing import Any, ClassVar

import msgspec

from ..enums import RunStatus, Trigger
from .redact import REDACTED, SECRET_KEY, redact

__all__ = [
    "REDACTED",
    "SECRET_KEY",
    "InvalidRecord",
    "RunRecord",
    "Usage",
    "dump_json",
    "new_record_id",
    "redact",
]

InvalidRecord = msgspec.ValidationError
"""What reading a record (or usage) of the wrong shape raises; a line that is no JSON at
all raises its base class, ``msgspec.DecodeError``."""


class _Open:
    """A dataclass that keeps the keys it was read with and does not know (``extra``),
    and writes them back after its fields."""

    extra: dict[str, Any]
    _names: ClassVar[tuple[str, ...]]
    """Its fields but ``extra``, in order (set below each class)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form (plain JSON types: what its line holds)."""
        out: dict[str, Any] = msgspec.json.decode(dump_json(self._plain()))
        return out

    def _plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self._names:
            value = getattr(self, name)
            out[name] = value._plain() if isinstance(value, _Open) else value
        out.update(self.extra)
        return out


@dataclass(kw_only=True)
class Usage(_Open):
    """Tokens and cost summed over every model call of a run."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    """Any other key (``images``...): read back, kept and written after the fields."""

    def add(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 8),
            calls=self.calls + other.calls,
        )

    def copy(self) -> Usage:
        """A copy (its own ``extra``: adding to one does not add to the other)."""
        return replace(self, extra=dict(self.extra))

    @classmethod
    def from_json(cls, data: Any) -> Usage:
        """Usage from its JSON form (the strings a line holds are coerced, as pydantic did).

        :raises InvalidRecord: ``data`` is not a usage.
        """
        known, extra = _split(data, cls._names)
        usage = msgspec.convert(known, cls, strict=False)
        usage.extra = extra
        return usage


@dataclass(kw_only=True)
class RunRecord(_Open):
    """What happened in one attempt of one task."""

    id: str
    timestamp: datetime
    task_id: str
    category: str
    type: str
    trigger: Trigger = Trigger.MANUAL
    attempt: int = 1
    scheduled_for: datetime | None = None
    status: RunStatus
    success: bool
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    duration_ms: int = 0
    usage: Usage | None = None
    provider: str | None = None
    run_id: str | None = None
    process_type: str | None = None
    """The task's process type (``content``, ``maintenance``, ...; see ``config.operations``)."""
    resources_used: dict[str, float] | None = None
    """What the run used: ``cpu_s`` (its thread and child processes) and ``peak_rss_mb``."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Any other key a record was read with: kept, and written after the fields."""

    def to_line(self) -> str:
        """The record's log line (no newline)."""
        return dump_json(self._plain()).decode("utf-8")

    @classmethod
    def from_json(cls, data: Any) -> RunRecord:
        """A record from its JSON form: ISO strings become datetimes, strings the enums
        (the coercions pydantic made).

        :raises InvalidRecord: ``data`` is not a record.
        """
        known, extra = _split(data, cls._names)
        usage = known.pop("usage", None)
        record = msgspec.convert(known, cls, strict=False)
        if usage is not None:
            try:
                record.usage = Usage.from_json(usage)
            except msgspec.ValidationError as exc:  # its path starts at the usage
                text, _, at = str(exc).partition(" - at `$")
                raise msgspec.ValidationError(f"{text} - at `$.usage{at or '`'}") from None
        record.extra = extra
        return record

    @classmethod
    def from_line(cls, line: str | bytes) -> RunRecord:
        """A record from its log line.

        :raises msgspec.DecodeError: the line is no JSON (:data:`InvalidRecord`: no record).
        """
        return cls.from_json(msgspec.json.decode(line))


Usage._names = tuple(f.name for f in fields(Usage) if f.name != "extra")
RunRecord._names = tuple(f.name for f in fields(RunRecord) if f.name != "extra")


def _split(data: Any, names: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``data``'s known keys and the others."""
    if not isinstance(data, dict):
        raise msgspec.ValidationError(f"Expected `object`, got `{type(data).__name__}`")
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        (known if key in names else extra)[key] = value
    return known, extra


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, PurePath):
        return str(obj)
    raise NotImplementedError(f"Encoding objects of type {type(obj).__name__} is unsupported")


def dump_json(obj: Any) -> bytes:
    """``obj`` (dataclasses, dicts...) as compact JSON (paths as strings).

    :raises TypeError: something in ``obj`` has no JSON form.
    """
    return msgspec.json.encode(obj, enc_hook=_enc_hook)


_counter = 0


def new_record_id(now: datetime | None = None) -> str:
    """Time-sortable unique id: ``r`` + ms since epoch (hex) + pid + counter + random."""
    global _counter
    _counter = (_counter + 1) % 0xFFFF
    ms = int((now.timestamp() if now else time.time()) * 1000)
    return f"r{ms:012x}{os.getpid() % 0xFFFF:04x}{_counter:04x}{os.urandom(2).hex()}"
