"""Retry timing for model calls: the client's bounds over the one backoff.

``parse_retry_after`` is re-exported from :mod:`automation_manager.backoff`, which owns
the formula and the header reader for every retry amgr makes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from ..backoff import Jitter, backoff_delay, parse_retry_after

__all__ = ["Backoff", "parse_retry_after"]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, and how far a ``Retry-After`` is honoured in-process.

    :param base_s: the first delay before jitter.
    :param max_s: no single computed delay is longer.
    :param retry_after_cap_s: a ``Retry-After`` up to this long is slept through; a longer
        one ends the call with a :class:`~automation_manager.errors.TransientError` that
        carries it, so the engine can reschedule instead of holding a worker.
    """

    base_s: float = 1.0
    max_s: float = 30.0
    retry_after_cap_s: float = 60.0

    def delay(
        self,
        attempt: int,
        rng: Callable[[], float] = random.random,
        retry_after: float | None = None,
    ) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): half to full of
        ``base × 2^(attempt-1)``, capped at ``max_s`` (equal jitter); a server's
        ``retry_after`` replaces it. See :func:`~automation_manager.backoff.backoff_delay`.
        """
        return backoff_delay(
            attempt,
            base_s=self.base_s,
            cap_s=self.max_s,
            jitter=Jitter.EQUAL,
            rng=rng,
            retry_after=retry_after,
        )
