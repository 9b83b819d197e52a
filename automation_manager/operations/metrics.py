"""Prometheus metrics for ``amgr run --metrics HOST:PORT`` (or config ``metrics.listen``).

Everything is computed when Prometheus scrapes, by a custom ``prometheus_client``
collector: the run log is followed by byte offset (only lines appended since the last
scrape are read), and today's spend and quota come from the admission state. Between
scrapes nothing runs: the HTTP server's thread sleeps in one ``select()`` with no
timeout, so an idle daemon with metrics on costs no CPU.

Metrics (all prefixed ``amgr_``): ``runs_total{task,status}``,
``run_duration_seconds{task}`` (histogram), ``run_lateness_seconds`` (histogram: start
minus due time of scheduled runs), ``queue_depth``, ``runs_in_flight``,
``spend_today_usd``, ``budget_left_usd``, ``quota_used{quota}``, ``quota_limit{quota}``,
``items_published_total{platform}``, ``last_success_timestamp_seconds{task}``,
``task_period_seconds{task}`` (for the "not succeeded in 2× its period" alert), ``up``,
``info{version}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, Problem

if TYPE_CHECKING:
    from ..config import Workspace
    from ..home import Home

DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
LATENESS_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)


class _Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        out, total = [], 0
        for bound, n in zip((*self.buckets, float("inf")), self.counts, strict=True):
            total += n
            out.append(("+Inf" if bound == float("inf") else repr(float(bound)), float(total)))
        return out


class LogFollower:
    """Run-log aggregates, brought up to date by reading only what was appended."""

    def __init__(self, logs_dir: Path) -> None:
        self.logs_dir = logs_dir
        self._offsets: dict[str, int] = {}
        self._lock = threading.Lock()
        self.runs: dict[tuple[str, str], int] = defaultdict(int)
        self.durations: dict[str, _Histogram] = {}
        self.lateness = _Histogram(LATENESS_BUCKETS)
        self.last_success: dict[str, float] = {}

    def refresh(self) -> None:
        with self._lock:
            if not self.logs_dir.is_dir():
                return
            for path in sorted(self.logs_dir.glob("*.jsonl")):
                self._follow(path)

    def _follow(self, path: Path) -> None:
        start = self._offsets.get(path.name, 0)
        try:
            with path.open("rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < start:  # replaced (a restore): read it again
                    start = 0
                if size == start:
                    return
                f.seek(start)
                data = f.read(size - start)
        except OSError:
            return
        end = data.rfind(b"\n") + 1
        self._offsets[path.name] = start + end
        for line in data[:end].splitlines():
            with contextlib.suppress(ValueError):
                rec = json.loads(line)
                if isinstance(rec, dict):
                    self._apply(rec)

    def _apply(self, rec: dict[str, Any]) -> None:
        task, status = str(rec.get("task_id")), str(rec.get("status"))
        self.runs[(task, status)] += 1
        if status == "skipped":
            return
        hist = self.durations.setdefault(task, _Histogram(DURATION_BUCKETS))
        hist.observe(float(rec.get("duration_ms") or 0) / 1000)
        try:
            started = datetime.fromisoformat(str(rec.get("timestamp")))
        except ValueError:
            return
        if status == "success":
            self.last_success[task] = max(self.last_success.get(task, 0.0), started.timestamp())
        due = rec.get("scheduled_for")
        if isinstance(due, str) and rec.get("trigger") in ("scheduled", "catch-up"):
            with contextlib.suppress(ValueError):
                late = (started - datetime.fromisoformat(due)).total_seconds()
                self.lateness.observe(max(0.0, late))


def _period_s(spec: Any, now: datetime) -> float | None:
    """Seconds between the task's next two due times (its period)."""
    schedule = spec.schedule
    if schedule is None:
        return None
    try:
        first = schedule.next_due(now)
        second = schedule.next_due(first) if first else None
    except Exception:
        return None
    if first is None or second is None:
        return None
    return float((second - first).total_seconds())


class AmgrCollector:
    """The ``prometheus_client`` collector: reads the home on each scrape."""

    def __init__(
        self,
        home: Home,
        workspace: Callable[[], Workspace],
        clock: Callable[[], datetime],
        queue_depth: Callable[[], int] | None = None,
    ) -> None:
        self.home, self.workspace, self.clock = home, workspace, clock
        self.queue_depth = queue_depth
        self.follower = LogFollower(home.logs_dir)

    def describe(self) -> list[Any]:
        return []  # metrics are only known at scrape time; skips the registration probe

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
            InfoMetricFamily,
        )

        from .. import __version__

        now = self.clock()
        ws = self.workspace()
        f = self.follower
        f.refresh()
        yield GaugeMetricFamily("amgr_up", "1 while the daemon serves metrics", value=1)
        yield InfoMetricFamily("amgr", "amgr version", value={"version": __version__})
        runs = CounterMetricFamily(
            "amgr_runs", "Run records by task and status", labels=["task", "status"]
        )
        for (task, status), n in sorted(f.runs.items()):
            runs.add_metric([task, status], n)
        yield runs
        dur = HistogramMetricFamily("amgr_run_duration_seconds", "Run duration", labels=["task"])
        for task, hist in sorted(f.durations.items()):
            dur.add_metric([task], hist.cumulative(), sum_value=hist.sum)
        yield dur
        late = HistogramMetricFamily(
            "amgr_run_lateness_seconds", "Start minus due time of scheduled runs"
        )
        late.add_metric([], f.lateness.cumulative(), sum_value=f.lateness.sum)
        yield late
        last = GaugeMetricFamily(
            "amgr_last_success_timestamp_seconds",
            "Start of the last successful run",
            labels=["task"],
        )
        for task, ts in sorted(f.last_success.items()):
            last.add_metric([task], ts)
        yield last
        period = GaugeMetricFamily(
            "amgr_task_period_seconds", "Seconds between a task's due times", labels=["task"]
        )
        for spec in ws.tasks:
            p = _period_s(spec, now) if spec.enabled else None
            if p is not None:
                period.add_metric([spec.id], p)
        yield period
        yield GaugeMetricFamily(
            "amgr_queue_depth",
            "Runs waiting for a worker",
            value=self.queue_depth() if self.queue_depth else 0,
        )
        inflight = self.home.state_dir / "inflight"
        count = len(list(inflight.glob("*.json"))) if inflight.is_dir() else 0
        yield GaugeMetricFamily(
            "amgr_runs_in_flight", "Runs started and not yet recorded", value=count
        )
        yield from self._today(ws, now)
        yield from self._published(ws)

    def _today(self, ws: Workspace, now: datetime) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from ..engine.admission import Admission

        try:
            today = Admission(self.home).today(now)
        except Exception:
            return
        yield GaugeMetricFamily("amgr_spend_today_usd", "Model spend today", value=today.spent_usd)
        budget = ws.config.llm.daily_budget_usd
        if budget is not None:
            left = max(0.0, budget - today.spent_usd - today.reserved_usd)
            yield GaugeMetricFamily(
                "amgr_budget_left_usd", "Daily budget not spent or reserved", value=left
            )
            yield GaugeMetricFamily("amgr_budget_usd", "Daily budget", value=budget)
        used = GaugeMetricFamily(
            "amgr_quota_used", "Daily quota used (made + reserved)", labels=["quota"]
        )
        used.add_metric(["content"], today.content + today.reserved_content)
        used.add_metric(["ebooks"], today.ebooks + today.reserved_ebooks)
        yield used
        limit = GaugeMetricFamily("amgr_quota_limit", "Daily quota", labels=["quota"])
        limit.add_metric(["content"], ws.config.max_daily_content)
        limit.add_metric(["ebooks"], ws.config.max_daily_ebooks)
        yield limit

    def _published(self, ws: Workspace) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily

        from ..publishers.ledger import Ledger

        fam = CounterMetricFamily(
            "amgr_items_published", "Items published, by platform", labels=["platform"]
        )
        try:
            ledger = Ledger(self.home)
            for name in sorted(ws.config.platforms):
                fam.add_metric([name], len(ledger.posted_times(name)))
        except Exception:
            return
        yield fam


class MetricsServer:
    """An HTTP server for ``/metrics`` that sleeps in ``select()`` until a request comes."""

    def __init__(self, host: str, port: int, collector: AmgrCollector) -> None:
        from prometheus_client import CollectorRegistry
        from prometheus_client.exposition import MetricsHandler

        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        base = MetricsHandler.factory(self.registry)

        class Quiet(base):  # type: ignore[valid-type,misc]
            def log_message(self, format: str, *args: Any) -> None:
                """Scrapes are not logged."""

        handler = Quiet
        try:
            self.httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ConfigError(
                Problem(
                    "--metrics",
                    f"{host}:{port}",
                    f"cannot listen there: {exc.strerror or exc}",
                    "pick a free port (e.g. --metrics 127.0.0.1:9465) or stop what uses it",
                )
            ) from None
        self.httpd.daemon_threads = True
        self.address = self.httpd.server_address
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="amgr-metrics", daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        while True:
            ready, _, _ = select.select([self.httpd.fileno(), self._wake_r], [], [])
            if self._wake_r in ready:
                return
            self.httpd.handle_request()  # readable: accepts at once

    def close(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join(5)
        self.httpd.server_close()
        os.close(self._wake_r)
        os.close(self._wake_w)


def start_metrics(
    listen: str,
    home: Home,
    workspace: Callable[[], Workspace],
    clock: Callable[[], datetime],
    queue_depth: Callable[[], int] | None = None,
) -> MetricsServer:
    """Serve metrics on ``listen`` (``HOST:PORT``); :class:`ConfigError` when it cannot."""
    from ..config.operations import parse_listen

    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise ConfigError(
            Problem("--metrics", listen, str(exc), "use HOST:PORT, e.g. 127.0.0.1:9464")
        ) from None
    return MetricsServer(host, port, AmgrCollector(home, workspace, clock, queue_depth)).start()
