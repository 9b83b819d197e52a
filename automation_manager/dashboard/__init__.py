"""``amgr dashboard``: a local web dashboard over the same state and operations as the CLI.

Server-rendered pages (Starlette, Jinja2, uvicorn) with a little hand-written JavaScript
served by amgr itself. Every page reads what the CLI reads (``engine.overview``,
``logs.history``, ``runs.store``, ``publishers.queue``, ``config.edit``) and every button
calls what the matching ``amgr`` command calls. Nothing here is imported by ``amgr
--help``, ``status`` or ``history``.

Modules: :mod:`.token` (the login token file), :mod:`.security` (auth, CSRF, Origin and
Host checks, headers), :mod:`.views` (the JSON documents, shared with the CLI),
:mod:`.charts` (30-day inline SVG), :mod:`.actions` (the state changes),
:mod:`.pipeline` (adapter to the pipeline package once it exists), :mod:`.app` (routes),
:mod:`.server` (uvicorn, foreground or a thread beside the daemon).
"""
