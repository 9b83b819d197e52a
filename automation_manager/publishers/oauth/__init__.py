"""OAuth 2.0 for platforms that need a person's consent once (YouTube, Drive, X).

``amgr auth NAME`` runs one of two flows and keeps the result in a :class:`TokenStore`
(``.mp/auth/NAME.json``, mode 0600):

- :func:`loopback_flow`, the installed-app flow (RFC 8252): a one-shot HTTP listener on
  ``127.0.0.1``, the browser sent to the consent page with PKCE (S256) and a ``state``,
  the code from the redirect exchanged at the token endpoint;
- :func:`device_flow` (RFC 8628) when no browser is near: a code to type on another
  device, the token endpoint polled at the interval the server asks for.

Publishers call :func:`refresh_if_needed` (or use :class:`BearerAuth`, which does it
before every request): an access token is refreshed a few minutes before it expires;
a refresh token the server refuses (revoked, expired) is an :class:`AuthError` that
names ``amgr auth NAME``. Every token and the client secret are registered with
:data:`~automation_manager.secrets.REGISTRY`, so none is ever written anywhere else.
"""

from .connect import OAuthPublisher, connect, oauth_platform_name
from .device import DeviceCode, device_flow
from .loopback import Pkce, consent_url, loopback_flow
from .tokens import (
    AUTH_DIR,
    REFRESH_MARGIN,
    BearerAuth,
    OAuthClient,
    Token,
    TokenStore,
    grant_token,
    refresh_if_needed,
)

__all__ = [
    "AUTH_DIR",
    "REFRESH_MARGIN",
    "BearerAuth",
    "DeviceCode",
    "OAuthClient",
    "OAuthPublisher",
    "Pkce",
    "Token",
    "TokenStore",
    "connect",
    "consent_url",
    "device_flow",
    "grant_token",
    "loopback_flow",
    "oauth_platform_name",
    "refresh_if_needed",
]
