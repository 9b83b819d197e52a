"""The dashboard's login token: 32 random bytes (256 bits) in ``.mp/dashboard/token``, 0600.

The token is the one credential: the login URL carries it once, the session cookie and
the CSRF token are derived from it (HMAC), so rotating it (``--new-token``) logs every
browser out and voids every form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from .. import fsutil
from ..home import Home

TOKEN_BYTES = 32


def token_path(home: Home) -> Path:
    return home.mp / "dashboard" / "token"


def load_token(home: Home, *, rotate: bool = False) -> str:
    """The home's token, made on first use (or a fresh one with ``rotate``)."""
    path = token_path(home)
    if not rotate:
        try:
            text = path.read_text(encoding="ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            text = ""
        if len(text) >= 32 and text.isalnum():
            return text
    fsutil.ensure_dir(path.parent)
    token = secrets.token_hex(TOKEN_BYTES)
    fsutil.atomic_write_text(path, token + "\n", private=True)
    return token


def derive(token: str, purpose: str) -> str:
    """A value bound to ``token`` for one ``purpose`` (``session``, ``csrf``)."""
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def same(a: str | None, b: str) -> bool:
    """Constant-time equality of a given value with the expected one."""
    return a is not None and hmac.compare_digest(a.encode(), b.encode())
