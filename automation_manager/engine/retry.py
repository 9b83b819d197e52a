"""Retry policy (pure: how many attempts, how long between them) and the queue of retries.

>>> retry_delay(1, base_s=30, cap_s=900, spread=1.0)
30.0
>>> retry_delay(3, base_s=30, cap_s=900, spread=1.0)
120.0
>>> retry_delay(10, base_s=30, cap_s=900, spread=1.0)
900.0
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from ..backoff import Jitter, backoff_delay
from ..config import Config, TaskSpec

T = TypeVar("T")


def max_retries(spec: TaskSpec, config: Config) -> int:
    """The task's own ``max_retries``, else config.json's."""
    own = spec.task.max_retries
    return own if own is not None else config.max_retries


def retry_delay(
    failed_attempt: int,
    *,
    base_s: float,
    cap_s: float,
    spread: float | None = None,
    retry_after: float | None = None,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after attempt ``failed_attempt`` (1 = the first run) failed.

    :func:`~automation_manager.backoff.backoff_delay` with equal jitter: ``base × 2^(n-1)``
    capped at ``cap_s``, spread over half to all of it so retries of many tasks do not
    align. A server's ``retry_after`` is a floor: the run's own calls already waited out
    the short ones, so the engine keeps backing off.

    :param spread: a fixed jitter factor in ``[0.5, 1]`` instead of a random one (tests).
    :param rng: the random source when ``spread`` is None.
    """
    if spread is not None:
        rng = _fixed(2 * spread - 1)  # equal jitter's half + half × u = spread
    return backoff_delay(
        failed_attempt,
        base_s=base_s,
        cap_s=cap_s,
        jitter=Jitter.EQUAL,
        rng=rng,
        retry_after=retry_after,
        at_least_retry_after=True,
    )


def _fixed(value: float) -> Callable[[], float]:
    return lambda: value


def should_retry(failed_attempt: int, retryable: bool, limit: int) -> bool:
    """Whether a failed attempt gets another: only transient failures, at most ``limit`` retries.

    Attempt 1 is the run itself; attempts 2 … ``limit + 1`` are its retries.
    """
    return retryable and failed_attempt <= limit


def retry_after_failure(
    failed_attempt: int, retryable: bool, retry_after: float | None, spec: TaskSpec, config: Config
) -> float | None:
    """Seconds until the next attempt of a failed one, or None when it does not retry."""
    if not should_retry(failed_attempt, retryable, max_retries(spec, config)):
        return None
    return retry_delay(
        failed_attempt,
        base_s=config.retry_base_delay_s,
        cap_s=config.retry_max_delay_s,
        retry_after=retry_after,
    )


class RetryQueue(Generic[T]):
    """Retries waiting out their backoff. Thread-safe.

    Delays are durations, so they run on the monotonic clock: a retry is due after its
    delay whatever the wall clock (or an injected clock) says.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heap: list[tuple[float, int, T]] = []
        self._seq = itertools.count()

    def push(self, item: T, delay_s: float) -> None:
        with self._lock:
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._seq), item))

    def pop_due(self) -> list[T]:
        """Every item whose delay is over, oldest deadline first."""
        now = time.monotonic()
        out: list[T] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                out.append(heapq.heappop(self._heap)[2])
        return out

    def next_in(self) -> float | None:
        """Seconds until the next item is due (≤ 0 when one is), None when empty."""
        with self._lock:
            return self._heap[0][0] - time.monotonic() if self._heap else None

    def clear(self) -> int:
        """Drop every item; returns how many there were."""
        with self._lock:
            count = len(self._heap)
            self._heap.clear()
            return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)
