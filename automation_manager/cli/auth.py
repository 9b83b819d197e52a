"""``amgr auth NAME``: connect an OAuth platform once (YouTube, Google Drive, X)."""

from __future__ import annotations

import time

import click

from .output import manager


@click.command("auth")
@click.argument("platform")
@click.option(
    "--device",
    is_flag=True,
    help="No browser here: show a code to enter on another device instead.",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="Do not open a browser; open the printed address yourself (on this machine).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(1, 3600),
    default=300.0,
    show_default=True,
    help="Seconds to wait for the consent page's answer.",
)
@click.pass_context
def auth_cmd(
    ctx: click.Context, platform: str, device: bool, no_browser: bool, timeout_s: float
) -> None:
    """Connect PLATFORM (a name in config.json platforms, or its kind).

    Opens the platform's consent page in a browser and waits for it to redirect back
    to a one-shot listener on 127.0.0.1; the refresh token is kept in
    .mp/auth/NAME.json (mode 0600) and access tokens are refreshed from it.

    \b
      amgr auth youtube            # browser on this machine
      amgr auth youtube --device   # a code to type on a phone or another computer
    """
    from ..publishers.health import check_publisher
    from ..publishers.oauth import DeviceCode, connect

    mgr = manager(ctx)

    def open_url(url: str) -> None:
        click.echo(f"Open this address to allow access:\n  {url}", err=True)
        if not no_browser:
            import webbrowser

            webbrowser.open(url)

    def show_code(code: DeviceCode) -> None:
        click.echo(
            f"On any device, open {code.verification_url} and enter the code {code.user_code}"
            f" (valid {code.expires_in / 60:.0f} minutes); waiting…",
            err=True,
        )

    name, _ = connect(
        mgr.workspace,
        platform,
        device=device,
        open_url=open_url,
        show_code=show_code,
        now=mgr.now,
        sleep=time.sleep,
        timeout_s=timeout_s,
    )
    click.echo(f"connected {name}: tokens kept in .mp/auth/{name}.json (mode 0600)")
    from ..publishers import publisher_for
    from ..publishers.base import PublishEnv

    config = mgr.workspace.config.platforms[name]
    env = PublishEnv(home=mgr.home, now=mgr.now, sleep=time.sleep, attempts=2)
    publisher = publisher_for(name, config, env)
    try:
        result = check_publisher(publisher)
    finally:
        publisher.close()
    click.echo(result.line())
    if not result.ok:
        ctx.exit(1)
