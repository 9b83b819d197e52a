"""amgr — the Automation Manager.

A durable scheduler daemon for content automation. The library face is
:class:`AutomationManager`; the ``amgr`` command is a thin shell over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["AutomationManager", "__version__"]

if TYPE_CHECKING:
    from .manager import AutomationManager


def __getattr__(name: str) -> Any:
    # Lazy so that ``import automation_manager`` (and ``amgr --help``) stays cheap.
    if name == "AutomationManager":
        from .manager import AutomationManager

        return AutomationManager
    raise AttributeError(name)
