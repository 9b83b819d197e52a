"""Mastodon: statuses with a bearer token and an ``Idempotency-Key``, with media.

An item's video (shorts) or image (card, featured image, cover) is uploaded first
(``POST /api/v2/media`` with its alt text), polled until the server has processed it,
and attached to the first status; the upload is a ledger part, so a retry reuses it.

Text longer than the instance's limit (``/api/v2/instance``
``configuration.statuses.max_characters``, 500 when the server does not say) becomes a
thread, each reply pointing at the one before. Every status carries an idempotency key
that is the same for the same (item, platform, part) on every attempt, so a resend after
a lost answer gets the original status back instead of a second one. Mastodon keeps
those keys for about an hour; an unanswered send older than that is not resent blindly.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from ..config.platforms import MastodonPlatform
from ..content.thread import split_thread
from ..secrets import secret_from_env
from .base import Parts, Publisher, Receipt
from .http import PlatformHttp
from .ledger import stable_id
from .post import Post

DEFAULT_MAX_CHARACTERS = 500
URL_LENGTH = 23
"""Mastodon counts every link as 23 characters, whatever its length."""
_URL = re.compile(r"https?://\S+")
MEDIA_POLLS = 30
"""How many times an uploaded file's processing is checked (waits grow to 5 s)."""
MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".mp4": "video/mp4",
}


def status_length(text: str) -> int:
    """The length Mastodon counts: links as 23 characters each."""
    urls = _URL.findall(text)
    return len(text) - sum(len(u) for u in urls) + URL_LENGTH * len(urls)


def split_text(text: str, limit: int) -> list[str]:
    """``text`` as statuses of at most ``limit`` as Mastodon counts: one status, or a
    thread numbered `` (i/n)`` (see :func:`automation_manager.content.thread.split_thread`).

    Links shorter than 23 characters count as 23 on Mastodon, so room is kept for them.
    """
    text = text.strip()
    if not text:
        return []
    if status_length(text) <= limit:
        return [text]
    short_links = sum(max(0, URL_LENGTH - len(u)) for u in _URL.findall(text))
    return split_thread(text, max(limit - short_links, 40))


def thread_of(post: Post, limit: int) -> list[str]:
    """The statuses that carry ``post``: its own posts (each split if too long), or its
    short text split to the limit.
    """
    pieces = post.thread or [post.short_text()]
    out: list[str] = []
    for piece in pieces:
        out.extend(split_text(piece, limit))
    return out


class MastodonPublisher(Publisher):
    """Posts statuses (threads when needed) to one Mastodon account."""

    kind = "mastodon"
    config: MastodonPlatform
    idempotency_horizon = timedelta(hours=1)

    @cached_property
    def http(self) -> PlatformHttp:
        token = secret_from_env(
            self.config.token_env,
            self.setting("token_env"),
            "an access token from Preferences → Development → New application "
            "(scopes read:accounts, write:statuses, write:media)",
        )
        return PlatformHttp(
            self.name,
            auth_hint=f"{self.config.token_env} ({self.setting('token_env')}): the token "
            "needs the read:accounts and write:statuses scopes",
            sleep=self.env.sleep,
            attempts=self.env.attempts,
            timeout_s=self.config.timeout_s,
            headers={"Authorization": f"Bearer {token}"},
        )

    @property
    def base(self) -> str:
        return self.config.url.rstrip("/")

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    def max_characters(self) -> int:
        """The instance's status length limit (500 when it does not say)."""
        for path in ("/api/v2/instance", "/api/v1/instance"):
            response = self.http.request(
                "GET",
                self.base + path,
                what="read the instance's limits",
                repeatable=True,
                accept=(404, 410),
            )
            if response.status_code >= 400:
                continue
            data: Any = response.json()
            statuses = (
                ((data.get("configuration") or {}).get("statuses") or {})
                if isinstance(data, dict)
                else {}
            )
            limit = statuses.get("max_characters") or (
                data.get("max_toot_chars") if isinstance(data, dict) else None
            )
            if isinstance(limit, int) and limit > 0:
                return limit
        return DEFAULT_MAX_CHARACTERS

    def idempotency_key(self, post: Post, part: int) -> str:
        """The same key for the same (item, platform, part), on every attempt."""
        return "amgr-" + stable_id(post.item_id, self.name, str(part))

    def media_of(self, post: Post) -> tuple[Path, str, str] | None:
        """The file to attach (the video of a short, else the image), its type and alt text."""
        path = post.files.get("video") or post.image
        mime = MEDIA_TYPES.get(path.suffix.lower()) if path else None
        if path is None or mime is None:
            return None
        visuals = post.meta.get("visuals") or {}
        alt = next(
            (
                str(v.get("alt"))
                for v in visuals.values()
                if v.get("name") == path.name and v.get("alt")
            ),
            post.title,
        )
        return path, mime, alt

    def upload_media(self, path: Path, mime: str, alt: str) -> str:
        """Upload one file; wait until Mastodon has processed it; its media id."""
        response = self.http.request(
            "POST",
            f"{self.base}/api/v2/media",
            what=f"upload {path.name}",
            repeatable=False,
            files={"file": (path.name, path.read_bytes(), mime)},
            data={"description": alt[:1500]},
        )
        data: Any = response.json()
        media_id = str(data["id"])
        delay = 0.5
        for _ in range(MEDIA_POLLS):
            if response.status_code == 200 and data.get("url"):
                return media_id
            self.env.sleep(delay)
            delay = min(5.0, delay * 2)
            response = self.http.request(
                "GET",
                f"{self.base}/api/v1/media/{media_id}",
                what=f"check that {path.name} is processed",
                repeatable=True,
                accept=(206,),
            )
            data = response.json()
        from ..errors import TransientError

        raise TransientError(
            f"{self.name}: {path.name} (media {media_id}) is still being processed; "
            "the next attempt attaches it when it is ready"
        )

    def send(self, post: Post, parts: Parts) -> Receipt:
        statuses = thread_of(post, self.max_characters())
        media_ids: list[str] = []
        media = self.media_of(post)
        if media is not None and statuses:
            done_media = parts.done.get("media")
            if done_media is None:
                parts.record("media", self.upload_media(*media))
                done_media = parts.done["media"]
            media_ids = [str(done_media["remote_id"])]
        if not statuses:
            from ..errors import TaskError

            raise TaskError(f"{self.name}: item {post.item_id} has no text to post")
        posted: list[dict[str, Any]] = []
        reply_to: str | None = None
        for index, text in enumerate(statuses):
            done = parts.done.get(f"status-{index}")
            if done is None:
                body: dict[str, Any] = {"status": text, "visibility": self.config.visibility}
                if reply_to is not None:
                    body["in_reply_to_id"] = reply_to
                if index == 0 and media_ids:
                    body["media_ids"] = media_ids
                data = self.http.request(
                    "POST",
                    f"{self.base}/api/v1/statuses",
                    repeatable=True,
                    json=body,
                    what=f"post status {index + 1} of {len(statuses)}",
                    headers={"Idempotency-Key": self.idempotency_key(post, index)},
                ).json()
                parts.record(f"status-{index}", str(data["id"]), data.get("url"))
                done = parts.done[f"status-{index}"]
            posted.append(done)
            reply_to = str(done["remote_id"])
        return Receipt.of_thread(posted)

    def check(self) -> str:
        data = self.http.request(
            "GET",
            f"{self.base}/api/v1/accounts/verify_credentials",
            what="verify the access token",
            repeatable=True,
        ).json()
        limit = self.max_characters()
        return f"authenticated as @{data.get('acct', '?')}; statuses up to {limit} characters"
