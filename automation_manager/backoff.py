"""One exponential backoff for every retry amgr makes, and one reader of ``Retry-After``.

Pure: the attempt, the bounds, the jitter and the random source are all arguments, so a
test asks for a delay without sleeping or seeding a global.

>>> backoff_delay(1, base_s=30, cap_s=900, jitter=Jitter.NONE)
30.0
>>> [backoff_delay(n, base_s=1, cap_s=10, jitter=Jitter.NONE) for n in range(1, 7)]
[1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
>>> backoff_delay(3, base_s=1, cap_s=10, rng=lambda: 0.0)  # equal jitter: half to full
2.0
>>> backoff_delay(3, base_s=1, cap_s=10, retry_after=7)  # the server's word wins
7.0
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

MAX_EXPONENT = 62
"""Past this many doublings every sane cap has long been reached; keeps the power finite."""


class Jitter(StrEnum):
    """How a delay is spread so that many retries started together do not stay together.

    ``EQUAL`` (the default) waits half the backoff plus a random part of the other half,
    so a delay is never shorter than half the backoff and the growth stays visible.
    ``FULL`` waits a random part of the whole backoff (least load on a busy server,
    but a delay may be near 0). ``NONE`` waits exactly the backoff.
    """

    EQUAL = "equal"
    FULL = "full"
    NONE = "none"


def backoff_delay(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    jitter: Jitter = Jitter.EQUAL,
    rng: Callable[[], float] = random.random,
    retry_after: float | None = None,
    at_least_retry_after: bool = False,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry).

    The backoff is ``base_s × 2^(attempt-1)``, capped at ``cap_s``, then spread by
    ``jitter`` using ``rng()`` (a number in ``[0, 1]``).

    :param retry_after: what the server asked for (``Retry-After``), in seconds. It
        replaces the computed delay: the server knows when it will take the request
        again (as urllib3 and the OpenAI SDK do). It is not capped here; a caller that
        will not hold a worker that long hands the failure back instead.
    :param at_least_retry_after: make ``retry_after`` a lower bound instead, for a
        caller that retries a whole run after the in-call retries gave up and should
        keep backing off (the engine).
    """
    exponent = min(max(attempt - 1, 0), MAX_EXPONENT)
    backoff = max(0.0, min(cap_s, base_s * 2.0**exponent))
    if jitter is Jitter.EQUAL:
        delay = backoff / 2 + backoff / 2 * rng()
    elif jitter is Jitter.FULL:
        delay = backoff * rng()
    else:
        delay = backoff
    if retry_after is not None:
        wait = max(0.0, retry_after)
        delay = max(delay, wait) if at_least_retry_after else wait
    return float(max(delay, 0.0))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header value: delta-seconds (``"2"``, ``"1.5"``) or
    an HTTP date; ``None`` when absent or unreadable (``inf`` and ``nan`` included). A
    negative or past value is 0."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
