"""``amgr auth NAME``: which configured platform it means, and its consent flow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ...errors import ConfigError, Problem
from ..base import Sleep
from .device import DeviceCode, device_flow
from .loopback import loopback_flow
from .tokens import OAuthClient, Token, TokenStore

if TYPE_CHECKING:
    from ...config import Workspace


@runtime_checkable
class OAuthPublisher(Protocol):
    """A publisher connected with ``amgr auth``: it names its OAuth client."""

    name: str

    def oauth_client(self) -> OAuthClient: ...


def oauth_platform_name(ws: Workspace, name: str) -> str:
    """The configured platform ``amgr auth NAME`` means: NAME itself, or the one platform
    of kind NAME (``amgr auth youtube`` with a platform called ``channel``)."""
    platforms = ws.config.platforms
    config = platforms.get(name)
    if config is None:
        of_kind = [n for n, c in platforms.items() if c.kind == name]
        if len(of_kind) == 1:
            return of_kind[0]
        known = ", ".join(sorted(platforms)) or "none"
        fix = f"add it to platforms in config.json (configured: {known})"
        if of_kind:
            fix = f"name one of {', '.join(of_kind)}"
        raise ConfigError([Problem("config.json", f"platforms.{name}", "not configured", fix)])
    if config.kind == "outbox":
        kind = "x" if name in ("twitter", "x") else name
        raise ConfigError(
            [
                Problem(
                    "config.json",
                    f"platforms.{name}",
                    "is an outbox (no connection)",
                    f'set it to {{"kind": "{kind}", ...}} as the README\'s section for the '
                    "platform shows, then run amgr auth again",
                )
            ]
        )
    return name


def connect(
    ws: Workspace,
    name: str,
    *,
    device: bool,
    open_url: Callable[[str], object],
    show_code: Callable[[DeviceCode], object],
    now: Callable[[], datetime],
    sleep: Sleep,
    timeout_s: float = 300.0,
) -> tuple[str, Token]:
    """Run the consent flow for platform ``name``; its name and the stored token."""
    from .. import publisher_for
    from ..base import PublishEnv

    name = oauth_platform_name(ws, name)
    config = ws.config.platforms[name]
    publisher = publisher_for(name, config, PublishEnv(home=ws.home, now=now, sleep=sleep))
    if not isinstance(publisher, OAuthPublisher):
        raise ConfigError(
            [
                Problem(
                    "config.json",
                    f"platforms.{name}",
                    f"kind {config.kind} does not connect with amgr auth",
                    "set the credentials its README section names",
                )
            ]
        )
    client = publisher.oauth_client()
    store = TokenStore(ws.home, name)
    if device:
        token = device_flow(client, store, show=show_code, now=now, sleep=sleep)
    else:
        token = loopback_flow(
            client, store, open_url=open_url, now=now, sleep=sleep, timeout_s=timeout_s
        )
    return name, token
