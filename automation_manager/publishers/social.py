"""What the social publishers (X, Instagram, Bluesky, Telegram) share.

- :class:`SocialHttp`: :class:`~.http.PlatformHttp` that also honours a platform's own
  rate-limit headers: a used-up quota (``remaining: 0``) waits for its reset before the
  next request, and a 429 waits for the reset the platform names (X's
  ``x-rate-limit-reset``, Telegram's ``retry_after``), bounded like ``Retry-After``;
- :func:`media_of`: the item's files to attach, by role (``video``, ``card``,
  ``thumbnail``, then any image);
- :func:`split_to`: text split into posts that fit a platform's own way of counting.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import httpx

from ..content.thread import split_thread
from ..errors import TaskError, TransientError
from .http import PlatformHttp
from .post import IMAGE_TYPES, Post

if TYPE_CHECKING:
    from .base import Publisher

VIDEO_ROLES = ("video", "short", "shorts", "reel")
IMAGE_MEDIA_ROLES = ("card", "image", "thumbnail", "cover", "featured_image")
VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Media:
    """One file to attach: its path, MIME type, role and alt text."""

    path: Path
    mime: str
    role: str
    alt: str

    @property
    def is_video(self) -> bool:
        return self.mime.startswith("video/")


def media_of(post: Post, *, images: int = 4, video: bool = True) -> list[Media]:
    """The files to attach to ``post``: its video alone when there is one (and the
    platform takes video), else up to ``images`` images, the ``card`` first."""
    default = str(post.meta.get("alt") or post.meta.get("alt_text") or post.title)
    visuals = post.meta.get("visuals")
    described = {
        str(v.get("name")): str(v["alt"])
        for v in (visuals.values() if isinstance(visuals, dict) else [])
        if isinstance(v, dict) and v.get("alt")
    }

    def alt_of(path: Path) -> str:
        """The visual's own alt text (``meta.visuals``), else the item's, else its title."""
        return described.get(path.name, default)[:1000]

    files = post.files
    if video:
        for role in VIDEO_ROLES:
            path = files.get(role)
            if path is not None and path.suffix.lower() in VIDEO_TYPES:
                return [Media(path, VIDEO_TYPES[path.suffix.lower()], role, alt_of(path))]
    out: list[Media] = []
    seen: set[Path] = set()
    roles = [r for r in IMAGE_MEDIA_ROLES if r in files] + sorted(files)
    for role in roles:
        path = files[role]
        mime = IMAGE_TYPES.get(path.suffix.lower())
        if mime is None or path in seen or len(out) >= images:
            continue
        seen.add(path)
        out.append(Media(path, mime, role, alt_of(path)))
    return out


def split_to(text: str, limit: int, length: Callable[[str], int]) -> list[str]:
    """``text`` as posts of at most ``limit`` as the platform counts (``length``): one
    post, or a thread numbered `` (i/n)`` (:func:`~..content.thread.split_thread`)."""
    text = text.strip()
    if not text:
        return []
    if length(text) <= limit:
        return [text]
    cap = limit
    while cap >= 20:
        pieces = split_thread(text, cap)
        if all(length(p) <= limit for p in pieces):
            return pieces
        cap -= max(1, cap // 10)
    raise TaskError(f"cannot split the text into posts of {limit}")


def posts_of(post: Post, limit: int, length: Callable[[str], int]) -> list[str]:
    """The posts that carry ``post``: its own posts (each split if too long), or its
    short text split to the limit."""
    out: list[str] = []
    for piece in post.thread or [post.short_text()]:
        out.extend(split_to(piece, limit, length))
    return out


def same_text(a: str, b: str) -> bool:
    """Whether a post found on the platform is the one sent: equal once links (which
    platforms rewrite) and spacing are left out."""

    def norm(text: str) -> str:
        return " ".join(_URL.sub(" ", text).split())

    return norm(a) == norm(b)


class SocialHttp(PlatformHttp):
    """:class:`PlatformHttp` plus the platform's own rate-limit headers.

    :param now: the run's clock (a reset is an instant).
    :param remaining_header: the header with the requests left in the window.
    :param reset_header: the header with the window's reset, in epoch seconds.
    """

    def __init__(
        self,
        platform: str,
        *,
        now: Callable[[], datetime],
        remaining_header: str | None = None,
        reset_header: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(platform, **kwargs)
        self.now = now
        self.remaining_header = remaining_header
        self.reset_header = reset_header
        self.resets_at: dict[str, float] = {}
        """When each used-up endpoint's quota comes back (epoch seconds): platforms
        count per endpoint, so one used up (``/users/me``) does not stop the others."""

    @classmethod
    def of(cls, publisher: Publisher, **kwargs: Any) -> Self:
        """The client of ``publisher``: its name, clock, sleep, attempts and timeout."""
        env = publisher.env
        return cls(
            publisher.name,
            now=env.now,
            sleep=env.sleep,
            attempts=env.attempts,
            timeout_s=float(getattr(publisher.config, "timeout_s", 30.0)),
            **kwargs,
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        endpoint = f"{method} {httpx.URL(url).path}"
        self._wait_for_quota(endpoint)
        response = super().request(method, url, **kwargs)
        self._note_quota(endpoint, response)
        return response

    def reset_in(self, response: httpx.Response) -> float | None:
        """Seconds until the platform's reset header says the quota is back."""
        if self.reset_header is None:
            return None
        raw = response.headers.get(self.reset_header)
        try:
            reset = float(raw) if raw is not None else None
        except ValueError:
            return None
        return None if reset is None else max(0.0, reset - self.now().timestamp())

    def wait_of(self, response: httpx.Response) -> float | None:
        """How long a 429 asks to wait beyond ``Retry-After`` (the reset header)."""
        return self.reset_in(response)

    def refine(self, response: httpx.Response, what: str) -> None:
        """Raise the platform-specific error a response means, if any (subclass hook)."""

    def _failure(
        self, response: httpx.Response, what: str, repeatable: bool, attempt: int
    ) -> TransientError:
        self.refine(response, what)
        if response.status_code == 429 and "retry-after" not in response.headers:
            wait = self.wait_of(response)
            if wait is not None:
                response.headers["Retry-After"] = str(math.ceil(wait))
        return super()._failure(response, what, repeatable, attempt)

    def _note_quota(self, endpoint: str, response: httpx.Response) -> None:
        if self.remaining_header is None:
            return
        raw = response.headers.get(self.remaining_header)
        if raw is not None and raw.strip() == "0":
            wait = self.reset_in(response)
            if wait:
                self.resets_at[endpoint] = self.now().timestamp() + wait

    def _wait_for_quota(self, endpoint: str) -> None:
        resets_at = self.resets_at.pop(endpoint, None)
        if resets_at is None:
            return
        wait = resets_at - self.now().timestamp()
        if wait > self.policy.max_retry_after_s:
            self.resets_at[endpoint] = resets_at
            at = datetime.fromtimestamp(resets_at).astimezone()
            raise TransientError(
                f"{self.platform}: its rate limit for {endpoint} is used up until "
                f"{at:%H:%M:%S} (the {self.remaining_header} header); the next run goes on",
                retry_after=wait,
            )
        if wait > 0:
            self.sleep(wait)


def stage_public(src: Path, folder: Path, base_url: str, item_id: str) -> str:
    """Copy ``src`` to ``folder/<item>/<name>`` (atomically; once) and return its URL
    under ``base_url``: a file a platform fetches from the public web."""
    from ..fsutil import atomic_write_bytes

    dest = folder / item_id / src.name
    data = src.read_bytes()
    if not dest.is_file() or dest.read_bytes() != data:
        atomic_write_bytes(dest, data)
    return f"{base_url.rstrip('/')}/{item_id}/{src.name}"
