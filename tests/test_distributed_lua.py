"""The Redis scripts of the distributed executor, on ``fakeredis`` (Lua): lease, fencing,
run claims. The end-to-end behaviour runs on a real redis-server in test_distributed.py.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.distributed.lease import Lease
from automation_manager.distributed.remote import CLOSED_TTL_MS, LOST
from automation_manager.distributed.settings import Keys
from automation_manager.distributed.worker import CLAIM, STARTED_TTL_MS
from automation_manager.errors import LeaseLostError


@pytest.fixture
def client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(decode_responses=True)


def test_one_lease_at_a_time_and_each_leader_a_larger_token(client: fakeredis.FakeRedis) -> None:
    keys = Keys("t")
    a, b = Lease(client, keys, 5), Lease(client, keys, 5)
    assert a.try_take() and a.token == 1
    assert not b.try_take()  # held
    a.check()  # the leader may write
    client.delete(keys.leader())  # a's lease ran out
    assert b.try_take() and b.token == 2
    with pytest.raises(LeaseLostError, match="stale"):
        a.check()
    b.check()
    b.release()
    assert client.get(keys.leader()) is None


def test_renewal_keeps_only_our_own_lease(client: fakeredis.FakeRedis) -> None:
    keys = Keys("t")
    lost = threading.Event()
    a = Lease(client, keys, 3, on_lost=lost.set)
    assert a.try_take()
    a._lease_ms = 300  # renew every 0.1 s
    a._start_renewing()
    assert client.pttl(keys.leader()) > 0
    client.set(keys.leader(), "someone-else#9")  # a newer leader took it
    assert lost.wait(3)
    assert a.lost
    with pytest.raises(LeaseLostError):
        a.check()
    a.release()
    assert client.get(keys.leader()) == "someone-else#9"  # never releases another's


def test_a_claimed_run_starts_once_and_a_lost_one_is_closed_once(
    client: fakeredis.FakeRedis,
) -> None:
    keys = Keys("t")
    rid = "r1"

    def claim(holder: str) -> str:
        ks = (keys.closed(rid), keys.claim(rid), keys.started(rid))
        return str(client.eval(CLAIM, 3, *ks, holder, 1000, STARTED_TTL_MS))

    def check() -> str:
        ks = (keys.claim(rid), keys.started(rid), keys.closed(rid))
        return str(client.eval(LOST, 3, *ks, CLOSED_TTL_MS))

    assert check() == "queued"  # not started: it waits
    assert claim("w1|1") == "ok"
    assert claim("w2|2") == "started"  # a second delivery never runs it again
    assert check() == "running"
    client.delete(keys.claim(rid))  # w1 died: its heartbeat stopped
    assert check() == "lost"
    assert client.exists(keys.closed(rid))
    assert claim("w3|3") == "closed"  # a redelivery after the record: refused


def test_executor_settings_are_validated(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert CliRunner().invoke(cli, ["init", str(home)]).exit_code == 0
    config = json.loads((home / "config.json").read_text())
    before = (home / "config.json").read_text()
    cases = {
        '"celery" needs a broker': {"kind": "celery"},
        "keep one": {"kind": "celery", "broker_url": "redis://h/0", "broker_url_env": "AMGR_B"},
        "is not a redis:// URL": {"kind": "celery", "broker_url": "amqp://h//"},
        "routed to both": {
            "kind": "celery",
            "broker_url": "redis://h/0",
            "queues": {"a": ["blog"], "b": ["blog"]},
        },
    }
    for message, executor in cases.items():
        (home / "config.json").write_text(json.dumps({**config, "executor": executor}))
        result = CliRunner().invoke(cli, ["--home", str(home), "validate"])
        assert result.exit_code == 2, result.output
        assert "config.json: executor" in result.output and message in result.output
    (home / "config.json").write_text(before)
    result = CliRunner().invoke(cli, ["--home", str(home), "status", "--json"])
    assert "executor" not in json.loads(result.output)  # local: status unchanged
    result = CliRunner().invoke(cli, ["--home", str(home), "worker"])
    assert result.exit_code == 2 and 'executor.kind: is "local"' in result.output


def test_broker_url_from_env_is_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automation_manager.config import load_workspace
    from automation_manager.distributed.settings import broker_url, shown_url
    from automation_manager.home import Home
    from automation_manager.secrets import REGISTRY

    home = tmp_path / "home"
    assert CliRunner().invoke(cli, ["init", str(home)]).exit_code == 0
    config = json.loads((home / "config.json").read_text())
    config["executor"] = {"kind": "celery", "broker_url_env": "AMGR_BROKER_URL"}
    (home / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("AMGR_BROKER_URL", "redis://:s3cret-pass-word@10.0.0.5:6379/0")
    url = broker_url(load_workspace(Home(home)).config)
    assert "s3cret-pass-word" not in REGISTRY.mask(f"connecting to {url}")
    assert shown_url(url) == "redis://:***@10.0.0.5:6379/0"
    monkeypatch.delenv("AMGR_BROKER_URL")
    result = CliRunner().invoke(cli, ["--home", str(home), "worker"])
    assert result.exit_code == 2 and "AMGR_BROKER_URL is not set" in result.output


def _ask(rid: str, task: str, **over: Any) -> Any:
    from automation_manager.distributed.reserve import Ask

    fields: dict[str, Any] = {
        "record_id": rid,
        "task_id": task,
        "day": "2026-12-01",
        "stored": True,
        "content": 1,
        "ebooks": 0,
        "cost_usd": 0.0,
        "made_content": 0,
        "made_ebooks": 0,
        "max_content": 5,
        "max_ebooks": None,
        "spent_usd": 0.0,
        "budget_usd": None,
        "created_at": "2026-12-01T10:00:00+00:00",
    }
    return Ask(**{**fields, **over})


def test_reservations_never_pass_the_quota_from_many_threads_and_settle_counts_once(
    client: fakeredis.FakeRedis,
) -> None:
    from automation_manager.distributed.reserve import RedisReservations

    # two "schedulers" of one namespace, each its own client, as on two machines
    a, b = RedisReservations(client, Keys("t")), RedisReservations(client, Keys("t"))
    results: list[object] = []
    barrier = threading.Barrier(20)

    def go(i: int) -> None:
        barrier.wait()
        results.append((a if i % 2 else b).reserve(_ask(f"r{i}", f"task-{i}")))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [r for r in results if r is not None]
    assert len(refused) == 15 and {r.limit for r in refused} == {"content"}  # type: ignore[attr-defined]
    held = a.held("2026-12-01")
    assert held[0] == 5
    winners = sorted(held[3])
    # the records settle: counted once into the day's totals, even when settled twice
    for rid in winners:
        assert a.settle(rid, (1, 0, 0.0), "2026-12-01")
    assert not b.settle(winners[0], (1, 0, 0.0), "2026-12-01")
    assert client.hget("t:adm:2026-12-01:made", "content") == "5"
    assert a.held("2026-12-01")[0] == 0
    # a scheduler whose own log shows nothing made still sees the five settled ones
    again = b.reserve(_ask("late", "task-late"))
    assert again is not None and again.limit == "content" and again.made == 5


def test_budget_overlap_and_stale_reservations(client: fakeredis.FakeRedis, tmp_path: Path) -> None:
    from automation_manager.distributed.reserve import RedisReservations
    from automation_manager.logs.records import Usage

    res = RedisReservations(client, Keys("t"))
    budget = {"content": 0, "max_content": None, "budget_usd": 1.0, "spent_usd": 0.2}
    assert res.reserve(_ask("r1", "a", cost_usd=0.5, **budget)) is None
    refused = res.reserve(_ask("r2", "b", cost_usd=0.5, **budget))
    assert refused is not None and refused.limit == "budget" and refused.held_usd == 0.5
    res.progress("r1", Usage(cost_usd=0.7, calls=1))  # spent more than reserved so far
    spent = res.spent_by("r1")
    assert spent is not None and spent.cost_usd == 0.7 and spent.calls == 1
    assert res.reserve(_ask("r3", "c", cost_usd=0.05, **budget)) is None  # 0.2+0.7+0.05
    refused = res.reserve(_ask("r4", "d", cost_usd=0.1, **budget))
    assert refused is not None and refused.held_usd == pytest.approx(0.75)
    # one task never holds two reservations
    overlap = res.reserve(_ask("r5", "a", content=0, max_content=None))
    assert overlap is not None and overlap.limit == "overlap" and overlap.holder == "r1"
    # a reservation of a process that is gone, with no in-flight note, is dropped
    client.hset("t:adm:rec:r1", "pid", "999999999")
    (tmp_path / "inflight").mkdir()
    (tmp_path / "inflight" / "r3.json").write_text("{}")
    client.hset("t:adm:rec:r3", "pid", "999999999")
    res._stale_at = 0.0  # looks at most every STALE_EVERY_S
    assert res.drop_stale(tmp_path / "inflight") == 1  # r3 waits for its recovery record
    assert res.reserve(_ask("r6", "a", content=0, max_content=None)) is None


def test_the_ledger_in_redis_one_claim_per_pair_and_a_crashed_intent_stays_uncertain(
    client: fakeredis.FakeRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from filelock import Timeout

    from automation_manager.distributed import pairs as pairs_mod
    from automation_manager.distributed.pairs import RedisPairs
    from automation_manager.home import Home
    from automation_manager.publishers import ledger as ledger_mod
    from automation_manager.publishers.ledger import Ledger, PairState

    shared = RedisPairs(client, "t")
    monkeypatch.setattr(ledger_mod, "REMOTE", lambda _home: shared)
    monkeypatch.setattr(pairs_mod, "LOCK_MS", 300)
    # two workers, each with a home (and a ledger file) of its own
    one, two = Ledger(Home(tmp_path / "w1")), Ledger(Home(tmp_path / "w2"))
    now = datetime(2026, 12, 1, 10, tzinfo=UTC)
    with one.claim("item-1", "hook") as pair:
        assert pair.state is PairState.NEW
        with pytest.raises(Timeout), two.claim("item-1", "hook", timeout=0.2):
            pass  # held by the first worker
        one.record("intent", "item-1", "hook", now)
    # the first worker died after its request left: the next claimer must reconcile
    with two.claim("item-1", "hook") as pair:
        assert pair.state is PairState.UNCERTAIN
        two.record("done", "item-1", "hook", now, remote_id="r-1", url="https://x/1")
    assert one.pair("item-1", "hook").state is PairState.DONE  # every worker's word
    assert one.posted_times("hook") == [now]
    assert not (tmp_path / "w1" / ".mp" / "publish" / "ledger.jsonl").read_text().count("done")
    # a claim whose holder stopped renewing it lapses
    lock = "t:ledger:lock:item-2@hook"
    client.set(lock, "dead-worker", px=300)
    with two.claim("item-2", "hook", timeout=5) as pair:
        assert pair.state is PairState.NEW
    assert client.get(lock) is None


def test_returned_files_stay_inside_the_home_and_a_newer_copy_is_kept(tmp_path: Path) -> None:
    import base64
    import os

    from automation_manager.distributed.artifacts import collect, unpack
    from automation_manager.home import Home

    worker, scheduler = Home(tmp_path / "worker"), Home(tmp_path / "scheduler")
    item = worker.mp / "content" / "blog-1"
    item.mkdir(parents=True)
    (item / "item.json").write_text('{"status": "pending"}')
    (item / "post.md").write_text("# hello")
    (worker.mp / "publish").mkdir()
    (worker.mp / "publish" / "ledger.jsonl").write_text("{}\n")  # not a run's artifact
    manifest = collect(worker, 0)
    assert sorted(f["path"] for f in manifest["files"]) == [
        "content/blog-1/item.json",
        "content/blog-1/post.md",
    ]
    assert unpack(scheduler, manifest, record_id="r1") == 2
    assert (scheduler.mp / "content" / "blog-1" / "post.md").read_text() == "# hello"
    # the scheduler changed item.json since (a person approved it): it is kept
    approved = scheduler.mp / "content" / "blog-1" / "item.json"
    approved.write_text('{"status": "approved"}')
    later = approved.stat().st_mtime_ns + 5_000_000_000
    os.utime(approved, ns=(later, later))
    assert unpack(scheduler, manifest, record_id="r1") == 1
    assert "approved" in approved.read_text()
    # nothing lands outside .mp's run folders
    evil = [
        {"path": p, "data": base64.b64encode(b"x").decode()}
        for p in ("../config.json", "/etc/passwd", "state/amgr.db", "content/../../x", ".hidden")
    ]
    assert unpack(scheduler, {"files": evil}, record_id="r2") == 0
    assert not (tmp_path / "config.json").exists() and not (scheduler.mp / "state").exists()


def test_a_settle_redis_missed_is_sent_again_and_frees_the_task(
    client: fakeredis.FakeRedis, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from automation_manager.config import load_workspace
    from automation_manager.distributed.reserve import RedisReservations
    from automation_manager.engine.admission import Admission
    from automation_manager.engine.outcomes import skipped_record
    from automation_manager.enums import Trigger
    from automation_manager.errors import SkipRun
    from automation_manager.home import Home

    home = tmp_path / "home"
    assert CliRunner().invoke(cli, ["init", str(home)]).exit_code == 0
    tasks = [{"id": f"blog-{i}", "type": "blog", "topic": "x"} for i in range(2)]
    (home / "tasks.json").write_text(json.dumps({"content_creation": tasks}))
    ws = load_workspace(Home(home))
    admission = Admission(ws.home)
    remote = RedisReservations(client, Keys("t"))
    admission._remote, admission._remote_known = remote, True  # Redis, as with celery
    now = datetime(2026, 12, 1, 10, tzinfo=UTC)
    first = ws.tasks[0]

    def admit(spec: Any, rid: str) -> None:
        admission.admit(ws, spec, trigger=Trigger.SCHEDULED, params={}, record_id=rid, now=now)

    admit(first, "r1")
    with pytest.raises(SkipRun, match="already running"):
        admit(first, "r2")
    real = remote.settle
    remote.settle = lambda *a, **k: (_ for _ in ()).throw(ConnectionError("redis away"))  # type: ignore[method-assign]
    record = skipped_record(
        first, now=now, trigger=Trigger.SCHEDULED, scheduled_for=None, reason="x"
    )
    admission.settle(dataclasses.replace(record, id="r1"), now)
    assert client.hget("t:adm:tasks", first.id) == "r1"  # Redis missed it
    remote.settle = real  # type: ignore[method-assign]
    admit(ws.tasks[1], "r3")  # the next admission sends it again first
    assert client.hget("t:adm:tasks", first.id) is None
    admit(first, "r4")
