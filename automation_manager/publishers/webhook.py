"""Webhooks: a signed JSON ``POST`` of the item; any 2xx is success.

Headers: ``X-Amgr-Event`` (``content`` or ``ping``), ``X-Amgr-Delivery`` (the same for
the same item and platform on every attempt: receivers drop a delivery id they have
seen), ``X-Amgr-Timestamp`` (unix seconds) and, when ``secret_env`` is set,
``X-Amgr-Signature: sha256=<HMAC-SHA256 of "timestamp.body" with the secret>``
(see :mod:`automation_manager.signing`). ``amgr check`` sends a signed ``ping``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cached_property
from typing import Any

import httpx

from ..config.platforms import WebhookPlatform
from ..secrets import secret_from_env
from ..signing import sign
from .base import Parts, Publisher, Receipt
from .http import PlatformHttp
from .ledger import stable_id
from .post import TEXT_TYPES, Post, render_html

MAX_INLINE_BYTES = 10 * 1024 * 1024
"""Binary files up to this size travel base64-encoded; larger ones are only listed."""


def payload(
    post: Post, platform: str, delivery: str, include_files: str = "base64"
) -> dict[str, Any]:
    """The JSON body of a content delivery.

    :param include_files: how binary files travel: ``base64``, ``urls`` (``file://``) or
        ``none`` (name, size and hash only).
    """
    files: dict[str, Any] = {}
    for role, path in post.files.items():
        data = path.read_bytes()
        entry: dict[str, Any] = {
            "name": path.name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if path.suffix.lower() in TEXT_TYPES:
            entry["text"] = data.decode("utf-8", errors="replace")
        elif include_files == "urls":
            entry["url"] = path.resolve().as_uri()
        elif include_files == "base64" and len(data) <= MAX_INLINE_BYTES:
            entry["base64"] = base64.b64encode(data).decode()
        files[role] = entry
    return {
        "event": "content",
        "delivery": delivery,
        "platform": platform,
        "item": {
            "id": post.item_id,
            "kind": post.kind,
            "title": post.title,
            "slug": post.slug,
            "topic": post.topic,
            "excerpt": post.excerpt,
            "tags": post.tags,
            "categories": post.categories,
            "created_at": post.created_at.isoformat() if post.created_at else None,
            "planned_at": post.when.isoformat() if post.when else None,
            "links": post.links,
            "meta": post.meta,
        },
        "markdown": post.markdown,
        "html": render_html(post.markdown) if post.markdown else "",
        "thread": post.thread,
        "files": files,
    }


class WebhookPublisher(Publisher):
    """Delivers items to one HTTP endpoint."""

    kind = "webhook"
    config: WebhookPlatform

    @cached_property
    def secret(self) -> str | None:
        env = self.config.secret_env
        if env is None:
            return None
        return secret_from_env(env, self.setting("secret_env"), "the shared webhook secret")

    @cached_property
    def http(self) -> PlatformHttp:
        hint = (
            f"{self.config.secret_env} ({self.setting('secret_env')}): the receiver must use "
            "the same secret"
            if self.config.secret_env
            else f"the receiver's access rules, or set {self.setting('secret_env')}"
        )
        return PlatformHttp(
            self.name,
            auth_hint=hint,
            sleep=self.env.sleep,
            timeout_s=self.config.timeout_s,
            attempts=self.env.attempts,
        )

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    def delivery_id(self, post: Post) -> str:
        """The same id for the same item and platform, on every attempt."""
        return "amgr-" + stable_id(post.item_id, self.name)

    def deliver(self, event: str, delivery: str, body: bytes, what: str) -> httpx.Response:
        """POST ``body`` with the amgr headers, signed when a secret is configured."""
        stamp = str(int(self.env.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Amgr-Event": event,
            "X-Amgr-Delivery": delivery,
            "X-Amgr-Timestamp": stamp,
        }
        if self.secret is not None:
            headers["X-Amgr-Signature"] = sign(self.secret, stamp, body)
        return self.http.request(
            "POST", self.config.url, what=what, repeatable=True, content=body, headers=headers
        )

    def send(self, post: Post, parts: Parts) -> Receipt:
        delivery = self.delivery_id(post)
        body = json.dumps(
            payload(post, self.name, delivery, self.config.include_files),
            ensure_ascii=False,
            default=str,
        ).encode("utf-8")
        response = self.deliver("content", delivery, body, "deliver the item")
        try:
            data = response.json()
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else {}
        url = data.get("url")
        return Receipt(
            remote_id=str(data.get("id") or delivery), url=url if isinstance(url, str) else None
        )

    def check(self) -> str:
        stamp = str(int(self.env.now().timestamp()))
        body = json.dumps({"event": "ping", "platform": self.name}).encode()
        response = self.deliver("ping", f"ping-{stamp}", body, "answer a ping")
        signed = "signed" if self.secret else "unsigned"
        return f"{signed} ping answered {response.status_code}"
