"""Runs on Celery workers over a real Debian ``redis-server`` (issue 18).

Each test starts ``redis-server`` on a free loopback port in a throwaway folder, real
``amgr worker`` subprocesses and, where the daemon matters, real ``amgr run``
subprocesses; it reads the run log to check the promises: one record per firing, a
killed worker's run recorded ``interrupted``, a standby scheduler taking over, a stale
leader's writes refused, quotas held under concurrent sends, a broker restart survived.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_platforms import HOOK_SECRET, FakeWebhook, add_item, running, webhook_config
from openai_server import FakeOpenAI

from automation_manager.cli import cli

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS is None,
    reason="redis-server is not installed (Debian package redis-server; scripts/test.sh "
    "installs it when run as root)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A real redis-server on 127.0.0.1 (append-only file on: a restart keeps the queue)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                *(REDIS, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--dir", str(self.folder), "--save", "", "--appendonly", "yes"),
                *("--appendfsync", "always"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, 10, "redis-server to answer")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def client(self) -> Any:
        import redis

        return redis.Redis(port=self.port, decode_responses=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def wait_for(check: Callable[[], object], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def make_home(
    tmp_path: Path,
    url: str,
    tasks: list[dict[str, Any]],
    *,
    llm: dict[str, Any] | None = None,
    **executor: Any,
) -> Path:
    home = tmp_path / "home"
    result = CliRunner().invoke(cli, ["init", str(home)])
    assert result.exit_code == 0, result.output
    config = json.loads((home / "config.json").read_text())
    config["executor"] = {
        "kind": "celery",
        "broker_url": url,
        "heartbeat_s": 0.3,
        "lease_s": 3,
        **executor,
    }
    config["max_daily_content"] = 1000
    config["auto_approve_offline"] = True  # offline drafts go out without review (testing)
    config["llm"] = llm or {"provider": "offline"}
    config["shutdown_grace_s"] = 1
    (home / "config.json").write_text(json.dumps(config))
    (home / "tasks.json").write_text(json.dumps({"content_creation": tasks}))
    (home / "schedules.json").write_text("{}")
    return home


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("AMGR_", "OPENAI_"))}
    out["OPENAI_API_KEY"] = "sk-test-distributed-0123456789"
    out["PYTHONUNBUFFERED"] = "1"
    return out


class Proc:
    """An amgr subprocess in its own process group (kill -9 takes all of it)."""

    def __init__(
        self, home: Path, args: list[str], log: Path, extra: dict[str, str] | None = None
    ) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "automation_manager", "--home", str(home), *args],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env={**env(), **(extra or {})},
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._out.close()
        return int(self.proc.returncode)


@pytest.fixture
def procs() -> Iterator[Callable[..., Proc]]:
    started: list[Proc] = []

    def start(home: Path, *args: str, name: str, extra: dict[str, str] | None = None) -> Proc:
        proc = Proc(home, list(args), home.parent / f"{name}.log", extra)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            proc.stop(signal.SIGKILL)


def start_worker(
    procs: Callable[..., Proc],
    home: Path,
    redis: RedisServer,
    name: str,
    *extra: str,
    env_extra: dict[str, str] | None = None,
) -> Proc:
    args = ("worker", "--name", name, "--concurrency", "2", *extra)
    worker = procs(home, *args, name=name, extra=env_extra)
    client = redis.client()
    wait_for(lambda: client.exists(f"amgr:worker:{name}"), 30, f"worker {name} to be up")
    wait_for(lambda: "ready" in worker.text(), 30, f"worker {name} to be ready")
    return worker


def records(home: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for day in sorted((home / ".mp" / "automation" / "logs").glob("*.jsonl")):
        out += [json.loads(line) for line in day.read_text().splitlines() if line.strip()]
    return out


def firings(recs: list[dict[str, Any]]) -> Counter[tuple[str, str, int]]:
    return Counter((r["task_id"], r["scheduled_for"], r["attempt"]) for r in recs)


def test_runs_go_to_workers_and_are_recorded_once(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    home = make_home(
        tmp_path,
        redis_server.url,
        [{"id": "blog-fast", "type": "blog", "topic": "work", "schedule": {"interval": "1s"}}],
        queues={"content": ["blog"]},
    )
    start_worker(procs, home, redis_server, "w1", "--queues", "content")
    daemon = procs(home, "run", name="daemon")
    wait_for(lambda: len(records(home)) >= 3, 30, "three records")
    assert daemon.stop(signal.SIGTERM) == 0
    recs = records(home)
    assert all(r["status"] == "success" for r in recs), recs
    assert max(firings(recs).values()) == 1  # one record per firing
    for rec in recs:  # the worker made the content, in the home's content folder
        assert (home / ".mp" / "content" / rec["result"]["content_id"]).is_dir()
    assert not list((home / ".mp" / "state" / "inflight").glob("*.json"))
    worker_log = (tmp_path / "w1.log").read_text()
    assert "amgr.content" in worker_log and f"{recs[0]['id']}] succeeded" in worker_log
    # status shows the executor, the live worker and the queue depth
    result = CliRunner().invoke(cli, ["--home", str(home), "status", "--json"])
    assert result.exit_code == 0, result.output
    executor = json.loads(result.output)["executor"]
    assert executor["kind"] == "celery" and executor["reachable"] is True
    assert [w["name"] for w in executor["workers"]] == ["w1"]
    assert executor["workers"][0]["queues"] == ["content"]
    assert executor["queues"]["content"] == 0
    text = CliRunner().invoke(cli, ["--home", str(home), "status"]).output
    assert "executor: celery on redis://127.0.0.1" in text and "w1" in text
    # check tests the broker and lists the live workers
    result = CliRunner().invoke(cli, ["--home", str(home), "check", "--json"])
    broker = json.loads(result.output)["broker"]
    assert broker["ok"] is True and broker["workers"] == ["w1"], result.output


def test_worker_killed_mid_run_is_recorded_interrupted_and_nothing_doubles(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    with FakeOpenAI(delay=3.0) as server:
        home = make_home(
            tmp_path,
            redis_server.url,
            [{"id": "slow-blog", "type": "blog", "topic": "focus", "schedule": {"interval": "1s"}}],
            llm={"provider": "openai", "base_url": server.url, "max_retries": 0},
        )
        w1 = start_worker(procs, home, redis_server, "w1")
        daemon = procs(home, "run", name="daemon")
        client = redis_server.client()
        wait_for(lambda: list(client.scan_iter("amgr:run:*:claim")), 30, "a run on w1")
        time.sleep(0.5)  # mid-run: the model answers after 3 s
        w1.kill9()
        killed_at = time.time()
        server.delay = 0.0
        start_worker(procs, home, redis_server, "w2")
        lost = wait_for(
            lambda: [r for r in records(home) if r["status"] == "interrupted"],
            20,
            "the killed run's interrupted record",
        )
        assert time.time() - killed_at < 60
        assert "stopped heartbeating" in lost[0]["error"]
        wait_for(lambda: any(r["status"] == "success" for r in records(home)), 30, "a run on w2")
        daemon.stop(signal.SIGTERM)
    recs = records(home)
    assert max(firings(recs).values()) == 1, firings(recs)
    assert Counter(r["id"] for r in recs).most_common(1)[0][1] == 1
    assert len(lost) == 1


def test_standby_scheduler_takes_over_and_stale_writes_are_refused(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    home = make_home(
        tmp_path,
        redis_server.url,
        [{"id": "blog-fast", "type": "blog", "topic": "x", "schedule": {"interval": "1s"}}],
    )
    start_worker(procs, home, redis_server, "w1")
    first = procs(home, "run", name="first")
    wait_for(lambda: records(home), 30, "the first scheduler's records")
    second = procs(home, "run", name="second")
    wait_for(lambda: "standby" in second.text(), 30, "the second scheduler to stand by")
    first.kill9()
    killed_at = time.time()
    wait_for(lambda: "scheduler lease taken" in second.text(), 15, "the standby to take over")
    assert time.time() - killed_at <= 15
    before = len(records(home))
    wait_for(lambda: len(records(home)) >= before + 2, 30, "runs of the new leader")
    assert second.stop(signal.SIGTERM) == 0
    assert max(firings(records(home)).values()) == 1

    # The first leader's token is stale now: its recorder refuses to write.
    from automation_manager.config import load_workspace
    from automation_manager.distributed.lease import lease_for
    from automation_manager.engine.clock import system_clock
    from automation_manager.engine.outcomes import skipped_record
    from automation_manager.engine.runner import command_recorder
    from automation_manager.enums import Trigger
    from automation_manager.errors import LeaseLostError
    from automation_manager.home import Home

    ws = load_workspace(Home(home))
    stale, fresh = lease_for(ws.config, lambda: None), lease_for(ws.config, lambda: None)
    assert stale is not None and fresh is not None
    assert stale.try_take()
    redis_server.client().delete("amgr:leader")  # its lease ran out while it was paused
    assert fresh.try_take() and fresh.token > stale.token
    with pytest.raises(LeaseLostError):
        stale.check()
    clock = system_clock("UTC")
    recorder = command_recorder(ws, clock)
    recorder.guard = stale.check
    spec = ws.tasks[0]
    late = skipped_record(
        spec, now=clock(), trigger=Trigger.SCHEDULED, scheduled_for=None, reason="late"
    )
    count = len(records(home))
    assert recorder.write(late) is False
    assert len(records(home)) == count and "lost its lease" in recorder.last_error
    recorder.guard = fresh.check
    assert recorder.write(late) is True
    assert len(records(home)) == count + 1
    fresh.release()


def send_at_once(schedulers: list[tuple[Any, Any, Any]], count: int) -> list[str]:
    """Send the first ``count`` tasks at once (a barrier), task i through scheduler
    ``i % len(schedulers)`` (workspace, recorder, RemoteRuns); the records' statuses."""
    from automation_manager.engine.pool import Ticket
    from automation_manager.enums import Trigger
    from automation_manager.logs.records import new_record_id

    statuses: list[str] = []
    barrier = threading.Barrier(count)

    def send(i: int) -> None:
        ws, recorder, remote = schedulers[i % len(schedulers)]
        ticket = Ticket(ws.tasks[i], Trigger.SCHEDULED, datetime.now().astimezone())
        barrier.wait()
        attempt = remote.perform(ticket, new_record_id(), threading.Event())
        assert recorder.write(attempt.record)
        statuses.append(attempt.record.status)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return statuses


def test_quota_holds_under_twenty_concurrent_sends(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    tasks = [{"id": f"blog-{i:02d}", "type": "blog", "topic": f"t{i}"} for i in range(20)]
    home = make_home(tmp_path, redis_server.url, tasks)
    config = json.loads((home / "config.json").read_text())
    config["max_daily_content"] = 5
    (home / "config.json").write_text(json.dumps(config))
    start_worker(procs, home, redis_server, "w1", "--concurrency", "4")

    from automation_manager.config import load_workspace
    from automation_manager.distributed.remote import RemoteRuns
    from automation_manager.engine.clock import system_clock
    from automation_manager.engine.runner import command_recorder
    from automation_manager.home import Home

    ws = load_workspace(Home(home))
    clock = system_clock("UTC")
    recorder = command_recorder(ws, clock)
    remote = RemoteRuns(lambda: ws, recorder, clock)
    statuses = send_at_once([(ws, recorder, remote)], 20)
    assert Counter(statuses) == {"success": 5, "skipped": 15}
    assert remote.sent == 5  # a skipped run is never sent
    recs = records(home)
    assert sum(r["status"] == "success" for r in recs) == 5
    assert all("max_daily_content" in r["error"] for r in recs if r["status"] == "skipped")
    day = clock().date().isoformat()  # the day in the home's timezone, as admission counts
    assert redis_server.client().hget(f"amgr:adm:{day}:made", "content") == "5"


def test_broker_restart_skips_then_resumes_and_says_so_once(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    home = make_home(
        tmp_path,
        redis_server.url,
        [{"id": "blog-fast", "type": "blog", "topic": "x", "schedule": {"interval": "1s"}}],
    )
    start_worker(procs, home, redis_server, "w1")
    daemon = procs(home, "run", name="daemon")
    wait_for(lambda: records(home), 30, "a first record")
    redis_server.stop()
    result = CliRunner().invoke(cli, ["--home", str(home), "check", "--json"])
    assert result.exit_code == 1
    broker = json.loads(result.output)["broker"]
    assert broker["ok"] is False and "cannot reach" in broker["detail"]
    status = CliRunner().invoke(cli, ["--home", str(home), "status"]).output
    assert "UNREACHABLE: cannot reach the broker" in status
    wait_for(
        lambda: [r for r in records(home) if "broker unreachable" in (r["error"] or "")],
        30,
        "a firing skipped for the broker",
    )
    redis_server.start()
    mark = len(records(home))
    wait_for(
        lambda: any(r["status"] == "success" for r in records(home)[mark:]),
        40,
        "a run after the broker came back",
    )
    daemon.stop(signal.SIGTERM)
    text = daemon.text()
    assert text.count("broker unreachable (") == 1, text
    assert text.count("broker reachable again") == 1, text
    assert max(firings(records(home)).values()) == 1


def test_two_workers_publishing_the_same_pending_queue_post_each_item_once(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    home = make_home(tmp_path, redis_server.url, [])
    for i in range(4):  # four pending blog posts, made here (exec-now runs in-process)
        result = CliRunner().invoke(
            cli, ["--home", str(home), "exec-now", "content_creation", "blog", "-p", f"topic=t{i}"]
        )
        assert result.exit_code == 0, result.output
    every = {"interval": "2s"}
    tasks = {
        "publishing": [
            {"id": "publish-a", "type": "pending", "schedule": every},
            {"id": "publish-b", "type": "pending", "schedule": every},
        ]
    }
    (home / "tasks.json").write_text(json.dumps(tasks))
    start_worker(procs, home, redis_server, "w1", "--concurrency", "1")
    start_worker(procs, home, redis_server, "w2", "--concurrency", "1")
    daemon = procs(home, "run", name="daemon")
    wait_for(
        lambda: len([r for r in records(home) if r["task_id"].startswith("publish")]) >= 4,
        30,
        "two rounds of both publishing tasks",
    )
    daemon.stop(signal.SIGTERM)
    posted = sorted((home / "site" / "content").rglob("*.md"))
    assert len(posted) == 4, posted  # one post per item, whichever worker ran it
    ledger = [
        json.loads(line)
        for line in (home / ".mp" / "publish" / "ledger.jsonl").read_text().splitlines()
    ]
    done = Counter((e["item"], e["platform"]) for e in ledger if e["event"] == "done")
    assert len(done) == 4 and set(done.values()) == {1}, done
    w1, w2 = (tmp_path / "w1.log").read_text(), (tmp_path / "w2.log").read_text()
    assert "succeeded" in w1 and "succeeded" in w2  # both workers published


def test_timeout_is_recorded_once_and_stops_the_run_on_the_worker(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    with FakeOpenAI(delay=8.0) as server:
        task = {"id": "slow", "type": "blog", "topic": "x", "timeout_s": 1, "max_retries": 0}
        home = make_home(
            tmp_path,
            redis_server.url,
            [{**task, "schedule": {"interval": "1h", "misfire": "once"}}],
            llm={"provider": "openai", "base_url": server.url, "max_retries": 0},
        )
        state = home / ".mp" / "state"  # its last due time an hour ago: one catch-up run
        state.mkdir(parents=True)
        ago = (datetime.now().astimezone() - timedelta(minutes=61)).isoformat()
        (state / "schedule.json").write_text(
            json.dumps({"version": 1, "tasks": {"slow": {"last_due": ago}}})
        )
        worker = start_worker(procs, home, redis_server, "w1")
        daemon = procs(home, "run", name="daemon")
        [rec] = wait_for(lambda: records(home), 30, "the timeout's record")
        # Celery's soft limit fires 1 s into the run on the worker; a loaded CI machine
        # may take a while to start that worker process's first task
        wait_for(lambda: "SoftTimeLimitExceeded" in worker.text(), 45, "the worker to stop it")
        daemon.stop(signal.SIGTERM)
    assert rec["status"] == "failed" and "timeout_s (1 s)" in rec["error"]
    assert len(records(home)) == 1  # the worker's late answer is discarded


def test_budget_holds_under_twenty_concurrent_sends_from_two_schedulers(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    """Two schedulers with homes of their own (a standby on another machine, a manual
    ``exec-now`` elsewhere) reserve against one budget in Redis: never more than fits."""
    from automation_manager.config import load_workspace
    from automation_manager.distributed.remote import RemoteRuns
    from automation_manager.engine.clock import system_clock
    from automation_manager.engine.runner import command_recorder
    from automation_manager.home import Home
    from automation_manager.llm.budget import SAFETY, run_cost
    from automation_manager.tasktypes import REGISTRY

    with FakeOpenAI(delay=1.5) as server:
        tasks = [{"id": f"blog-{i:02d}", "type": "blog", "topic": f"t{i}"} for i in range(20)]
        llm = {"provider": "openai", "base_url": server.url, "model": "gpt-4o", "max_retries": 0}
        homes = [make_home(tmp_path / name, redis_server.url, tasks, llm=llm) for name in "ab"]
        ws = load_workspace(Home(homes[0]))
        estimate = run_cost(ws.config.llm, REGISTRY.get(ws.tasks[0].category, "blog"), {})
        assert estimate > 0
        budget = round(SAFETY * estimate * 4.5, 6)  # room for four runs' estimates
        for home in homes:
            config = json.loads((home / "config.json").read_text())
            config["llm"]["daily_budget_usd"] = budget
            (home / "config.json").write_text(json.dumps(config))
        start_worker(procs, homes[0], redis_server, "w1", "--concurrency", "4")
        clock = system_clock("UTC")
        remotes = []
        for home in homes:
            one = load_workspace(Home(home))
            recorder = command_recorder(one, clock)
            remotes.append((one, recorder, RemoteRuns(lambda one=one: one, recorder, clock)))
        statuses = send_at_once(remotes, 20)
    assert Counter(statuses) == {"success": 4, "skipped": 16}, Counter(statuses)
    recs = records(homes[0]) + records(homes[1])
    assert all("daily_budget_usd" in r["error"] for r in recs if r["status"] == "skipped")
    assert sum(r["usage"]["cost_usd"] for r in recs if r["usage"]) <= budget
    client = redis_server.client()
    day = datetime.now(UTC).date().isoformat()
    assert float(client.hget(f"amgr:adm:{day}:made", "usd")) > 0  # settled into Redis
    assert not client.hgetall(f"amgr:adm:{day}:cost")  # nothing left reserved


def hook_homes(
    tmp_path: Path, url: str, hook_url: str, tasks: dict[str, Any], workers: int, items: int
) -> tuple[Path, list[Path], list[str]]:
    """A scheduler's home with ``items`` pending posts for a webhook, and ``workers``
    copies of it in other folders (each worker's own home, as on another machine)."""
    home = make_home(tmp_path / "scheduler", url, [])
    config = json.loads((home / "config.json").read_text())
    config["platforms"] = {"hook": webhook_config(hook_url)}
    (home / "config.json").write_text(json.dumps(config))
    (home / "tasks.json").write_text(json.dumps(tasks))
    ids = [add_item(home, title=f"Post number {i}") for i in range(items)]
    copies = []
    for n in range(workers):
        copy = tmp_path / f"machine{n + 1}" / "home"
        shutil.copytree(home, copy)
        copies.append(copy)
    return home, copies, ids


def content_posts(hook: FakeWebhook) -> Counter[str]:
    return Counter(
        r.json()["item"]["id"]
        for r in hook.routed("POST /hook")
        if r.headers.get("x-amgr-event") == "content"
    )


def test_two_workers_with_homes_of_their_own_publish_each_item_once_and_files_come_back(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    every = {"interval": "2s"}
    tasks = {
        "publishing": [
            {"id": "publish-a", "type": "pending", "schedule": every},
            {"id": "publish-b", "type": "pending", "schedule": every},
        ]
    }
    secret = {"AMGR_HOOK_SECRET": HOOK_SECRET}
    with running(FakeWebhook(secret=HOOK_SECRET)) as hook:
        home, (m1, m2), ids = hook_homes(tmp_path, redis_server.url, hook.url, tasks, 2, 4)
        start_worker(procs, m1, redis_server, "w1", "--concurrency", "1", env_extra=secret)
        start_worker(procs, m2, redis_server, "w2", "--concurrency", "1", env_extra=secret)
        daemon = procs(home, "run", name="daemon", extra=secret)
        wait_for(lambda: len(content_posts(hook)) >= 4, 40, "every item posted")
        wait_for(
            lambda: all(
                json.loads((home / ".mp" / "content" / i / "item.json").read_text())
                .get("published", {})
                .get("hook")
                for i in ids
            ),
            30,
            "the scheduler's home to have every item's publish result",
        )
        daemon.stop(signal.SIGTERM)
    posts = content_posts(hook)
    assert sorted(posts) == sorted(ids) and set(posts.values()) == {1}, posts  # one post each
    recs = [r for r in records(home) if r["task_id"].startswith("publish")]
    assert recs and max(firings(recs).values()) == 1  # recorded here, by the scheduler
    for machine in (m1, m2):  # the workers keep no run log of their own
        assert not list((machine / ".mp" / "automation" / "logs").glob("*.jsonl"))
    client = redis_server.client()  # the ledger's word is in Redis: one done per pair
    for item in ids:
        events = [
            json.loads(e)["event"] for e in client.lrange(f"amgr:ledger:ev:{item}@hook", 0, -1)
        ]
        assert events.count("done") == 1 and events.count("intent") == 1, events


def stalled_publish_run(
    tmp_path: Path,
    redis_server: RedisServer,
    procs: Callable[..., Proc],
    hook: FakeWebhook,
    items: int,
) -> tuple[Path, list[str], Proc, threading.Event, str]:
    """A ``publishing pending`` run of ``items`` posts on a worker with a home of its
    own, its first post held by the webhook: (scheduler home, item ids, daemon, the
    event that lets the post answer, the run's id)."""
    tasks = {"publishing": [{"id": "publish", "type": "pending", "schedule": {"interval": "2s"}}]}
    secret = {"AMGR_HOOK_SECRET": HOOK_SECRET}
    home, (machine,), ids = hook_homes(tmp_path, redis_server.url, hook.url, tasks, 1, items)
    release = hook.stall("POST /hook")  # the first post waits for the test
    start_worker(procs, machine, redis_server, "w1", env_extra=secret)
    daemon = procs(home, "run", name="daemon", extra=secret)
    assert hook.stalled.wait(40), "the worker's first post"
    [note] = wait_for(lambda: list((home / ".mp" / "state" / "inflight").glob("*.json")), 10, "")
    return home, ids, daemon, release, json.loads(note.read_text())["record_id"]


def test_pause_and_resume_reach_a_worker_with_a_home_of_its_own(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    with running(FakeWebhook(secret=HOOK_SECRET)) as hook:
        home, ids, daemon, release, run_id = stalled_publish_run(
            tmp_path, redis_server, procs, hook, 3
        )
        # the scheduler has no file of this run: it runs on the worker's machine
        assert not (home / ".mp" / "runs" / f"{run_id}.json").exists()
        result = CliRunner().invoke(cli, ["--home", str(home), "runs", "pause", run_id[:12]])
        assert result.exit_code == 0, result.output
        assert "pause asked" in result.output
        release.set()
        run_file = home / ".mp" / "runs" / f"{run_id}.json"
        paused = wait_for(
            lambda: run_file.exists() and json.loads(run_file.read_text())["status"] == "paused",
            30,
            "the paused run's file to come back",
        )
        assert paused
        wait_for(  # firings meanwhile are skipped: the run is paused
            lambda: any("is paused" in (r["error"] or "") for r in records(home)),
            30,
            "a firing skipped for the paused run",
        )
        assert sum(content_posts(hook).values()) == 1
        result = CliRunner().invoke(cli, ["--home", str(home), "runs", "resume", run_id])
        assert result.exit_code == 0, result.output
        wait_for(lambda: len(content_posts(hook)) == 3, 40, "the resumed run's other posts")
        wait_for(
            lambda: json.loads(run_file.read_text())["status"] == "completed",
            30,
            "the completed run's file",
        )
        daemon.stop(signal.SIGTERM)
    posts = content_posts(hook)
    assert sorted(posts) == sorted(ids) and set(posts.values()) == {1}, posts
    state = json.loads(run_file.read_text())
    assert len(state["attempts"]) >= 2  # the resumed run continued on the worker
    log_text = (home / ".mp" / "runs" / f"{run_id}.log").read_text()
    assert "paused" in log_text and "resumed by user" in log_text


def test_cancel_reaches_a_worker_with_a_home_of_its_own(
    tmp_path: Path, redis_server: RedisServer, procs: Callable[..., Proc]
) -> None:
    with running(FakeWebhook(secret=HOOK_SECRET)) as hook:
        home, ids, daemon, release, run_id = stalled_publish_run(
            tmp_path, redis_server, procs, hook, 2
        )
        result = CliRunner().invoke(cli, ["--home", str(home), "runs", "cancel", run_id])
        assert result.exit_code == 0 and "cancel asked" in result.output, result.output
        release.set()
        run_file = home / ".mp" / "runs" / f"{run_id}.json"
        wait_for(
            lambda: run_file.exists() and json.loads(run_file.read_text())["status"] == "cancelled",
            30,
            "the cancelled run's file to come back",
        )
        # a cancelled run is not continued: the next firing starts a new run for the rest
        wait_for(lambda: len(content_posts(hook)) == 2, 40, "the other item, by a new run")
        daemon.stop(signal.SIGTERM)
    posts = content_posts(hook)
    assert sorted(posts) == sorted(ids) and set(posts.values()) == {1}, posts
    assert json.loads(run_file.read_text())["status"] == "cancelled"
    assert not redis_server.client().exists(f"amgr:run:{run_id}:control")  # taken
