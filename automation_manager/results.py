"""What a run produced, typed: the contract between an executor, the record and the CLI.

An executor returns a :class:`RunResult` (inside an
:class:`~automation_manager.executors.base.Outcome`); the run record keeps its JSON as
``result``; ``amgr exec-now`` reads the typed fields back. Only pydantic is imported, so
any layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, model_validator
from pydantic import ValidatorFunctionWrapHandler as Handler

__all__ = ["RunResult"]


class RunResult(BaseModel):
    """What one run produced, as its record's ``result`` keeps it.

    The common fields are typed; a kind's own fields (``chapters``, ``checks``,
    ``published``, ...) are kept as given (``extra="allow"``). Keys keep the order they
    were given in, and a field added later goes last, like a dict: the record's JSON is
    byte for byte what an executor returning a plain dict wrote.
    """

    model_config = ConfigDict(extra="allow")

    items: int | None = None
    """Content items made (0: nothing to do; ``reason`` says why)."""
    content_id: str | None = None
    title: str | None = None
    status: str | None = None
    """The content status the new item got (``review``, ``pending``, ``draft``)."""
    files: list[str] = []
    """Absolute paths of the files a person opens."""
    summary: str | None = None
    """One line for people: what the run did."""
    provider: str | None = None
    reason: str | None = None
    """Why a run that succeeded made nothing."""

    _order: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_order(cls, data: Any, handler: Handler) -> RunResult:
        made: RunResult = handler(data)
        if isinstance(data, dict):
            made._order = [str(key) for key in data]
        return made

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if not name.startswith("_") and name not in self._order:
            self._order.append(name)

    def add(self, **fields: Any) -> None:
        """Add (or replace) type-specific fields; new ones go after the others."""
        for name, value in fields.items():
            setattr(self, name, value)

    def to_json(self) -> dict[str, Any]:
        """The ``result`` of the run record: the given fields, in the given order."""
        data = self.model_dump(exclude_unset=True)
        keys = self._order + [key for key in data if key not in self._order]
        return {key: data[key] for key in keys if key in data}

    @classmethod
    def of(cls, result: Mapping[str, Any] | None) -> RunResult:
        """The typed view of a record's ``result`` (empty for none, or for a result
        whose common fields do not fit: a record is shown, never a traceback)."""
        try:
            return cls.model_validate(dict(result or {}))
        except ValidationError:
            return cls()
