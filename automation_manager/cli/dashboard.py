"""``amgr dashboard``: serve the web dashboard of this home and print its login URL."""

from __future__ import annotations

import click

from .output import manager

LISTEN_HELP = "HOST:PORT to listen on (loopback by default; another address needs --i-know)."


def announce(url: str, loopback: bool) -> None:
    """The one line with the login URL (like Jupyter's), and the warning off loopback."""
    if not loopback:
        click.echo(
            "amgr: warning: the dashboard listens beyond this machine over plain HTTP; "
            "put it behind TLS (a reverse proxy) and keep the token secret",
            err=True,
        )
    click.echo(f"dashboard: {url}")


@click.command("dashboard")
@click.option("--listen", default="127.0.0.1:8765", show_default=True, help=LISTEN_HELP)
@click.option("--open", "open_browser", is_flag=True, help="Open the URL in a browser.")
@click.option("--new-token", is_flag=True, help="Make a new token (old URLs and sessions end).")
@click.option("--i-know", is_flag=True, help="Allow a non-loopback --listen address.")
@click.pass_context
def dashboard_cmd(
    ctx: click.Context, listen: str, open_browser: bool, new_token: bool, i_know: bool
) -> None:
    """Serve the dashboard: overview, history, runs, content queue, tasks.

    Works whether or not the daemon runs. The printed URL signs a browser in (a
    session cookie); scripts send `Authorization: Bearer TOKEN` and read any page as
    JSON (`/api/...`). The token is kept in .mp/dashboard/token (0600).

    \b
    Examples:
      amgr dashboard
      amgr dashboard --open
      amgr dashboard --new-token          # sign every browser out
      amgr run --dashboard                # the daemon and the dashboard in one process
    """
    from ..dashboard.server import Listen, make_server, serve_forever

    where = Listen.parse(listen, i_know=i_know)
    mgr = manager(ctx)  # validates the home first: exit 2 on bad files
    server, url = make_server(mgr.workspace.home, where, new_token=new_token)

    def ready() -> None:
        announce(url, where.loopback)
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    serve_forever(server, ready)
