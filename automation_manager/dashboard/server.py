"""Serving the dashboard with uvicorn: in the foreground, or in a thread beside the daemon.

The thread's server installs no signal handlers (the daemon owns SIGINT/SIGTERM/SIGHUP)
and runs its own event loop, so the scheduler thread never waits on a page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..home import Home
from .security import allowed_hosts, is_loopback
from .token import load_token

DEFAULT_LISTEN = "127.0.0.1:8765"


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str, *, i_know: bool = False) -> Listen:
        """``HOST:PORT`` (``[::1]:8765`` for IPv6); a non-loopback host needs ``i_know``."""
        host, sep, port = text.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
            raise UsageError(f"--listen {text}: expected HOST:PORT, e.g. --listen 127.0.0.1:8765")
        host = host.strip("[]")
        if not is_loopback(host) and not i_know:
            raise UsageError(
                f"--listen {text}: not a loopback address; anyone who can reach it may try "
                "the token — add --i-know (and put it behind TLS) to serve it anyway"
            )
        return cls(host, int(port))

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def url(self, token: str) -> str:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        shown = f"[{shown}]" if ":" in shown else shown
        return f"http://{shown}:{self.port}/login?token={token}"


def make_server(home: Home, listen: Listen, *, new_token: bool = False) -> tuple[Any, str]:
    """A configured ``uvicorn.Server`` for ``home`` and the login URL."""
    import uvicorn

    from .app import create_app

    token = load_token(home, rotate=new_token)
    hosts = allowed_hosts(listen.host, listen.port) if listen.loopback else None
    app = create_app(home, token, hosts=hosts)
    config = uvicorn.Config(
        app,
        host=listen.host,
        port=listen.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=2,
        lifespan="off",
    )
    return uvicorn.Server(config), listen.url(token)


class Background:
    """The dashboard in a daemon thread (``amgr run --dashboard``)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        server.install_signal_handlers = lambda: None  # the daemon's thread owns signals
        self.thread = threading.Thread(target=server.run, name="amgr-dashboard", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        import time

        self.thread.start()
        end = time.monotonic() + timeout
        while not self.server.started and self.thread.is_alive() and time.monotonic() < end:
            time.sleep(0.02)
        if not self.server.started:
            raise UsageError("the dashboard could not start (is its port taken?)")

    def stop(self, runs_grace: float = 30.0) -> None:
        """Stop serving; wait up to ``runs_grace`` s for Run-now runs started here, so
        each is recorded as it ends (one killed by a hard exit is recorded interrupted
        at the next start)."""
        from .app import dashboard_of

        self.server.should_exit = True
        self.thread.join(5)
        dash = dashboard_of(self.server.config.app)
        if dash is not None:
            dash.runner.join(runs_grace)


def serve_forever(server: Any, ready: Callable[[], None]) -> None:
    """Serve in the foreground until SIGINT or SIGTERM, then stop cleanly (exit 0);
    ``ready`` is called once the port accepts connections."""
    import signal

    stopping = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stopping.set())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    web = Background(server)
    try:
        web.start()
        ready()
        while web.thread.is_alive() and not stopping.wait(0.5):
            pass
    finally:
        web.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
