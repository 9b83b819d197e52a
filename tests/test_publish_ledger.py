"""The publish ledger and the HTTP rules under every publisher."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_platforms import FakeMastodon, Reply, running

from automation_manager.errors import AuthError, PublishUncertain, TaskError, TransientError
from automation_manager.home import Home
from automation_manager.publishers.http import PlatformHttp
from automation_manager.publishers.ledger import Ledger, PairState

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_pair_states_follow_the_events(tmp_path: Path) -> None:
    ledger = Ledger(Home(tmp_path))
    assert ledger.pair("a", "blog").state is PairState.NEW
    ledger.record("intent", "a", "blog", T0)
    assert ledger.pair("a", "blog").state is PairState.UNCERTAIN
    ledger.record("failed", "a", "blog", T0, error="400", final=True)
    assert ledger.pair("a", "blog").state is PairState.FAILED
    ledger.record("reset", "a", "blog", T0)
    assert ledger.pair("a", "blog").state is PairState.NEW
    ledger.record("intent", "a", "blog", T0)
    ledger.record("done", "a", "blog", T0, remote_id="7", url="https://x/7")
    ledger.record("reset", "a", "blog", T0)  # nothing reopens a done pair
    pair = ledger.pair("a", "blog")
    assert pair.state is PairState.DONE and pair.url == "https://x/7"
    assert ledger.pair("a", "masto").state is PairState.NEW


def test_a_torn_last_line_is_skipped_then_completed(tmp_path: Path) -> None:
    home = Home(tmp_path)
    ledger = Ledger(home)
    ledger.record("intent", "a", "blog", T0)
    with open(ledger.path, "a") as fh:
        fh.write('{"event": "done", "key": "a@bl')  # a crash mid-write
    assert Ledger(home).pair("a", "blog").state is PairState.UNCERTAIN
    ledger.record("done", "a", "blog", T0, remote_id="1")
    assert Ledger(home).pair("a", "blog").state is PairState.DONE


def test_posted_times_count_sends_and_scheduled_posts(tmp_path: Path) -> None:
    ledger = Ledger(Home(tmp_path))
    ledger.record("intent", "a", "blog", T0)
    ledger.record("done", "a", "blog", T0, remote_id="1")
    later = T0 + timedelta(days=2)
    ledger.record("done", "b", "blog", T0, remote_id="2", live_at=later.isoformat())
    ledger.record("intent", "c", "blog", T0)  # unsure: counts, it may be live
    ledger.record("intent", "d", "masto", T0)
    assert sorted(ledger.posted_times("blog")) == [T0, T0, later]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def masto() -> Iterator[FakeMastodon]:
    with running(FakeMastodon()) as server:
        yield server


def http(sleeps: Sleeps, **kw: object) -> PlatformHttp:
    return PlatformHttp(
        "masto",
        auth_hint="MASTODON_TOKEN (platforms.masto.token_env)",
        sleep=sleeps,
        timeout_s=2,
        **kw,
    )  # type: ignore[arg-type]


def test_429_waits_retry_after_then_gives_up(masto: FakeMastodon) -> None:
    sleeps = Sleeps()
    masto.script("GET /api/v2/instance", *[Reply(429, {"error": "slow"}, {"Retry-After": "3"})] * 4)
    with pytest.raises(TransientError, match="still rate limited") as caught:
        http(sleeps).request("GET", f"{masto.url}/api/v2/instance", what="x", repeatable=True)
    assert sleeps == [3.0, 3.0, 3.0] and caught.value.retry_after == 3.0


def test_a_long_retry_after_is_handed_back_not_waited(masto: FakeMastodon) -> None:
    sleeps = Sleeps()
    masto.script("GET /api/v2/instance", Reply(429, {}, {"Retry-After": "3600"}))
    with pytest.raises(TransientError) as caught:
        http(sleeps).request("GET", f"{masto.url}/api/v2/instance", what="x", repeatable=True)
    assert sleeps == [] and caught.value.retry_after == 3600


def test_5xx_backs_off_then_succeeds(masto: FakeMastodon) -> None:
    sleeps = Sleeps()
    masto.script("GET /api/v2/instance", Reply(503, "down"), Reply(500, "oops"))
    response = http(sleeps).request(
        "GET", f"{masto.url}/api/v2/instance", what="x", repeatable=True
    )
    assert response.status_code == 200 and sleeps == [1.0, 2.0]


def test_5xx_on_a_send_that_cannot_be_repeated_is_uncertain(masto: FakeMastodon) -> None:
    masto.script("POST /api/v1/statuses", Reply(502, "bad gateway"))
    with pytest.raises(PublishUncertain, match="checks with the platform"):
        http(Sleeps()).request(
            "POST", f"{masto.url}/api/v1/statuses", what="post", repeatable=False, json={}
        )


def test_401_and_4xx_are_final_and_name_the_setting(masto: FakeMastodon) -> None:
    client = http(Sleeps())
    with pytest.raises(AuthError, match=r"check MASTODON_TOKEN \(platforms.masto.token_env\)"):
        client.request(
            "GET", f"{masto.url}/api/v1/accounts/verify_credentials", what="x", repeatable=True
        )
    masto.script("GET /api/v2/instance", Reply(422, {"error": "Validation failed: too long"}))
    with pytest.raises(TaskError, match="Validation failed: too long"):
        client.request("GET", f"{masto.url}/api/v2/instance", what="x", repeatable=True)


def test_a_closed_port_is_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="cannot connect") as caught:
        http(sleeps).request("POST", f"http://127.0.0.1:{port}/x", what="post", repeatable=False)
    assert not isinstance(caught.value, PublishUncertain)  # nothing left: nothing to check
    assert sleeps == [1.0, 2.0, 4.0]
