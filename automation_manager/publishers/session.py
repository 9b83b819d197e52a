"""One publishing run: which approved items go where now, and what became of each.

For every platform in turn: the items waiting for it (their ``targets``, else every
platform whose ``accepts`` takes their kind) are planned by the platform's window
(:mod:`.windows`); the due ones are sent through :class:`~.dispatch.Dispatcher`
(never twice), the rest keep their planned time in ``item.planned``. A short wait for
``min_gap`` or the next slot (up to :data:`WAIT_LIMIT`) happens within the run.

A platform whose credentials fail, or that cannot be reached, is skipped for the rest
of the run with the reason; its items stay ``pending``. An item the platform refuses
becomes ``failed`` with the platform's message. An item is ``published`` once every
one of its targets has it live, ``ready`` when every target has it but some only in an
outbox (a person posts it from there).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from filelock import Timeout

from ..config import Workspace
from ..config.platforms import AnyPlatform, WordPressPlatform
from ..config.platforms_google import YouTubePlatform
from ..content import ContentItem, ContentStore, StatusChange
from ..content.similar import published_duplicate
from ..enums import ContentStatus
from ..errors import AmgrError, AuthError, TaskError, TransientError
from ..notify import Notifier
from ..text import plural
from . import publisher_for
from .base import PublishEnv, Publisher, Receipt
from .dispatch import Dispatcher, stored_receipt
from .health import CheckBook, check_publisher
from .ledger import Ledger, PairState, platform_slot
from .outbox import READY_STATUS
from .post import build_post
from .windows import Pace, is_due, plan

WAIT_LIMIT = timedelta(minutes=2)
"""A gap or slot at most this far away is waited for within the run."""

ProgressFn = Callable[[str, int, int], None]


def ready_since(item: ContentItem) -> datetime:
    """When the item last became ``pending`` (approved or retried), else its creation."""
    for change in reversed(item.history):
        if change.status is ContentStatus.PENDING:
            return change.at
    return item.created_at


def _minute(iso: str) -> str:
    """``2026-12-02T09:00:00+00:00`` → ``2026-12-02 09:00``."""
    return iso[:16].replace("T", " ")


def targets_of(platforms: dict[str, AnyPlatform], item: ContentItem) -> list[str]:
    """Where the item should go: its ``targets``, else each platform accepting its kind."""
    if item.targets:
        return [t for t in item.targets if t in platforms]
    return [n for n, p in platforms.items() if item.kind in p.accepted_kinds(n)]


@dataclass
class RunReport:
    """What a run did, for the run record and the exit status.

    ``published`` holds what went live; ``ready`` what an outbox now holds for a person
    to post (amgr never says an outbox item was published); ``waiting`` the reasons,
    with counts, why items in scope were not sent (shown when nothing went out).
    """

    published: list[dict[str, Any]] = field(default_factory=list)
    ready: list[dict[str, Any]] = field(default_factory=list)
    planned: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    problems: list[AmgrError] = field(default_factory=list)

    def next_slots(self) -> list[str]:
        """``next slot for wp 2026-12-02 09:00``, one per platform with a planned item."""
        first: dict[str, str] = {}
        for p in self.planned:
            if p["platform"] not in first or p["at"] < first[p["platform"]]:
                first[p["platform"]] = p["at"]
        return [f"next slot for {name} {_minute(at)}" for name, at in first.items()]

    def summary(self) -> str:
        """``2 published, 1 ready in outboxes, 3 planned (next ...)``, or, when nothing
        went out, ``0 published: `` and why, per reason with its count."""
        if not self.published and not self.ready:
            reasons = [
                *self.waiting,
                *self.next_slots(),
                *(f"{s['platform']} skipped: {s['reason']}" for s in self.skipped),
                *self.notes,
            ]
            if self.failed:
                reasons.insert(0, f"{plural(len(self.failed), 'send')} failed")
            return "0 published: " + ("; ".join(reasons) or "nothing is approved to publish")
        text = f"{len(self.published)} published"
        if self.ready:
            text += f", {len(self.ready)} ready in outboxes"
        text += f", {len(self.planned)} planned"
        if self.planned:
            text += f" ({', '.join(self.next_slots())})"
        if self.failed:
            text += f", {len(self.failed)} failed"
        for skip in self.skipped:
            text += f"; {skip['platform']} skipped: {skip['reason']}"
        for note in [*self.waiting, *self.notes]:
            text += f"; {note}"
        return text

    def result(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "published": self.published,
            "ready": self.ready,
            "planned": self.planned,
            "failed": self.failed,
            "skipped": self.skipped,
            "notes": self.notes,
            "waiting": self.waiting,
        }

    def raise_if_failed(self) -> None:
        """Raise the run's failure: credentials first, then refusals, then outages.

        Skipped platforms are already named with their reason in the summary.
        """
        summary = self.summary()
        if any(isinstance(p, AuthError) for p in self.problems):
            raise AuthError(summary)
        if self.failed:
            first = self.failed[0]
            raise TaskError(f"{summary} — {first['item']} on {first['platform']}: {first['error']}")
        if self.problems:
            waits = [
                p.retry_after
                for p in self.problems
                if isinstance(p, TransientError) and p.retry_after
            ]
            raise TransientError(summary, retry_after=max(waits) if waits else None)


class PublishSession:
    """Runs publishing for one workspace.

    :param now: the run's clock.
    :param cancel: set to stop after the current item (also ends waits early).
    """

    def __init__(
        self,
        ws: Workspace,
        *,
        now: Callable[[], datetime],
        cancel: threading.Event | None = None,
        progress: ProgressFn | None = None,
    ) -> None:
        self.ws = ws
        self.now = now
        self.cancel = cancel or threading.Event()
        self.progress = progress
        self.store = ContentStore(ws.home)
        self.ledger = Ledger(ws.home)
        self.dispatcher = Dispatcher(self.ledger, now, self._sleep)
        self.env = PublishEnv(home=ws.home, now=now, sleep=self._sleep)
        self.checks = CheckBook(ws.home, Notifier(ws.home, ws.config))
        self.report = RunReport()
        self.budget: int | None = None
        self.sent = 0
        self.failed_ids: set[str] = set()

    def _sleep(self, seconds: float) -> None:
        self.cancel.wait(max(0.0, seconds))

    @property
    def platforms(self) -> dict[str, AnyPlatform]:
        return dict(self.ws.config.platforms)

    def run(
        self,
        *,
        kind: str | None = None,
        platform: str | None = None,
        item_id: str | None = None,
        limit: int | None = None,
    ) -> RunReport:
        """Publish what is due: items of ``kind`` (all kinds when None) to ``platform``
        (every platform when None), at most ``limit`` sends.
        """
        self.budget = limit
        every = list(self.store.items())  # read once: the queue and the reasons use it
        items = [
            i
            for i in every
            if i.status is ContentStatus.PENDING
            and (kind is None or i.kind == kind)
            and (item_id is None or i.id == item_id)
        ]
        platforms = self.platforms
        self.report.waiting.extend(self._why_waiting(every, items, kind, platform, item_id))
        for name in [platform] if platform else list(platforms):
            if self.cancel.is_set():
                break
            queue = [i for i in items if self._wants(i, name, explicit=platform is not None)]
            if queue:
                self._platform(name, platforms[name], queue)
        return self.report

    def _why_waiting(
        self,
        every: list[ContentItem],
        pending: list[ContentItem],
        kind: str | None,
        platform: str | None,
        item_id: str | None,
    ) -> list[str]:
        """Why items in this run's scope cannot go out now, one reason per line with
        its count: items waiting for review, targets that are not configured platforms,
        kinds no platform takes."""
        platforms = self.platforms
        out: list[str] = []
        in_scope = [
            i
            for i in every
            if (kind is None or i.kind == kind) and (item_id is None or i.id == item_id)
        ]
        review: dict[str, list[str]] = {}
        for item in in_scope:
            if item.status in (ContentStatus.REVIEW, ContentStatus.DRAFT):
                review.setdefault(item.kind, []).append(item.id)
        for k, ids in review.items():
            how = f"amgr content approve {ids[0]}" if len(ids) == 1 else "amgr content list"
            waits = "waits" if len(ids) == 1 else "wait"
            out.append(f"{plural(len(ids), f'{k} item')} {waits} for review ({how})")
        configured = ", ".join(platforms) or "none"
        unknown: dict[str, int] = {}
        for item in pending:
            for target in item.targets:
                if target not in platforms and (platform is None or target == platform):
                    unknown[target] = unknown.get(target, 0) + 1
        for target, count in unknown.items():
            verb = "targets" if count == 1 else "target"
            out.append(
                f"{plural(count, 'item')} {verb} {target!r}, which is not a configured "
                f"platform (configured: {configured})"
            )
        if platform is None:
            homeless: dict[str, int] = {}
            for item in pending:
                if not item.targets and not targets_of(platforms, item):
                    homeless[item.kind] = homeless.get(item.kind, 0) + 1
            for k, count in sorted(homeless.items()):
                out.append(
                    f'no platform takes {k} items ({count} pending): set "accepts" on a '
                    "platform in config.json, or give the items targets"
                )
        return out

    def _wants(self, item: ContentItem, name: str, *, explicit: bool) -> bool:
        if item.targets:
            return name in item.targets
        return explicit or name in targets_of(self.platforms, item)

    # -- one platform ----------------------------------------------------------------------

    def _platform(self, name: str, config: AnyPlatform, queue: list[ContentItem]) -> None:
        pace = Pace.of(config, self.ws.timezone_name)
        waiting: list[ContentItem] = []
        unsure: list[ContentItem] = []
        for item in queue:
            if item.id in self.failed_ids:
                continue
            pair = self.ledger.pair(item.id, name)
            if pair.state is PairState.DONE:  # sent earlier; the item was not updated yet
                self._settle(item, name, stored_receipt(pair))
            elif pair.state is PairState.FAILED:
                self._fail(item, name, pair.error or "failed earlier")
            elif pair.state is PairState.UNCERTAIN:
                unsure.append(item)  # was due when sent: settle it first, window or not
            else:
                waiting.append(item)
        waiting.sort(key=lambda i: (ready_since(i), i.created_at, i.id))
        ahead = (isinstance(config, WordPressPlatform) and config.status == "future") or (
            isinstance(config, YouTubePlatform) and config.publish_at
        )
        publisher: Publisher | None = None
        waited = False
        try:
            while (unsure or waiting) and not self.cancel.is_set():
                now = self.now()
                if unsure:
                    item, when = unsure.pop(0), now
                    publisher = publisher or self._open(name, config, pace)
                    if publisher is None or not self._send(publisher, config, item, when):
                        break
                    continue
                when = self._plan(pace, name, waiting, now)[0]
                if not (ahead or waited or is_due(when, now)):
                    if when - now > WAIT_LIMIT:
                        break
                    waited = not self.cancel.wait((when - now).total_seconds())
                    continue
                waited = False
                if self.budget is not None and self.sent >= self.budget:
                    break
                publisher = publisher or self._open(name, config, pace)
                if publisher is None or not self._send(publisher, config, waiting.pop(0), when):
                    break
        finally:
            if publisher is not None:
                publisher.close()
            self._remember_plans(pace, name, waiting)

    def _plan(
        self, pace: Pace, name: str, items: list[ContentItem], now: datetime
    ) -> list[datetime]:
        return plan(
            pace,
            now=now,
            ready=[ready_since(i) for i in items],
            posted=self.ledger.posted_times(name),
        )

    def _remember_plans(self, pace: Pace, name: str, items: list[ContentItem]) -> None:
        """Store each waiting item's planned time (shown by ``amgr content list``)."""
        if not items:
            return
        for item, when in zip(items, self._plan(pace, name, items, self.now()), strict=True):
            self.report.planned.append({"item": item.id, "platform": name, "at": when.isoformat()})
            if item.planned.get(name) != when:
                self.store.update(item.id, lambda it, w=when: it.planned.__setitem__(name, w))

    def _open(self, name: str, config: AnyPlatform, pace: Pace) -> Publisher | None:
        """The platform's publisher, checked before its first publish of the local day;
        None (the platform skipped, with the reason) when the check fails.
        """
        publisher = publisher_for(name, config, self.env)
        today = self.now().astimezone(pace.tz).date()
        if self.checks.passed_on(name, today, pace.tz):
            return publisher
        result = check_publisher(publisher)
        self.checks.remember(result, self.now())
        if result.ok:
            return publisher
        publisher.close()
        self._skip(name, result.error or TransientError(result.message))
        return None

    def _skip(self, name: str, error: AmgrError) -> None:
        self.report.skipped.append({"platform": name, "reason": str(error)})
        self.report.problems.append(error)

    def _send(
        self, publisher: Publisher, config: AnyPlatform, item: ContentItem, when: datetime
    ) -> bool:
        """Send one item; False when the platform should be left alone for this run."""
        name = publisher.name
        item = self.store.get(item.id)
        if item.status is not ContentStatus.PENDING:
            return True  # rejected or failed meanwhile: not ours to send any more
        repeat = published_duplicate(self.store, item, name)
        if repeat is not None:
            self._fail(
                item,
                name,
                f"not sent: a near-duplicate of {repeat.describe()}, already published to {name}",
            )
            return True
        post = build_post(self.store, item, when=when)
        try:
            with platform_slot(self.ws.home, name, config.max_concurrent, timeout=60.0):
                receipt = self.dispatcher.publish_once(publisher, post)
        except Timeout:
            self._skip(
                name,
                TransientError(
                    f"{name}: other runs kept sending to it (max_concurrent "
                    f"{config.max_concurrent}); the next run tries again"
                ),
            )
            return False
        except AuthError as exc:
            from .health import CheckResult

            self.checks.remember(CheckResult(name, publisher.kind, False, str(exc)), self.now())
            self._skip(name, exc)
            return False
        except TransientError as exc:
            self._skip(name, exc)
            return False
        except TaskError as exc:
            self._fail(item, name, str(exc))
            return True
        self.sent += 1
        self._settle(item, name, receipt)
        if self.progress is not None:
            self.progress(f"published to {name}", self.sent, self.sent + len(self.report.planned))
        return True

    # -- item bookkeeping ------------------------------------------------------------------

    def _settle(self, item: ContentItem, name: str, receipt: Receipt) -> None:
        now = self.now()
        platforms = self.platforms

        def apply(it: ContentItem) -> None:
            it.published[name] = {
                "remote_id": receipt.remote_id,
                "url": receipt.url,
                "status": receipt.status,
                "at": now.isoformat(),
                **({"live_at": receipt.live_at.isoformat()} if receipt.live_at else {}),
            }
            it.planned.pop(name, None)
            it.errors.pop(name, None)
            done = all(t in it.published for t in targets_of(platforms, it))
            if it.status is ContentStatus.PENDING and done:
                outboxed = any(v.get("status") == READY_STATUS for v in it.published.values())
                it.status = ContentStatus.READY if outboxed else ContentStatus.PUBLISHED
                where = "; ".join(f"{p}: {v.get('status')}" for p, v in it.published.items())
                it.history.append(StatusChange(at=now, status=it.status, note=where))

        self.store.update(item.id, apply)
        if receipt.extra.get("note"):  # done, with something the person should know
            self.report.notes.append(str(receipt.extra["note"]))
        where_to = self.report.ready if receipt.status == READY_STATUS else self.report.published
        where_to.append(
            {
                "item": item.id,
                "platform": name,
                "url": receipt.url,
                "remote_id": receipt.remote_id,
                "status": receipt.status,
            }
        )

    def _fail(self, item: ContentItem, name: str, reason: str) -> None:
        now = self.now()

        def apply(it: ContentItem) -> None:
            it.errors[name] = reason
            it.planned.pop(name, None)
            if it.status is ContentStatus.PENDING:
                it.status = ContentStatus.FAILED
                it.history.append(StatusChange(at=now, status=it.status, note=f"{name}: {reason}"))

        self.store.update(item.id, apply)
        self.failed_ids.add(item.id)
        self.report.failed.append({"item": item.id, "platform": name, "error": reason})
