"""The publishing executor: which items go where and when, and what a run reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fake_platforms import (
    FakeWebhook,
    Reply,
    add_item,
    amgr,
    item_json,
    ledger_events,
    running,
    write_home,
)

from automation_manager import AutomationManager
from automation_manager.home import Home
from automation_manager.publishers.ledger import Ledger

SITE = {"kind": "filesystem", "path": "site"}
MON_0830 = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


def run_at(home: Path, when: datetime, **task: object) -> dict[str, object]:
    mgr = AutomationManager(home, clock=lambda: when)
    spec = mgr.resolve_task("publishing", {"type": "pending", **task})
    return mgr.run(spec).to_json()


def test_a_typed_task_needs_a_platform_when_none_accepts_its_kind(tmp_path: Path) -> None:
    # issue 11 point 3: without "platform" a typed task goes to every platform accepting
    # its kind; it still fails, naming the platforms, when no configured one does
    home = write_home(tmp_path, {"site": {**SITE, "accepts": ["social"]}})
    result = amgr(home, "exec-now", "publishing", "blog")
    assert result.exit_code == 2  # refused at validation (issue 11 point 2): no record
    assert 'add "platform": "NAME"' in result.output and "site" in result.output
    assert "no configured platform accepts blog" in result.output
    assert not list((home / ".mp" / "automation" / "logs").glob("*.jsonl"))


def test_an_unknown_platform_lists_the_configured_ones(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"site": SITE})
    result = amgr(home, "exec-now", "publishing", "blog", "-p", "platform=nope")
    assert result.exit_code == 2
    assert "'nope' is not in config.json platforms (configured: site)" in result.output
    assert not list((home / ".mp" / "automation" / "logs").glob("*.jsonl"))  # no run happened


def test_a_typed_task_sends_only_its_kind(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"site": {**SITE, "accepts": ["blog", "social"]}})
    blog = add_item(home)
    social = add_item(home, "social", "A thread")
    assert amgr(home, "exec-now", "publishing", "blog", "-p", "platform=site").exit_code == 0
    assert item_json(home, blog)["status"] == "published"
    assert item_json(home, social)["status"] == "pending"


def test_max_items_per_run_caps_a_run(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"site": SITE}, max_items_per_run=2)
    ids = [add_item(home, title=f"Post {n}") for n in range(3)]
    first = amgr(home, "exec-now", "publishing", "pending")
    assert first.exit_code == 0 and "2 published" in first.output
    assert [item_json(home, i)["status"] for i in ids] == ["published", "published", "pending"]
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert item_json(home, ids[2])["status"] == "published"


def test_review_waits_for_approval_and_rejected_is_never_sent(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"site": SITE}, auto_approve=False)
    made = amgr(home, "exec-now", "content_creation", "blog", "-p", "topic=deep work", "--json")
    assert made.exit_code == 0, made.output
    listed = amgr(home, "content", "list", "--status", "review", "--json")
    import json

    [item] = [i["id"] for i in json.loads(listed.output)["items"]]
    other = add_item(home, status="review", title="Not this one")

    amgr(home, "exec-now", "publishing", "pending")
    assert item_json(home, item)["status"] == "review"
    assert not (home / "site").exists()

    assert amgr(home, "content", "approve", item).exit_code == 0
    assert amgr(home, "content", "reject", other, "--reason", "off topic").exit_code == 0
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert item_json(home, item)["status"] == "published"
    assert item_json(home, other)["status"] == "rejected"
    assert len(list((home / "site").glob("*.md"))) == 1


def test_item_targets_win_over_accepts(tmp_path: Path) -> None:
    home = write_home(
        tmp_path,
        {"a": {"kind": "filesystem", "path": "a"}, "b": {"kind": "filesystem", "path": "b"}},
    )
    item = add_item(home, targets=["b"])
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert not (home / "a").exists() and len(list((home / "b").glob("*.md"))) == 1
    assert list(item_json(home, item)["published"]) == ["b"]


def test_min_gap_is_kept_within_a_run(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"site": {**SITE, "min_gap": "1s"}})
    add_item(home, title="One")
    add_item(home, title="Two")
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    sends = [datetime.fromisoformat(e["at"]) for e in ledger_events(home) if e["event"] == "intent"]
    assert len(sends) == 2 and sends[1] - sends[0] >= timedelta(seconds=1)


def test_slots_leave_items_planned_and_send_them_when_due(tmp_path: Path) -> None:
    window = {"mode": "slots", "days": ["mon"], "times": ["09:00", "17:00"]}
    home = write_home(tmp_path, {"site": {**SITE, "window": window}})
    first = add_item(home, title="First", now=MON_0830 - timedelta(hours=1))
    second = add_item(home, title="Second", now=MON_0830 - timedelta(minutes=30))

    record = run_at(home, MON_0830)
    assert record["status"] == "success"
    assert item_json(home, first)["planned"]["site"].startswith("2026-01-05T09:00")
    assert item_json(home, second)["planned"]["site"].startswith("2026-01-05T17:00")
    listing = amgr(home, "content", "list")
    assert "site: planned 2026-01-05 09:00" in listing.output

    run_at(home, MON_0830 + timedelta(hours=1))
    assert item_json(home, first)["status"] == "published"
    assert item_json(home, first)["planned"] == {}
    assert item_json(home, second)["status"] == "pending"


def test_daily_limit_holds_the_rest_until_tomorrow(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"site": {**SITE, "daily_limit": 1}})
    ids = [add_item(home, title=t, now=MON_0830 - timedelta(hours=1)) for t in ("A", "B")]
    run_at(home, MON_0830)
    assert [item_json(home, i)["status"] for i in ids] == ["published", "pending"]
    assert item_json(home, ids[1])["planned"]["site"].startswith("2026-01-06T00:00")
    run_at(home, MON_0830 + timedelta(days=1))
    assert item_json(home, ids[1])["status"] == "published"


def test_retry_resends_only_where_it_failed(tmp_path: Path) -> None:
    with running(FakeWebhook(secret=None)) as hook:
        home = write_home(
            tmp_path, {"site": SITE, "hook": {"kind": "webhook", "url": f"{hook.url}/hook"}}
        )
        item = add_item(home)
        assert amgr(home, "check").exit_code == 0
        hook.script("POST /hook", Reply(422, {"error": "unsupported item"}))
        failed = amgr(home, "exec-now", "publishing", "pending")
        assert failed.exit_code == 1 and "unsupported item" in failed.output
        assert item_json(home, item)["status"] == "failed"
        assert "site" in item_json(home, item)["published"]

        assert amgr(home, "content", "retry", item).exit_code == 0
        assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0

        assert item_json(home, item)["status"] == "published"
        site_sends = [
            e for e in ledger_events(home) if e["platform"] == "site" and e["event"] == "intent"
        ]
        assert len(site_sends) == 1
        assert len(hook.deliveries) == 1


def test_a_recorded_send_is_never_repeated_even_if_the_item_missed_it(tmp_path: Path) -> None:
    # A crash after the ledger's "done" but before item.json was updated.
    home = write_home(tmp_path, {"site": SITE})
    item = add_item(home)
    Ledger(Home.resolve(home)).record(
        "done", item, "site", datetime.now(UTC), remote_id="site/x.md", status="published"
    )
    assert amgr(home, "exec-now", "publishing", "pending").exit_code == 0
    assert not (home / "site").exists()
    saved = item_json(home, item)
    assert saved["status"] == "published" and saved["published"]["site"]["remote_id"] == "site/x.md"


def test_nothing_takes_the_kind_is_said_not_silent(tmp_path: Path) -> None:
    home = write_home(tmp_path, {"site": SITE})
    add_item(home, "ebook", "A book")
    result = amgr(home, "exec-now", "publishing", "pending")
    assert result.exit_code == 0
    assert "no platform takes ebook items" in result.output


def test_an_unsure_send_is_settled_at_once_even_outside_the_window(tmp_path: Path) -> None:
    with running(FakeWebhook(secret=None)) as hook:
        window = {"mode": "slots", "days": ["sun"], "times": ["23:00"]}
        home = write_home(
            tmp_path, {"hook": {"kind": "webhook", "url": f"{hook.url}/hook", "window": window}}
        )
        item = add_item(home, now=MON_0830 - timedelta(hours=2))
        unsure = add_item(home, title="Sent before a crash", now=MON_0830 - timedelta(hours=3))
        Ledger(Home.resolve(home)).record("intent", unsure, "hook", MON_0830 - timedelta(hours=1))

        run_at(home, MON_0830)

        assert item_json(home, unsure)["status"] == "published"  # resent with its delivery id
        assert item_json(home, item)["status"] == "pending"  # waits for Sunday 23:00
        assert item_json(home, item)["planned"]["hook"].startswith("2026-01-11T23:00")
        assert len(hook.deliveries) == 1


def test_an_item_rejected_meanwhile_is_not_sent(tmp_path: Path) -> None:
    from automation_manager.publishers.session import PublishSession

    home = write_home(tmp_path, {"site": SITE})
    item = add_item(home)
    mgr = AutomationManager(home)
    session = PublishSession(mgr.workspace, now=lambda: datetime.now(UTC))
    real_items = session.store.items

    def items_then_reject():  # type: ignore[no-untyped-def]
        found = list(real_items())
        amgr(home, "content", "reject", item)
        return iter(found)

    session.store.items = items_then_reject  # type: ignore[method-assign]
    session.run()
    assert not (home / "site").exists()
    assert item_json(home, item)["status"] == "rejected"
