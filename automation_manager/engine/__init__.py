"""The engine: admit, run and record tasks (one run here; the daemon drives many).

:func:`execute_run` and :class:`RunRequest` are imported on first use (PEP 562), so that
:mod:`.clock` costs a read-only command nothing more than itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import RunRequest, execute_run

__all__ = ["RunRequest", "execute_run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import runner

        value = getattr(runner, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
