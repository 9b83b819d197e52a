"""Retry timing for model calls: pure functions of the attempt and the server's hints."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


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

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): half to full of
        ``base × 2^(attempt-1)``, capped at ``max_s``."""
        raw = min(self.max_s, self.base_s * (2 ** max(0, attempt - 1)))
        return float(raw * (0.5 + 0.5 * rng()))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` (or ``retry-after-ms``-style seconds) header value.

    Accepts delta-seconds (``"2"``, ``"1.5"``) and HTTP dates; ``None`` when absent or
    unreadable. Negative values become 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())
