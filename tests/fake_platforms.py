"""Real HTTP servers on 127.0.0.1 shaped like WordPress, Mastodon and a webhook receiver.

Each runs a stdlib ``ThreadingHTTPServer`` in a thread on a free port, keeps what it
received, and can be told to misbehave: answer the next requests of a route with given
statuses (:meth:`FakeServer.script`), or do the work of a request and then hold the
answer back (:meth:`FakeServer.stall`) — the moment a client can die or time out after
its request took effect.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from automation_manager.signing import verify

DROP = 0
"""A :class:`Reply` status that closes the connection without answering."""


@dataclass
class Reply:
    """One HTTP answer (status :data:`DROP`: the connection closes without one)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] | None = None


@dataclass
class Request:
    """What the server received."""

    method: str
    path: str
    route: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class FakeServer:
    """Base: routing, recording, scripted failures and stalls."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self._scripts: dict[str, list[Reply]] = {}
        self._stalls: dict[str, threading.Event] = {}
        self.stalled = threading.Event()
        """Set when a stalled request has done its work and waits to answer."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        for event in self._stalls.values():
            event.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self, route: str, *replies: Reply) -> None:
        """Answer the next requests to ``route`` (``"POST posts"``) with ``replies``."""
        with self.lock:
            self._scripts.setdefault(route, []).extend(replies)

    def stall(self, route: str) -> threading.Event:
        """Do the next ``route`` request's work, then wait for the returned event."""
        event = threading.Event()
        self._stalls[route] = event
        return event

    def page(self, request: Request) -> Reply:
        """The answer to a path the server does not serve."""
        return Reply(404, "<html><body>Not Found</body></html>")

    def routed(self, route: str) -> list[Request]:
        return [r for r in self.requests if r.route == route]

    # -- to implement ----------------------------------------------------------------------

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        raise NotImplementedError

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    # -- plumbing --------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        route = self.route_of(handler.command, parts.path, query)
        request = Request(
            handler.command,
            parts.path,
            route or "?",
            query,
            {k.lower(): v for k, v in handler.headers.items()},
            body,
        )
        with self.lock:
            self.requests.append(request)
            scripted = self._scripts.get(request.route)
            reply = scripted.pop(0) if scripted else None
        if reply is None:
            reply = self.page(request) if route is None else self.handle(request)
        if reply.status == DROP:
            handler.close_connection = True
            return
        stall = self._stalls.pop(request.route, None)
        if stall is not None:
            self.stalled.set()
            stall.wait(60)
        raw = reply.body if isinstance(reply.body, bytes | str) else json.dumps(reply.body)
        data = raw.encode() if isinstance(raw, str) else raw
        handler.send_response(reply.status)
        is_json = not isinstance(reply.body, bytes | str)
        handler.send_header("Content-Type", "application/json" if is_json else "text/html")
        for key, value in (reply.headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        with contextlib.suppress(OSError):  # the client may be gone (killed, timed out)
            handler.wfile.write(data)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._serve(self)

            do_POST = do_HEAD = do_PUT = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def running(server: FakeServer) -> Iterator[Any]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _now_wp() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class FakeWordPress(FakeServer):
    """The WordPress REST API's shape: posts, tags, categories, media, users/me.

    :param pretty: pretty permalinks on (``/wp-json/``); off: only ``?rest_route=``, and
        ``/wp-json/...`` gets what a real WordPress gives then: ``page_answer``, a canonical
        301 redirect (WordPress 6.1 seen live) or a 404 page.
    """

    def __init__(
        self,
        user: str = "editor",
        password: str = "abcd efgh ijkl mnop",
        *,
        pretty: bool = True,
        page_answer: int = 301,
    ) -> None:
        super().__init__()
        self.user, self.password, self.pretty = user, password, pretty
        self.page_answer = page_answer
        self.posts: list[dict[str, Any]] = []
        self.terms: dict[str, list[dict[str, Any]]] = {"tags": [], "categories": []}
        self.media: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self.capabilities = {"edit_posts": True, "publish_posts": True}
        self._ids = itertools.count(100)

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        if path.startswith("/wp-json/wp/v2/") and self.pretty:
            rest = path.removeprefix("/wp-json/wp/v2/")
        elif path == "/" and query.get("rest_route", "").startswith("/wp/v2/"):
            rest = query["rest_route"].removeprefix("/wp/v2/")
        else:
            return None
        return f"{method} {rest}"

    def page(self, request: Request) -> Reply:
        """What WordPress answers for a path that is not the REST API."""
        if request.path in self.uploads:  # the media library's files are public
            return Reply(200, self.uploads[request.path])
        if self.page_answer == 301 and not request.path.endswith("/"):
            return Reply(301, "", {"Location": f"{self.url}{request.path}/"})
        return Reply(404, "<html><body>Page not found</body></html>")

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def handle(self, request: Request) -> Reply:
        if not self._authorized(request):
            return Reply(
                401,
                {
                    "code": "rest_not_logged_in",
                    "message": "You are not currently logged in.",
                    "data": {"status": 401},
                },
            )
        method, _, rest = request.route.partition(" ")
        if rest == "users/me":
            return Reply(
                200,
                {
                    "id": 1,
                    "name": "Ed Itor",
                    "slug": self.user,
                    "roles": ["editor"],
                    "capabilities": self.capabilities,
                },
            )
        if rest in self.terms:
            return self._term(method, rest, request)
        if rest == "media" and method == "POST":
            media_id = next(self._ids)
            media = {
                "id": media_id,
                "source_url": f"{self.url}/wp-content/uploads/{media_id}",
                "mime_type": request.headers.get("content-type"),
                "disposition": request.headers.get("content-disposition"),
                "size": len(request.body),
            }
            self.media.append(media)
            self.uploads[f"/wp-content/uploads/{media_id}"] = request.body
            return Reply(201, media)
        if rest == "posts" and method == "POST":
            return self._create(request.json())
        if rest == "posts" and method == "GET":
            return Reply(200, self._find(request.query))
        return Reply(404, {"code": "rest_no_route", "message": "No route was found."})

    def _term(self, method: str, taxonomy: str, request: Request) -> Reply:
        terms = self.terms[taxonomy]
        if method == "GET":
            search = request.query.get("search", "").lower()
            return Reply(200, [t for t in terms if search in t["name"].lower()])
        name = request.json()["name"]
        for term in terms:
            if term["name"].lower() == name.lower():
                return Reply(
                    400,
                    {
                        "code": "term_exists",
                        "message": "A term with the name provided already exists.",
                        "data": {"status": 400, "term_id": term["id"]},
                    },
                )
        term = {"id": next(self._ids), "name": name}
        terms.append(term)
        return Reply(201, term)

    def _create(self, body: dict[str, Any]) -> Reply:
        if not body.get("title"):
            return Reply(
                400,
                {
                    "code": "empty_content",
                    "message": "Content, title, and excerpt are empty.",
                    "data": {"status": 400},
                },
            )
        post_id = next(self._ids)
        slug = body.get("slug") or f"post-{post_id}"
        while any(p["slug"] == slug for p in self.posts):
            slug += "-2"
        now = _now_wp()
        post = {
            "id": post_id,
            "slug": slug,
            "status": body.get("status", "draft"),
            "link": f"{self.url}/{slug}/",
            "title": {"raw": body["title"], "rendered": body["title"]},
            "content": {"raw": body.get("content", "")},
            "excerpt": body.get("excerpt"),
            "tags": body.get("tags", []),
            "categories": body.get("categories", []),
            "featured_media": body.get("featured_media", 0),
            "date_gmt": body.get("date_gmt") or now,
            "modified_gmt": now,
        }
        self.posts.append(post)
        return Reply(201, post)

    def _find(self, query: dict[str, str]) -> list[dict[str, Any]]:
        found = list(self.posts)
        if query.get("status") != "any":
            found = [p for p in found if p["status"] == "publish"]
        if "slug" in query:
            found = [p for p in found if p["slug"] == query["slug"]]
        if "search" in query:
            found = [p for p in found if query["search"].lower() in p["title"]["raw"].lower()]
        return found


class FakeMastodon(FakeServer):
    """Mastodon's shape: statuses with real ``Idempotency-Key`` semantics, instance
    limits, verify_credentials.
    """

    def __init__(self, token: str = "masto-token-123", max_characters: int = 500) -> None:
        super().__init__()
        self.token, self.max_characters = token, max_characters
        self.statuses: list[dict[str, Any]] = []
        self.keys: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1000)
        self.uploads: dict[str, dict[str, Any]] = {}
        """Media id → {"name", "type", "size", "description", "polls_left"}."""
        self.processing_polls = 1
        """GETs of a new upload answered 206 (still processing) before it is ready."""

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        known = {"/api/v1/statuses", "/api/v2/instance", "/api/v1/accounts/verify_credentials"}
        if path == "/api/v2/media" or path.startswith("/api/v1/media/"):
            return f"{method} {path.rsplit('/', 1)[0] if method == 'GET' else path}"
        return f"{method} {path}" if path in known else None

    def _media(self, request: Request) -> Reply:
        """Media upload (multipart) answered 202, then processed after some polls."""
        if request.route == "POST /api/v2/media":
            from email import message_from_bytes
            from email.policy import HTTP

            ctype = request.headers.get("content-type", "")
            message = message_from_bytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + request.body, policy=HTTP
            )
            fields = {
                str(part.get_param("name", header="content-disposition")): part
                for part in message.iter_parts()  # type: ignore[attr-defined]
            }
            file = fields.get("file")
            if file is None:
                return Reply(422, {"error": "Validation failed: File can't be blank"})
            media_id = str(next(self._ids))
            description = fields.get("description")
            self.uploads[media_id] = {
                "name": file.get_filename(),
                "type": file.get_content_type(),
                "size": len(file.get_payload(decode=True) or b""),
                "description": description.get_content().strip() if description else None,
                "polls_left": self.processing_polls,
            }
            return Reply(202, {"id": media_id, "type": "image", "url": None})
        media_id = request.path.rsplit("/", 1)[-1]
        upload = self.uploads.get(media_id)
        if upload is None:
            return Reply(404, {"error": "Record not found"})
        if upload["polls_left"] > 0:
            upload["polls_left"] -= 1
            return Reply(206, {"id": media_id, "url": None})
        return Reply(200, {"id": media_id, "url": f"{self.url}/media/{media_id}"})

    def handle(self, request: Request) -> Reply:
        if request.route == "GET /api/v2/instance":
            return Reply(
                200,
                {
                    "domain": "fake.social",
                    "configuration": {"statuses": {"max_characters": self.max_characters}},
                },
            )
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"error": "The access token is invalid"})
        if request.route == "GET /api/v1/accounts/verify_credentials":
            return Reply(200, {"id": "1", "acct": "amgr", "username": "amgr"})
        if request.route and "/media" in request.route:
            return self._media(request)
        key = request.headers.get("idempotency-key")
        if key and key in self.keys:
            return Reply(200, self.keys[key])
        body = request.json()
        text = body.get("status", "")
        if len(text) > self.max_characters:
            return Reply(
                422,
                {
                    "error": f"Validation failed: Text character limit of "
                    f"{self.max_characters} exceeded"
                },
            )
        media_ids = [str(m) for m in body.get("media_ids") or []]
        for media_id in media_ids:
            upload = self.uploads.get(media_id)
            if upload is None or upload["polls_left"] > 0:
                return Reply(
                    422, {"error": "Cannot attach files that have not finished processing"}
                )
        status_id = str(next(self._ids))
        status = {
            "id": status_id,
            "url": f"{self.url}/@amgr/{status_id}",
            "content": text,
            "media_attachments": [{"id": m, **self.uploads[m]} for m in media_ids],
            "in_reply_to_id": body.get("in_reply_to_id"),
            "visibility": body.get("visibility", "public"),
        }
        self.statuses.append(status)
        if key:
            self.keys[key] = status
        return Reply(200, status)


class FakeWebhook(FakeServer):
    """A receiver that verifies ``X-Amgr-Signature`` and drops repeated delivery ids."""

    def __init__(self, secret: str | None = "hook-secret-xyz") -> None:
        super().__init__()
        self.secret = secret
        self.deliveries: dict[str, dict[str, Any]] = {}
        self.pings = 0

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        return f"{method} {path}" if path == "/hook" else None

    def handle(self, request: Request) -> Reply:
        headers = request.headers
        if self.secret is not None and not verify(
            self.secret,
            headers.get("x-amgr-timestamp", ""),
            request.body,
            headers.get("x-amgr-signature", ""),
        ):
            return Reply(401, {"error": "bad signature"})
        if headers.get("x-amgr-event") == "ping":
            self.pings += 1
            return Reply(200, {"ok": True})
        delivery = headers.get("x-amgr-delivery", "")
        if delivery not in self.deliveries:
            self.deliveries[delivery] = request.json()
        return Reply(200, {"id": f"rcv-{delivery[-6:]}"})


# -- homes, items and the CLI ----------------------------------------------------------------

BLOG_MD = """---
title: "Deep work for remote teams"
slug: "deep-work-for-remote-teams"
---

# Deep work for remote teams

Focus is a **team** habit.

## Protect mornings

- no meetings before noon
- one shared focus calendar
"""


def write_home(
    root: Any, platforms: Any, *, tasks: dict[str, Any] | None = None, **config: Any
) -> Any:
    """A home with config.json (offline LLM, UTC), tasks.json and schedules.json."""
    from pathlib import Path

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    data = {"timezone": "UTC", "llm": {"provider": "offline"}, "platforms": platforms, **config}
    (root / "config.json").write_text(json.dumps(data, indent=2))
    (root / "tasks.json").write_text(json.dumps(tasks or {"publishing": []}))
    (root / "schedules.json").write_text("{}")
    return root


def _unique_paragraph() -> str:
    """Sixty words no other item has: test items are never near-duplicates of each other
    (publishing refuses those, see automation_manager.content.similar)."""
    import random

    rng = random.Random()
    words = "alpha bravo delta echo golf hotel india kilo lima mike oscar papa quebec romeo"
    pool = words.split()
    return "\n" + " ".join(rng.choice(pool) for _ in range(60)) + ".\n"


def add_item(
    root: Any,
    kind: str = "blog",
    title: str = "Deep work for remote teams",
    *,
    status: str = "pending",
    files: dict[str, tuple[str, bytes | str]] | None = None,
    meta: dict[str, Any] | None = None,
    targets: list[str] | None = None,
    now: datetime | None = None,
) -> str:
    """Create a content item directly in the store; its id."""
    from automation_manager.content import ContentStore
    from automation_manager.enums import ContentStatus
    from automation_manager.home import Home

    if files is None:
        if kind == "social":
            files = {
                "markdown": ("posts.md", "# posts\n"),
                "json": ("posts.json", json.dumps({"parts": ["First post.", "Second."]})),
            }
        else:
            body = BLOG_MD.replace("Deep work for remote teams", title) + _unique_paragraph()
            files = {"markdown": ("post.md", body)}
    if meta is None:
        meta = {
            "slug": None,
            "description": "How remote teams protect focus.",
            "tags": ["focus", "remote work"],
        }
        meta = {k: v for k, v in meta.items() if v is not None}
    store = ContentStore(Home.resolve(root))
    item = store.create(
        kind,
        title,
        files,
        now=now or datetime.now(UTC),
        status=ContentStatus(status),
        meta=meta,
        targets=targets or [],
    )
    return item.id


def amgr(root: Any, *args: str) -> Any:
    """Run ``amgr --home ROOT ARGS...`` in-process; the click result."""
    from click.testing import CliRunner

    from automation_manager.cli import cli

    return CliRunner().invoke(cli, ["--home", str(root), *args], catch_exceptions=False)


def item_json(root: Any, item_id: str) -> dict[str, Any]:
    from pathlib import Path

    return json.loads((Path(root) / ".mp" / "content" / item_id / "item.json").read_text())


def ledger_events(root: Any) -> list[dict[str, Any]]:
    from pathlib import Path

    path = Path(root) / ".mp" / "publish" / "ledger.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run(home: Any, *args: str) -> Any:
    """Run ``amgr --home HOME ARGS...`` in-process, exceptions caught; the click result."""
    from click.testing import CliRunner

    from automation_manager.cli import cli

    return CliRunner().invoke(cli, ["--home", str(home), *args])


def exec_json(home: Any, category: str, type_: str, *params: str) -> dict[str, Any]:
    """``exec-now CATEGORY TYPE --json -p PARAM...``; its record, which must be a success."""
    args = ["exec-now", category, type_, "--json"]
    for p in params:
        args += ["-p", p]
    result = run(home, *args)
    record: dict[str, Any] = json.loads(result.stdout)
    assert record["status"] == "success", record
    return record


def edit_config(home: Any, **values: Any) -> None:
    """Set top-level keys of the home's config.json."""
    from pathlib import Path

    path = Path(home) / "config.json"
    data = json.loads(path.read_text())
    data.update(values)
    path.write_text(json.dumps(data, indent=2))


# -- platform settings and secrets -----------------------------------------------------------

WP_PASSWORD = "abcd efgh ijkl mnop"
MASTODON_TOKEN = "masto-token-123"
HOOK_SECRET = "hook-secret-xyz"


def wordpress_config(url: str, **platform: Any) -> dict[str, Any]:
    """A ``wordpress`` platform for a FakeWordPress at ``url`` (password in WP_APP_PASSWORD)."""
    return {
        "kind": "wordpress",
        "url": url,
        "user": "editor",
        "password_env": "WP_APP_PASSWORD",
        "timeout_s": 5,
        **platform,
    }


def mastodon_config(url: str, **platform: Any) -> dict[str, Any]:
    """A ``mastodon`` platform for a FakeMastodon at ``url`` (token in MASTODON_TOKEN)."""
    return {
        "kind": "mastodon",
        "url": url,
        "token_env": "MASTODON_TOKEN",
        "timeout_s": 5,
        **platform,
    }


def webhook_config(url: str, **platform: Any) -> dict[str, Any]:
    """A ``webhook`` platform posting to a FakeWebhook at ``url`` (secret in AMGR_HOOK_SECRET)."""
    return {
        "kind": "webhook",
        "url": f"{url}/hook",
        "secret_env": "AMGR_HOOK_SECRET",
        "timeout_s": 5,
        **platform,
    }


def kill_mid_request(home: Any, server: FakeServer, route: str, env: dict[str, str]) -> None:
    """Start ``exec-now publishing pending`` as a process and SIGKILL it once the server
    has done the work of its ``route`` request but before it answers."""
    import os
    import signal
    import subprocess
    import sys

    release = server.stall(route)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automation_manager",
            "--home",
            str(home),
            "exec-now",
            "publishing",
            "pending",
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.stalled.wait(30), f"the {route} request never reached the server"
        proc.send_signal(signal.SIGKILL)  # after the server did the work, before the answer
        proc.wait(10)
    finally:
        release.set()
