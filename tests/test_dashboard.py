"""``amgr dashboard`` through Starlette's TestClient: auth, CSRF and Origin checks, every
route, and each page's JSON equal to the CLI's ``--json``."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner
from fake_platforms import add_item, write_home
from starlette.testclient import TestClient

from automation_manager.cli import cli
from automation_manager.dashboard.app import create_app
from automation_manager.dashboard.security import allowed_hosts
from automation_manager.dashboard.token import load_token, token_path
from automation_manager.home import Home

BASE = "http://127.0.0.1:8765"


def amgr_json(home: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--home", str(home), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def client(home: Path, *, login: bool = True) -> TestClient:
    h = Home.resolve(home)
    token = load_token(h)
    app = create_app(h, token, hosts=allowed_hosts("127.0.0.1", 8765))
    c = TestClient(app, base_url=BASE, follow_redirects=False)
    if login:
        assert c.get(f"/login?token={token}").status_code == 303
    return c


def csrf(c: TestClient) -> str:
    value: str = c.get("/api/session").json()["csrf"]
    return value


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home with a filesystem platform, a blog task, an ebook task and a few records."""
    monkeypatch.delenv("AMGR_HOME", raising=False)
    root = write_home(
        tmp_path / "home",
        {"site": {"kind": "filesystem", "path": "site/posts"}},
        tasks={
            "content_creation": [
                {"id": "blog-1", "type": "blog", "topic": "deep work", "schedule": "daily"},
                {"id": "book", "type": "ebook", "topic": "focus", "chapters": 2},
            ],
            "publishing": [{"id": "pub", "type": "pending"}],
        },
    )
    for task, kind in (("blog-1", "blog"), ("book", "ebook")):
        r = CliRunner().invoke(
            cli, ["--home", str(root), "exec-now", "content_creation", kind, "--task", task]
        )
        assert r.exit_code == 0, r.output
    return root


def test_every_request_needs_the_session_or_the_bearer_token(site: Path) -> None:
    c = client(site, login=False)
    for path in ("/", "/history", "/runs", "/content", "/tasks", "/pipeline", "/api/status"):
        assert c.get(path).status_code == 401, path
    token = load_token(Home.resolve(site))
    assert c.get("/login?token=wrong").status_code == 401
    assert c.get("/api/status", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert c.get("/api/status", headers={"Authorization": "Bearer nope"}).status_code == 401
    login = c.get(f"/login?token={token}")
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and token not in cookie
    assert c.get("/").status_code == 200


def test_token_is_private_long_and_rotates(site: Path) -> None:
    h = Home.resolve(site)
    first = load_token(h)
    assert len(first) >= 32 and stat.S_IMODE(os.stat(token_path(h)).st_mode) == 0o600
    assert load_token(h) == first
    c = client(site)
    rotated = load_token(h, rotate=True)
    assert rotated != first
    old = TestClient(create_app(h, rotated, hosts=allowed_hosts("127.0.0.1", 8765)), base_url=BASE)
    old.cookies = c.cookies  # the session of the old token no longer signs in
    assert old.get("/api/status").status_code == 401


def test_json_of_every_page_equals_the_cli_json(site: Path) -> None:
    c = client(site)
    item = add_item(site, status="review")
    [run] = amgr_json(site, "runs", "list")["runs"]
    record = amgr_json(site, "history")["records"][0]["id"]
    pairs = {
        "/api/runs": ["runs", "list"],
        f"/api/runs/{run['id']}": ["runs", "show", run["id"]],
        "/api/content": ["content", "list"],
        f"/api/content/{item}": ["content", "show", item],
        "/api/content?status=review": ["content", "list", "--status", "review"],
        "/api/tasks": ["tasks", "list"],
        "/api/tasks/blog-1": ["tasks", "show", "blog-1"],
        f"/api/history/{record}": ["history", "show", record],
        "/api/history?limit=1": ["history", "--limit", "1"],
        "/api/history?status=success&task=book": [
            "history",
            "--status",
            "success",
            "--task",
            "book",
            "--limit",
            "50",
        ],
    }
    frozen = datetime.now(UTC) + timedelta(seconds=2)
    with time_machine.travel(frozen, tick=False):  # the CLI and the page at the same instant
        for path, args in pairs.items():
            assert c.get(path).json() == amgr_json(site, *args), path
            html_path = path.removeprefix("/api")
            as_json = c.get(html_path, headers={"Accept": "application/json"}).json()
            assert as_json == c.get(path).json(), path
        assert c.get("/api/status").json() == amgr_json(site, "status")


def test_pages_render_html_with_security_headers(site: Path) -> None:
    c = client(site)
    item = add_item(site, status="review")
    [run] = c.get("/api/runs").json()["runs"]
    record = c.get("/api/history").json()["records"][0]["id"]
    for path in (
        "/",
        "/history",
        "/history?status=failed&days=30&page=2",
        f"/history/{record}",
        "/runs",
        f"/runs/{run['id']}",
        "/content",
        f"/content/{item}",
        "/tasks",
        "/tasks/book",
        "/pipeline",
        "/static/app.js",
        "/static/style.css",
    ):
        r = c.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        if path.startswith("/static"):
            continue
        assert "<script>" not in r.text and " style=" not in r.text
    overview = c.get("/").text
    assert "daemon not running" in overview and "<svg" in overview
    assert "no pipeline tasks" in c.get("/pipeline").text
    run_page = c.get(f"/runs/{run['id']}").text
    assert 'id="run-tokens"' in run_page and f'href="/history/{run["attempts"][0]}"' in run_page
    assert "Deep work for remote teams" in c.get(f"/content/{item}").text
    assert "<h2>Protect mornings</h2>" in c.get(f"/content/{item}").text


def test_unknown_ids_and_bad_filters_answer_plainly(site: Path) -> None:
    c = client(site)
    assert c.get("/api/runs/nope").status_code in (400, 404)
    assert c.get("/api/content/nope").status_code in (400, 404)
    assert c.get("/api/tasks/nope").status_code == 404
    bad = c.get("/api/history?status=weird")
    assert bad.status_code == 400 and "status=weird" in bad.json()["error"]


def test_state_changes_need_post_csrf_and_the_same_origin(site: Path) -> None:
    c = client(site)
    item = add_item(site, status="review")
    assert c.get(f"/content/{item}/approve").status_code == 405
    assert c.post(f"/content/{item}/approve", data={}).status_code == 403
    assert c.post(f"/content/{item}/approve", data={"csrf": "x" * 64}).status_code == 403
    token = csrf(c)
    evil = {"Origin": "http://evil.example"}
    r = c.post(f"/content/{item}/approve", data={"csrf": token}, headers=evil)
    assert r.status_code == 403
    rebinding = c.get("/api/status", headers={"Host": "evil.example:8765"})
    assert rebinding.status_code == 403
    assert amgr_json(site, "content", "show", item)["status"] == "review"
    ok = c.post(f"/content/{item}/approve", data={"csrf": token}, headers={"Origin": BASE})
    assert ok.status_code == 303 and ok.headers["location"] == f"/content/{item}"
    assert amgr_json(site, "content", "show", item)["status"] == "pending"
    big = c.post(
        f"/content/{item}/reject",
        content=b"x" * (3 * 1024 * 1024),
        headers={"X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert big.status_code == 413


def test_buttons_do_what_the_cli_does(site: Path) -> None:
    c = client(site)
    token = csrf(c)
    h = {"X-CSRF-Token": token}
    item = add_item(site, status="review")
    rejected = c.post(f"/content/{item}/reject", data={"reason": "off topic"}, headers=h)
    assert rejected.json()["status"] == "rejected"
    assert rejected.json() == amgr_json(site, "content", "show", item)
    assert rejected.json()["history"][-1]["note"] == "off topic"
    refused = c.post(f"/content/{item}/approve", headers=h)
    assert refused.status_code == 400 and "approve" in refused.json()["error"]
    disabled = c.post("/tasks/blog-1/disable", headers=h).json()
    assert disabled["enabled"] is False
    assert amgr_json(site, "tasks", "show", "blog-1")["task"]["enabled"] is False
    assert c.post("/tasks/blog-1/enable", headers=h).json()["enabled"] is True
    [run] = c.get("/api/runs").json()["runs"]
    bad = c.post(f"/runs/{run['id']}/pause", headers=h)
    assert bad.status_code == 400 and "only a running run can be paused" in bad.json()["error"]


def test_run_now_runs_the_task_and_records_it(site: Path) -> None:
    c = client(site)
    before = len(amgr_json(site, "history", "--task", "blog-1")["records"])
    r = c.post("/tasks/blog-1/run", headers={"X-CSRF-Token": csrf(c)})
    assert r.status_code == 200 and r.json() == {"task_id": "blog-1", "started": True}
    app_state = c.app.app.state.dashboard  # type: ignore[attr-defined]
    app_state.runner.join(30)
    records = amgr_json(site, "history", "--task", "blog-1")["records"]
    assert len(records) == before + 1 and records[0]["trigger"] == "manual"


def test_run_events_stream_the_run_state(site: Path) -> None:
    c = client(site)
    [run] = c.get("/api/runs").json()["runs"]
    with c.stream("GET", f"/runs/{run['id']}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    assert "event: state" in body and "event: end" in body and "completed" in body


def test_no_secret_or_outside_path_on_any_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "wp-secret-0123456789abcdef"
    monkeypatch.setenv("WP_APP_PASSWORD", secret)
    root = write_home(
        tmp_path / "home",
        {
            "wp": {
                "kind": "wordpress",
                "url": "http://127.0.0.1:9/",
                "username": "u",
                "password_env": "WP_APP_PASSWORD",
            }
        },
    )
    item = add_item(root, status="failed")
    from automation_manager.content import ContentStore

    store = ContentStore(Home.resolve(root))

    def leak(it: Any) -> None:
        it.errors["wp"] = f"refused {secret} writing /srv/outside/secret-file.md"

    store.update(item, leak)
    c = client(root)
    for path in ("/", f"/content/{item}", f"/api/content/{item}", "/content", "/api/content"):
        text = c.get(path).text
        assert secret not in text and "/srv/outside" not in text, path


def test_dashboard_command_refuses_a_public_address_without_i_know(site: Path) -> None:
    r = CliRunner().invoke(cli, ["--home", str(site), "dashboard", "--listen", "0.0.0.0:8765"])
    assert r.exit_code == 2 and "--i-know" in r.output
    r = CliRunner().invoke(cli, ["--home", str(site), "dashboard", "--listen", "nonsense"])
    assert r.exit_code == 2 and "HOST:PORT" in r.output


def _serve(args: list[str], home: Path) -> tuple[subprocess.Popen[str], str]:
    """Start ``amgr ARGS`` (a dashboard) and read the login URL it prints."""
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automation_manager",
            "--home",
            str(home),
            *args,
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("dashboard: http://127.0.0.1:"), line + proc.stderr.read()
    return proc, line.split(" ", 1)[1].strip()


def _get(url: str, token: str) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.parametrize("args", [["dashboard"], ["run", "--dashboard"]])
def test_the_commands_serve_the_dashboard_and_print_the_token_url(
    site: Path, args: list[str]
) -> None:
    proc, url = _serve(args, site)
    try:
        base, token = url.split("/login?token=")
        assert token == load_token(Home.resolve(site))
        want = args[0] == "run"
        deadline = time.monotonic() + 20  # the daemon may still be starting beside it
        daemon = _get(base + "/api/status", token)["daemon"]
        while daemon["running"] is not want and time.monotonic() < deadline:
            time.sleep(0.1)
            daemon = _get(base + "/api/status", token)["daemon"]
        assert daemon["running"] is want
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def test_keyword_upload_is_guarded_and_feeds_the_pipeline(site: Path) -> None:
    tasks = json.loads((site / "tasks.json").read_text())
    tasks["content_creation"].append({"id": "garden", "type": "pipeline", "platform": "site"})
    (site / "tasks.json").write_text(json.dumps(tasks))
    c = client(site)
    files = {
        "file": ("kw.csv", b"keyword,volume\ngrow tomatoes,10\nGrow  Tomato,\n,3\n", "text/csv")
    }
    assert c.post("/pipeline/garden/keywords", files=files).status_code == 403  # no CSRF
    assert c.get("/api/pipeline").json()["tasks"][0]["keywords"] == []
    token = {"X-CSRF-Token": csrf(c)}
    r = c.post("/pipeline/garden/keywords", files=files, headers=token)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert (summary["added"], summary["merged"], len(summary["bad"])) == (1, 1, 1)
    doc = c.get("/api/pipeline").json()
    [task] = doc["tasks"]
    assert task["id"] == "garden" and [k["keyword"] for k in task["keywords"]] == ["grow tomatoes"]
    # the same state the CLI reads
    listed = CliRunner().invoke(cli, ["--home", str(site), "keywords", "list", "garden", "--json"])
    cli_list = json.loads(listed.output)
    assert [k["keyword"] for k in cli_list["keywords"]] == ["grow tomatoes"]
    r = c.post(
        "/pipeline/garden/keywords/disable", data={"keyword": "grow tomatoes"}, headers=token
    )
    assert r.status_code == 200 and r.json()["disabled"] == 1
    assert c.get("/api/pipeline").json()["tasks"][0]["keywords"][0]["status"] == "disabled"
    r = c.post("/pipeline/nope/keywords", files=files, headers=token)
    assert r.status_code in (400, 404) and "no pipeline task" in r.json()["error"]


def test_a_public_address_with_i_know_warns_and_answers_any_host(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from automation_manager.cli.dashboard import announce
    from automation_manager.dashboard.server import Listen

    where = Listen.parse("0.0.0.0:8765", i_know=True)
    assert not where.loopback
    announce(where.url("abc"), where.loopback)
    out = capsys.readouterr()
    assert (
        "behind TLS" in out.err and out.out == "dashboard: http://127.0.0.1:8765/login?token=abc\n"
    )
    assert Listen.parse("[::1]:9000").loopback
    assert allowed_hosts("127.0.0.1", 8765) == {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"}


def test_an_offline_social_draft_previews_without_its_machine_comment(site: Path) -> None:
    made = CliRunner().invoke(
        cli, ["--home", str(site), "exec-now", "content_creation", "social", "-p", "topic=tea"]
    )
    assert made.exit_code == 0, made.output
    [item] = [i for i in amgr_json(site, "content", "list")["items"] if i["kind"] == "social"]
    assert "<!--" in Path(item["files"]["markdown"]).read_text()  # the label is in the file
    page = client(site).get(f"/content/{item['id']}").text
    assert "generated_by: amgr" not in page and "&lt;!--" not in page
    assert "Post 1" in page and "offline" in page  # the posts, and who wrote them
