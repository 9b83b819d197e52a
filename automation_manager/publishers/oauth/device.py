"""The device authorization flow (RFC 8628), for a machine without a browser near.

The device endpoint gives a code to type on another device; the token endpoint is
polled at the interval the server asks for (``authorization_pending``, ``slow_down``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...errors import AuthError, TaskError
from ...secrets import REGISTRY
from ..base import Sleep
from .loopback import keep_token
from .tokens import OAuthClient, Token, TokenStore, grant_token, reason, token_http

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True)
class DeviceCode:
    """What the device endpoint answered: the code a person types, and where."""

    device_code: str
    user_code: str
    verification_url: str
    expires_in: float
    interval: float


def device_flow(
    client: OAuthClient,
    store: TokenStore,
    *,
    show: Callable[[DeviceCode], object],
    now: Callable[[], datetime],
    sleep: Sleep,
) -> Token:
    """Ask for a user code, show it, and poll the token endpoint until it is entered.

    :raises AuthError: declined, or the code expired before it was entered.
    """
    if not client.device_uri:
        raise TaskError(
            f"{client.platform}: this platform has no device flow; run without --device"
        )
    http = token_http(client, sleep)
    try:
        response = http.request(
            "POST",
            client.device_uri,
            what="ask for a device code",
            repeatable=True,
            data={"client_id": client.client_id, "scope": " ".join(client.scopes)},
        )
    finally:
        http.close()
    data: Any = response.json()
    code = DeviceCode(
        device_code=str(data["device_code"]),
        user_code=str(data["user_code"]),
        verification_url=str(data.get("verification_url") or data.get("verification_uri")),
        expires_in=float(data.get("expires_in") or 1800),
        interval=float(data.get("interval") or 5),
    )
    REGISTRY.register(code.device_code)
    show(code)
    deadline = now() + timedelta(seconds=code.expires_in)
    interval = code.interval
    while now() < deadline:
        sleep(interval)
        got = grant_token(
            client,
            {"grant_type": DEVICE_GRANT, "device_code": code.device_code},
            now=now(),
            sleep=sleep,
            what="wait for the code to be entered",
        )
        if isinstance(got, Token):
            return keep_token(client, store, got)
        error = str(got.get("error"))
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5
            continue
        raise AuthError(
            f"{client.platform}: the device code was not accepted ({reason(got)}): run "
            f"`amgr auth {client.platform} --device` again"
        )
    raise AuthError(
        f"{client.platform}: the code {code.user_code} was not entered in time: run "
        f"`amgr auth {client.platform} --device` again"
    )
