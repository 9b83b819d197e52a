"""Redaction of what goes into a record: secret-looking keys and registered secrets.

Pydantic-free on purpose: the readers of the log (``amgr history``) need it, and
:mod:`.records` (:class:`~.records.RunRecord`) re-exports it.
"""

from __future__ import annotations

import re
from typing import Any

from ..secrets import REGISTRY

SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|passwd|authorization|auth)", re.I)
REDACTED = "***"


def redact(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """Copy ``value`` with secret-looking keys replaced by ``***`` and every string masked
    by the secrets registry (every form of every secret read so far, plus ``secrets``)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and SECRET_KEY.search(key) and not key.endswith("_env"):
                out[key] = REDACTED
            else:
                out[REGISTRY.mask(key, secrets) if isinstance(key, str) else key] = redact(
                    item, secrets
                )
        return out
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        return REGISTRY.mask(value, secrets)
    return value
