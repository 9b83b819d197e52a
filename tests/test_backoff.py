"""One exponential backoff: bounded, capped, jittered within its promise, deterministic
with a seeded random source, and a server's Retry-After honoured the same way by the
engine, the model client and the publishers."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from fake_platforms import FakeMastodon, Reply, running

from automation_manager.backoff import Jitter, backoff_delay, parse_retry_after
from automation_manager.engine.retry import retry_delay
from automation_manager.errors import TransientError
from automation_manager.llm.retry import Backoff
from automation_manager.publishers.http import PlatformHttp, RetryPolicy

ATTEMPTS = range(1, 40)


def monotone(values: list[float]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(values))


def raw(attempt: int, base: float = 2.0, cap: float = 300.0) -> float:
    return backoff_delay(attempt, base_s=base, cap_s=cap, jitter=Jitter.NONE)


def test_the_backoff_doubles_until_the_cap_and_stays_there() -> None:
    delays = [raw(n) for n in ATTEMPTS]
    assert delays[:5] == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert monotone(delays)
    assert max(delays) == 300.0 and delays[-1] == 300.0
    assert raw(0) == raw(-5) == 2.0  # attempts before the first count as the first
    assert raw(10**9) == 300.0  # no OverflowError however long a task keeps failing


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equal_jitter_waits_between_half_and_all_of_the_backoff(seed: int) -> None:
    rng = random.Random(seed).random
    for n in ATTEMPTS:
        delay = backoff_delay(n, base_s=2, cap_s=300, rng=rng)
        assert raw(n) / 2 <= delay <= raw(n)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_full_jitter_waits_between_nothing_and_the_backoff(seed: int) -> None:
    rng = random.Random(seed).random
    delays = [backoff_delay(n, base_s=2, cap_s=300, jitter=Jitter.FULL, rng=rng) for n in ATTEMPTS]
    assert all(0 <= d <= raw(n) for n, d in zip(ATTEMPTS, delays, strict=True))
    assert any(d < raw(n) / 2 for n, d in zip(ATTEMPTS, delays, strict=True))  # it can go low


def test_the_jittered_bounds_are_monotone_and_capped() -> None:
    for jitter in Jitter:
        lows = [
            backoff_delay(n, base_s=1, cap_s=60, jitter=jitter, rng=lambda: 0.0) for n in ATTEMPTS
        ]
        highs = [
            backoff_delay(n, base_s=1, cap_s=60, jitter=jitter, rng=lambda: 1.0) for n in ATTEMPTS
        ]
        for bound in (lows, highs):
            assert monotone(bound), jitter
            assert max(bound) <= 60
        assert highs[-1] == 60


def test_a_seeded_random_source_gives_the_same_delays() -> None:
    def run(seed: int) -> list[float]:
        rng = random.Random(seed).random
        return [backoff_delay(n, base_s=1, cap_s=100, rng=rng) for n in range(1, 10)]

    assert run(42) == run(42)
    assert run(42) != run(43)


def test_retry_after_replaces_the_backoff_or_floors_it() -> None:
    assert backoff_delay(6, base_s=1, cap_s=60, retry_after=0.5) == 0.5
    assert backoff_delay(1, base_s=1, cap_s=60, retry_after=7200) == 7200  # not capped here
    assert backoff_delay(3, base_s=1, cap_s=60, retry_after=0) == 0.0
    assert backoff_delay(3, base_s=1, cap_s=60, retry_after=-4) == 0.0

    def floor(attempt: int, retry_after: float) -> float:
        return backoff_delay(
            attempt,
            base_s=1,
            cap_s=60,
            jitter=Jitter.NONE,
            retry_after=retry_after,
            at_least_retry_after=True,
        )

    assert floor(6, 0.5) == 32.0 and floor(1, 90) == 90.0


def test_retry_after_header_values() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0 and parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0
    for unreadable in (None, "", "   ", "soon", "inf", "nan", "Mon, 99 Foo"):
        assert parse_retry_after(unreadable, now) is None, unreadable


# -- the three callers share it ----------------------------------------------------------


def test_engine_llm_and_publishers_use_the_same_formula() -> None:
    for n in range(1, 12):
        seeded = random.Random(n).random
        same = random.Random(n).random
        engine = retry_delay(n, base_s=30, cap_s=900, rng=seeded)
        assert engine == backoff_delay(n, base_s=30, cap_s=900, rng=same)
        llm = Backoff(base_s=1, max_s=30).delay(n, random.Random(n).random)
        assert llm == backoff_delay(n, base_s=1, cap_s=30, rng=random.Random(n).random)
        assert RetryPolicy().backoff(n) == backoff_delay(n, base_s=1, cap_s=30, jitter=Jitter.NONE)
    # the engine floors a server's wait (its run's own calls already waited the short ones)
    assert retry_delay(5, base_s=30, cap_s=900, spread=1.0, retry_after=3) == 480
    # a model call and a publisher take the server's word for it
    assert Backoff().delay(5, lambda: 1.0, retry_after=3) == 3
    assert RetryPolicy().backoff(5, retry_after=3) == 3


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def masto() -> Iterator[FakeMastodon]:
    with running(FakeMastodon()) as server:
        yield server


def test_a_publisher_waits_a_fractional_or_zero_retry_after(masto: FakeMastodon) -> None:
    masto.script(
        "GET /api/v2/instance",
        Reply(429, {"error": "slow"}, {"Retry-After": "1.5"}),
        Reply(429, {"error": "slow"}, {"Retry-After": "0"}),
        Reply(503, "down"),
    )
    sleeps = Sleeps()
    client = PlatformHttp("masto", auth_hint="MASTODON_TOKEN", sleep=sleeps, timeout_s=2)
    response = client.request("GET", f"{masto.url}/api/v2/instance", what="x", repeatable=True)
    assert response.status_code == 200
    assert sleeps == [1.5, 0.0, 4.0]  # the server's words, then the third retry's backoff


def test_a_publisher_hands_back_a_retry_after_it_will_not_wait(masto: FakeMastodon) -> None:
    masto.script("GET /api/v2/instance", Reply(429, {}, {"Retry-After": "121.5"}))
    sleeps = Sleeps()
    client = PlatformHttp("masto", auth_hint="MASTODON_TOKEN", sleep=sleeps, timeout_s=2)
    with pytest.raises(TransientError) as caught:
        client.request("GET", f"{masto.url}/api/v2/instance", what="x", repeatable=True)
    assert sleeps == [] and caught.value.retry_after == 121.5
    assert retry_delay(1, base_s=30, cap_s=900, spread=1.0, retry_after=121.5) == 121.5
