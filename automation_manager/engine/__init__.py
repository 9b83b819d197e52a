"""The engine: admit, run and record tasks (one run here; the daemon drives many)."""

from .runner import RunRequest, execute_run

__all__ = ["RunRequest", "execute_run"]
