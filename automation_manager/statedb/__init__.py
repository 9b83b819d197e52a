"""The state database the engine decides from (see :mod:`.db`), fed from the run log."""

from __future__ import annotations

from .db import SCHEMA_VERSION, StateDB, db_path

__all__ = ["SCHEMA_VERSION", "StateDB", "db_path"]
