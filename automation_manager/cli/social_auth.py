"""``amgr auth x``: connect an X account with OAuth 2.0 (PKCE, loopback redirect)."""

from __future__ import annotations

import click

from ..errors import ConfigError
from .output import manager


@click.group("auth")
def auth_group() -> None:
    """Connect accounts that need a browser sign-in; tokens are kept 0600 under .mp/auth/."""


@auth_group.command("x")
@click.option("--platform", "platform", default=None, help="The x platform's name in config.json.")
@click.option("--port", default=8765, show_default=True, help="Loopback port of the callback.")
@click.option("--no-browser", is_flag=True, help="Only print the address to open.")
@click.option("--timeout", "timeout_s", default=300.0, show_default=True, hidden=True)
@click.pass_context
def auth_x_cmd(
    ctx: click.Context, platform: str | None, port: int, no_browser: bool, timeout_s: float
) -> None:
    """Sign in to X in a browser and store the tokens (refreshed automatically).

    Register http://127.0.0.1:PORT/callback as the callback URI of the app in the X
    developer portal (User authentication settings, type "Native App"), and set
    platforms.NAME.client_id to the app's OAuth 2.0 client id.
    """
    from ..publishers.x_auth import authorize, tokens_path

    mgr = manager(ctx)
    found = {
        n: p
        for n, p in mgr.workspace.config.platforms.items()
        if getattr(p, "kind", None) == "x" and (platform is None or n == platform)
    }
    if len(found) != 1:
        names = ", ".join(found) or "none"
        raise ConfigError(
            f"config.json: platforms: {'no' if not found else 'more than one'} x platform"
            f"{f' named {platform}' if platform else ''} (found: {names}) — add one with "
            '"kind": "x" and client_id, or pass --platform NAME'
        )
    name, cfg = next(iter(found.items()))
    if not getattr(cfg, "client_id", None):
        raise ConfigError(
            f"config.json: platforms.{name}.client_id: not set — the OAuth 2.0 client id of "
            "your app (X developer portal → Keys and tokens)"
        )
    tokens = authorize(
        mgr.workspace.home,
        name,
        cfg,
        port=port,
        now=mgr.now,
        show=lambda line: click.echo(line, err=False),
        open_browser=not no_browser,
        timeout_s=timeout_s,
    )
    where = tokens_path(mgr.workspace.home, name).relative_to(mgr.workspace.home.root)
    click.echo(
        f"connected {name}: tokens stored in {where} (0600); the access token "
        f"(valid {int(tokens.get('expires_in', 0)) // 60} min) is refreshed automatically"
    )
