"""The dashboard's routes: each page answers HTML, or with ``Accept: application/json``
(or under ``/api/``) the same JSON document as the matching ``amgr ... --json``.

Every request reads the home afresh (a ``tasks.json`` edit shows at once); the history
page reads the log through its column index like ``amgr history``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..engine.clock import Clock
from ..errors import AmgrError, UsageError
from ..home import Home
from ..manager import AutomationManager
from ..secrets import REGISTRY
from ..text import format_ms
from . import actions, views
from .security import MAX_BODY, Guard, csrf_ok, login, scrub
from .token import derive

HERE = Path(__file__).parent
Handler = Callable[[Request], Awaitable[Response]]
SSE_POLL_S = 0.5
"""How often the activity stream looks at the run file while a run is live."""
ACTIVE_REFRESH_S, IDLE_REFRESH_S = 5, 30


@dataclass
class Dashboard:
    """What the routes share: the home, the token, the clock and the Run-now runner."""

    home: Home
    token: str
    clock: Clock | None = None
    runner: actions.Runner = field(default_factory=actions.Runner)
    secure_cookie: bool = False

    def manager(self) -> AutomationManager:
        mgr = AutomationManager(self.home.root, clock=self.clock)
        REGISTRY.register_config(mgr.workspace.config)
        return mgr


class JSON(Response):
    """JSON as the CLI prints it (``default=str``), masked and path-scrubbed."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, indent=2, ensure_ascii=False, default=str).encode()


def create_app(
    home: Home,
    token: str,
    *,
    hosts: set[str] | None,
    clock: Clock | None = None,
    secure_cookie: bool = False,
) -> Starlette:
    """The ASGI app for ``home``; ``hosts`` are the Host values it answers (None: any)."""
    dash = Dashboard(home, token, clock, secure_cookie=secure_cookie)
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["money"] = lambda v: f"${float(v or 0):.4f}"
    env.filters["duration"] = format_ms
    env.filters["pretty"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False, default=str)
    env.filters["short"] = lambda v, n=80: (str(v)[: n - 1] + "…") if len(str(v)) > n else str(v)
    env.filters["pct"] = lambda done, planned: int(100 * done / planned) if planned else 0

    def wants_json(request: Request) -> bool:
        """``/api/...``, ``Accept: application/json``, or a script's POST (CSRF header)."""
        headers = request.headers
        return (
            request.url.path.startswith("/api/")
            or "application/json" in headers.get("accept", "")
            or "x-csrf-token" in headers
        )

    def page(request: Request, template: str, doc: dict[str, Any], **extra: Any) -> Response:
        home_text = str(home.root.resolve())
        doc = scrub(doc, home_text)
        if wants_json(request):
            return JSON(doc)
        body = env.get_template(template).render(
            doc=doc,
            request=request,
            csrf=derive(token, "csrf"),
            version=__version__,
            home=home_text,
            nav=request.url.path.split("/")[1] or "overview",
            **{k: scrub(v, home_text) for k, v in extra.items()},
        )
        return HTMLResponse(body)

    def guarded(handler: Handler) -> Handler:
        """Turn an AmgrError into its message: 404 for an unknown id, else 400 / 409."""

        async def inner(request: Request) -> Response:
            try:
                return await handler(request)
            except AmgrError as exc:
                message = scrub(str(exc), str(home.root.resolve()))
                code = 404 if "no " in message and ("match" in message or "id" in message) else 400
                if exc.exit_code == 3:
                    code = 409
                if wants_json(request):
                    return JSON({"error": message}, status_code=code)
                body = env.get_template("error.html").render(
                    message=message, version=__version__, nav="", csrf=derive(token, "csrf")
                )
                return HTMLResponse(body, status_code=code)

        return inner

    async def form(request: Request) -> dict[str, str]:
        """The POST's fields after the CSRF check (403 without the right token)."""
        data = await request.form(max_files=1, max_fields=20, max_part_size=1024 * 1024)
        fields = {k: v for k, v in data.items() if isinstance(v, str)}
        if not csrf_ok(token, fields.get("csrf") or request.headers.get("x-csrf-token")):
            raise _Forbidden()
        return fields

    def done(request: Request, doc: dict[str, Any], back: str) -> Response:
        if wants_json(request):
            return JSON(scrub(doc, str(home.root.resolve())))
        return RedirectResponse(back, 303)

    # -- pages ---------------------------------------------------------------------------

    async def overview(request: Request) -> Response:
        from .charts import overview_charts

        mgr = dash.manager()
        doc = views.status(mgr)
        if wants_json(request):
            return page(request, "overview.html", doc)
        live = [r for r in views.runs(mgr)["runs"] if r["status"] == "running"]
        return page(
            request,
            "overview.html",
            doc,
            live=live,
            failures=views.failures(mgr),
            charts=overview_charts(mgr),
            active=bool(live or doc["in_progress"]),
        )

    async def history(request: Request) -> Response:
        mgr = dash.manager()
        params = views.HistoryParams.parse(dict(request.query_params))
        doc = views.history(mgr, params)
        return page(request, "history.html", doc, params=params)

    async def record(request: Request) -> Response:
        return page(request, "record.html", views.record(dash.manager(), request.path_params["id"]))

    async def runs(request: Request) -> Response:
        phase = request.query_params.get("status") or None
        doc = views.runs(dash.manager(), phase)
        active = any(r["status"] == "running" for r in doc["runs"])
        return page(request, "runs.html", doc, phase=phase, active=active)

    async def run(request: Request) -> Response:
        mgr = dash.manager()
        doc = views.run(mgr, request.path_params["id"])
        if wants_json(request):
            return page(request, "run.html", doc)
        records = views.attempts(mgr, doc)
        return page(request, "run.html", doc, records=records, active=doc["status"] == "running")

    async def run_events(request: Request) -> Response:
        """Server-Sent Events: the run's state each time it changes, a log line per
        change, until the run is no longer running (or the browser goes away)."""
        mgr = dash.manager()
        store = views.run_store(mgr)
        run_id = store.resolve(request.path_params["id"])
        home_text = str(home.root.resolve())

        async def stream() -> AsyncIterator[str]:
            from ..runs import activity
            from ..runs.view import run_view

            last: dict[str, Any] | None = None
            offset = 0
            yield "retry: 2000\n\n"
            while True:
                state = await asyncio.to_thread(store.load, run_id)
                if state is None:
                    break
                view = scrub(run_view(state, store.home), home_text)
                # the run's own activity log (what `amgr runs log -f` prints), else what
                # changed between two views of a run that keeps no activity log
                written, offset = await asyncio.to_thread(
                    activity.read_from, store.home, run_id, offset
                )
                said = [scrub(line, home_text) for line in written]
                if view != last and not offset:
                    said += _log_lines(last, view)
                for line in said:
                    yield f"event: log\ndata: {json.dumps(line)}\n\n"
                if view != last:
                    yield f"event: state\ndata: {json.dumps(view, default=str)}\n\n"
                    last = view
                if view["status"] != "running" or await request.is_disconnected():
                    break
                await asyncio.sleep(SSE_POLL_S)
            yield "event: end\ndata: {}\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"x-accel-buffering": "no"}
        )

    async def run_action(request: Request) -> Response:
        await form(request)
        mgr = dash.manager()
        doc = actions.change_run(mgr, request.path_params["id"], request.path_params["verb"])
        return done(request, doc, f"/runs/{doc['id']}")

    async def content(request: Request) -> Response:
        state = request.query_params.get("status") or None
        kind = request.query_params.get("type") or None
        doc = views.content(dash.manager(), state, kind)
        return page(request, "content.html", doc, status=state, kind=kind)

    async def item(request: Request) -> Response:
        from .preview import previews

        mgr = dash.manager()
        doc = views.item(mgr, request.path_params["id"])
        if wants_json(request):
            return page(request, "item.html", doc)
        return page(request, "item.html", doc, previews=previews(doc))

    async def item_file(request: Request) -> Response:
        """One file of an item (its preview's image, video, cover), from its folder only."""
        mgr = dash.manager()
        doc = views.item(mgr, request.path_params["id"])
        role = request.path_params["role"]
        if role not in doc["files"]:
            raise UsageError(f"{doc['id']}: no file with role {role!r} (no such id)")
        path = Path(doc["files"][role])
        folder = Path(doc["folder"]).resolve()
        if not path.resolve().is_relative_to(folder) or not path.is_file():
            raise UsageError(f"{doc['id']}: file {role} is not in the item's folder (no such id)")
        return FileResponse(path, headers={"content-disposition": "inline"})

    async def item_action(request: Request) -> Response:
        fields = await form(request)
        mgr = dash.manager()
        verb = request.path_params["verb"]
        reason = fields.get("reason", "").strip()[:500] or None
        doc = actions.change_item(mgr, request.path_params["id"], verb, reason)
        return done(request, doc, f"/content/{doc['id']}")

    async def tasks(request: Request) -> Response:
        mgr = dash.manager()
        doc = views.tasks(mgr, request.query_params.get("category") or None)
        if wants_json(request):
            return page(request, "tasks.html", doc)
        return page(
            request,
            "tasks.html",
            doc,
            last=views.last_results(mgr),
            outcomes=dict(dash.runner.outcomes),
            active=dash.runner.busy(),
        )

    async def task(request: Request) -> Response:
        doc = views.task(dash.manager(), request.path_params["id"])
        return page(request, "task.html", doc)

    async def task_action(request: Request) -> Response:
        await form(request)
        verb = request.path_params["verb"]
        task_id = request.path_params["id"]
        if verb == "run":
            doc = dash.runner.start(dash.manager, task_id)
            await asyncio.sleep(0.3)  # let a multi-stage run write its run file first
            return done(request, doc, "/runs" if _multi_stage(dash, task_id) else "/tasks")
        doc = actions.change_task(dash.manager(), task_id, verb)
        return done(request, doc, "/tasks")

    async def pipeline(request: Request) -> Response:
        from .pipeline import pipeline as pipeline_doc

        return page(request, "pipeline.html", pipeline_doc(dash.manager()))

    async def keywords_import(request: Request) -> Response:
        """A keyword CSV upload (at most MAX_BODY bytes), parsed by the CLI's importer."""
        from . import pipeline as adapter

        data = await request.form(max_files=1, max_fields=5, max_part_size=MAX_BODY)
        if not csrf_ok(token, str(data.get("csrf") or request.headers.get("x-csrf-token"))):
            raise _Forbidden()
        upload = data.get("file")
        if upload is None or isinstance(upload, str):
            raise UsageError("upload: no file — choose a CSV or text file")
        raw = await upload.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            raise UsageError(f"{upload.filename}: over {MAX_BODY} bytes — split the file")
        name = Path(upload.filename or "upload.csv").name
        doc = adapter.import_keywords(
            dash.manager(), request.path_params["id"], raw.decode("utf-8", "replace"), name
        )
        return done(request, doc, "/pipeline")

    async def keywords_disable(request: Request) -> Response:
        from . import pipeline as adapter

        fields = await form(request)
        doc = adapter.disable_keyword(
            dash.manager(), request.path_params["id"], fields.get("keyword", "")
        )
        return done(request, doc, "/pipeline")

    async def session(request: Request) -> Response:
        return JSON({"csrf": derive(token, "csrf"), "version": __version__})

    async def login_route(request: Request) -> Response:
        return login(token, request.query_params.get("token"), secure_cookie)

    async def forbidden(request: Request, exc: Exception) -> Response:
        return JSON({"error": "403: missing or wrong CSRF token"}, status_code=403)

    def both(path: str, handler: Handler, **kw: Any) -> list[Route]:
        wrapped = guarded(handler)
        return [
            Route(path, wrapped, **kw),
            Route("/api" + (path if path != "/" else ""), wrapped, **kw),
        ]

    routes = [
        *both("/", overview),
        Route("/api/status", guarded(overview)),
        *both("/history", history),
        *both("/history/{id}", record),
        *both("/runs", runs),
        *both("/runs/{id}", run),
        Route("/runs/{id}/events", guarded(run_events)),
        Route("/runs/{id}/{verb}", guarded(run_action), methods=["POST"]),
        *both("/content", content),
        *both("/content/{id}", item),
        Route("/content/{id}/file/{role}", guarded(item_file)),
        Route("/content/{id}/{verb}", guarded(item_action), methods=["POST"]),
        *both("/tasks", tasks),
        *both("/tasks/{id}", task),
        Route("/tasks/{id}/{verb}", guarded(task_action), methods=["POST"]),
        *both("/pipeline", pipeline),
        Route("/pipeline/{id}/keywords", guarded(keywords_import), methods=["POST"]),
        Route("/pipeline/{id}/keywords/disable", guarded(keywords_disable), methods=["POST"]),
        Route("/api/session", session),
        Route("/login", login_route),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={_Forbidden: forbidden})
    app.state.dashboard = dash
    return Guard(app, token=token, hosts=hosts)  # type: ignore[return-value]


def dashboard_of(app: Any) -> Dashboard | None:
    """The :class:`Dashboard` behind an app made by :func:`create_app`."""
    inner = getattr(app, "app", None)
    dash = getattr(getattr(inner, "state", None), "dashboard", None)
    return dash if isinstance(dash, Dashboard) else None


class _Forbidden(Exception):
    """A POST without the right CSRF token."""


def _multi_stage(dash: Dashboard, task_id: str) -> bool:
    from ..tasktypes import REGISTRY as TYPES

    spec = dash.manager().workspace.task(task_id)
    return spec is not None and TYPES.get(spec.category, spec.type).multi_stage


def _when(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value or "-")


def _log_lines(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """What changed between two views of a run, as activity-log lines."""
    at = _when(after.get("updated_at"))[11:]
    if before is None:
        return [f"{at} {after['status']} at {after.get('stage') or 'start'}"]
    lines = []
    for name, count in after["stages"].items():
        old = before["stages"].get(name)
        if old != count:
            lines.append(f"{at} {name} {count['done']}/{count['planned']}")
    if before.get("control") != after.get("control") and after.get("control"):
        lines.append(f"{at} {after['control']} asked: takes effect after the current item")
    if before["status"] != after["status"]:
        reason = f" — {after['reason']}" if after.get("reason") else ""
        lines.append(f"{at} {after['status']}{reason}")
    return lines
