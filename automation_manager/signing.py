"""HMAC signatures for outgoing webhooks (the webhook platform and notifications alike).

A receiver recomputes ``sha256=HMAC(secret, f"{timestamp}.{body}")`` and compares it in
constant time; the timestamp lets it refuse replays.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Amgr-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """True when ``signature`` is the one :func:`sign` gives (constant-time compare)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
