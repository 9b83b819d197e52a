"""Instagram through the Graph API content publishing flow.

Instagram fetches media from a public URL, so the item's files (its video, else up to
10 images, the ``card`` first) are first copied into ``public_media_dir``, which the
user publishes at ``public_media_base_url`` (a static host, a CDN bucket synced from
it). Then: a container (``image_url``; ``video_url`` with ``media_type=REELS``; for
several images one child container each and a ``CAROUSEL`` container naming them),
its ``status_code`` polled until ``FINISHED``, then ``/media_publish``.

Reconciling: the container's id is in the ledger before the publish is asked for. An
unsure publish is looked up through the container: ``PUBLISHED`` means it went through
(the post is then found among the account's recent media by its caption);
``FINISHED`` means it did not, and the same container is published again.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..config.platforms_social import InstagramPlatform
from ..errors import AuthError, TaskError, TransientError
from ..secrets import secret_from_env
from .base import Parts, Publisher, Receipt
from .ledger import Pair, stable_id
from .post import Post
from .social import Media, SocialHttp, media_of, same_text, stage_public

if TYPE_CHECKING:
    from .wordpress import WordPressPublisher

CAPTION_LIMIT = 2200
MAX_HASHTAGS = 30
CAROUSEL_LIMIT = 10
_AUTH_CODES = {102, 190, 10, 200}
_RATE_CODES = {4, 17, 32, 613}
REFRESH_BEFORE = timedelta(days=10)
"""A long-lived token (60 days) is refreshed when it has less than this left."""


class GraphHttp(SocialHttp):
    """Graph API errors: ``{"error": {"code", "message"}}``; auth and rate codes mapped."""

    def refine(self, response: httpx.Response, what: str) -> None:
        if response.status_code == 429 or response.status_code >= 500:
            return  # waited out / retried by the usual rules
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return
        if not isinstance(error, dict):
            return
        code, message = error.get("code"), str(error.get("message") or "")
        if code in _AUTH_CODES:
            raise AuthError(
                f"{self.platform}: credentials refused (code {code}: {message}) when trying "
                f"to {what}: check {self.auth_hint}"
            )
        if code in _RATE_CODES:
            raise TransientError(
                f"{self.platform}: Instagram's rate limit is reached (code {code}: {message}); "
                "the next run goes on"
            )
        raise TaskError(f"{self.platform}: Instagram refused to {what} (code {code}): {message}")


def caption_of(post: Post) -> str:
    """The caption: the item's short text, cut to 2200 characters and 30 hashtags."""
    text = post.short_text().strip()
    seen = 0

    def keep(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) if seen <= MAX_HASHTAGS else ""

    text = re.sub(r"#\w+", keep, text)
    if len(text) > CAPTION_LIMIT:
        text = text[: CAPTION_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return text


class InstagramPublisher(Publisher):
    """Publishes images, carousels and reels to one Instagram professional account."""

    kind = "instagram"
    config: InstagramPlatform
    reconciles_by_resending = False

    @cached_property
    def http(self) -> GraphHttp:
        cfg = self.config
        token = self.token()
        return GraphHttp.of(
            self,
            auth_hint=f"{cfg.token_env} ({self.setting('token_env')}) and "
            f"{self.setting('user_id')}: a long-lived token (60 days) of that account with "
            "instagram_content_publish",
            headers={"Authorization": f"Bearer {token}"},
        )

    @property
    def base(self) -> str:
        return f"{self.config.api_base.rstrip('/')}/{self.config.api_version}"

    def token(self) -> str:
        """The token to use: the one in ``token_env``, or the refreshed one amgr keeps for
        it in ``.mp/auth/NAME.json`` (the shared :class:`~.oauth.TokenStore`; its
        ``client_id`` is a hash of the ``token_env`` value it came from, so exporting a
        new token supersedes it). Refreshed when the last try is a day old and it expires
        within :data:`REFRESH_BEFORE` (or its expiry is unknown)."""
        from .oauth import Token, TokenStore

        cfg = self.config
        given = secret_from_env(
            cfg.token_env,
            self.setting("token_env"),
            "a long-lived access token with instagram_business_basic and "
            "instagram_business_content_publish",
        )
        if not cfg.token_refresh:
            return given
        store, now = TokenStore(self.env.home, self.name), self.env.now()
        origin = "env:" + stable_id(cfg.token_env, given)
        token_uri = f"{cfg.api_base.rstrip('/')}/refresh_access_token"
        stored = store.load()
        if stored is None or stored.client_id != origin:
            stored = Token(given, None, None, client_id=origin, token_uri=token_uri)
        tried = stored.obtained_at
        due = (tried is None or now - tried >= timedelta(days=1)) and (
            stored.expires_at is None or stored.expires_at - now <= REFRESH_BEFORE
        )
        if not due:
            return stored.access_token
        with store.lock():
            try:
                response = httpx.get(
                    token_uri,
                    params={"grant_type": "ig_refresh_token", "access_token": stored.access_token},
                    timeout=cfg.timeout_s,
                )
                fresh = response.json() if response.status_code == 200 else {}
            except (httpx.HTTPError, ValueError):
                fresh = {}
            if not isinstance(fresh, dict) or not fresh.get("access_token"):
                # too young to refresh, or refused: keep it and try again in a day
                stored.obtained_at = now
                store.save(stored)
                return stored.access_token
            expires_in = fresh.get("expires_in")
            token = Token(
                str(fresh["access_token"]),
                None,
                now + timedelta(seconds=float(expires_in))
                if isinstance(expires_in, int | float)
                else None,
                client_id=origin,
                token_uri=token_uri,
                obtained_at=now,
            )
            store.save(token)
        return token.access_token

    def graph(self, method: str, path: str, *, what: str, repeatable: bool, **kw: Any) -> Any:
        return self.http.request(
            method, f"{self.base}/{path}", what=what, repeatable=repeatable, **kw
        ).json()

    def public_url(self, post: Post, media: Media, parts: Parts) -> str:
        """Where Instagram can fetch ``media``: staged in ``public_media_dir``, or
        uploaded once to the ``media_wordpress`` site's media library."""
        cfg = self.config
        if cfg.media_wordpress:
            key = f"public-{media.role}"
            done = parts.done.get(key)
            if done is None:
                name = f"{post.slug}-{media.role}{media.path.suffix.lower()}"
                uploaded = self.wordpress._upload_file(
                    media.path, name, media.mime, f"the {media.role} for Instagram"
                )
                parts.record(key, str(uploaded["id"]), str(uploaded["source_url"]))
                done = parts.done[key]
            return str(done["url"])
        assert cfg.public_media_dir is not None and cfg.public_media_base_url is not None
        folder = Path(cfg.public_media_dir)
        if not folder.is_absolute():
            folder = self.env.home.root / folder
        try:
            return stage_public(media.path, folder, cfg.public_media_base_url, post.item_id)
        except OSError as exc:
            raise TaskError(
                f"{self.name}: cannot copy {media.path.name} to {folder} "
                f"({self.setting('public_media_dir')}): {exc}"
            ) from None

    @cached_property
    def wordpress(self) -> WordPressPublisher:
        """The ``media_wordpress`` platform's publisher (its media library)."""
        from ..config import load_workspace
        from .wordpress import WordPressPublisher

        name = str(self.config.media_wordpress)
        found = load_workspace(self.env.home).config.platforms.get(name)
        if found is None or found.kind != "wordpress":
            raise TaskError(
                f"{self.name}: {self.setting('media_wordpress')} names {name!r}, which is not "
                "a wordpress platform in config.json: name one, or set public_media_dir and "
                "public_media_base_url"
            )
        return WordPressPublisher(name, found, self.env)

    def close(self) -> None:
        if "wordpress" in self.__dict__:
            self.wordpress.close()
        if "http" in self.__dict__:
            self.http.close()

    def _container(self, fields: dict[str, str], what: str) -> str:
        # a second container for the same media does no harm: unpublished ones expire
        data = self.graph(
            "POST", f"{self.config.user_id}/media", what=what, repeatable=True, data=fields
        )
        return str(data["id"])

    def _wait(self, container: str) -> str:
        """Poll the container until it leaves ``IN_PROGRESS``; its final status code."""
        waited, delay = 0.0, 1.0
        while True:
            data = self.graph(
                "GET",
                container,
                what="check the media container",
                repeatable=True,
                params={"fields": "status_code,status"},
            )
            status = str(data.get("status_code") or "")
            if status != "IN_PROGRESS":
                if status in ("ERROR", "EXPIRED"):
                    raise TaskError(
                        f"{self.name}: Instagram could not process the media ({status}: "
                        f"{data.get('status') or 'no reason given'})"
                    )
                return status
            if waited >= self.config.processing_timeout_s:
                raise TransientError(
                    f"{self.name}: Instagram still processes the media after {waited:.0f} s "
                    f"({self.setting('processing_timeout_s')}); the next run goes on"
                )
            self.env.sleep(delay)
            waited += delay
            delay = min(delay * 2, 15.0)

    def _build(self, post: Post, parts: Parts) -> str:
        media = media_of(post, images=CAROUSEL_LIMIT)
        if not media:
            raise TaskError(
                f"{self.name}: Instagram needs an image or a video and item {post.item_id} "
                "has none (a card, thumbnail or video file)"
            )
        caption = caption_of(post)
        if len(media) == 1:
            one = media[0]
            fields = {"caption": caption}
            if one.is_video:
                fields.update(media_type="REELS", video_url=self.public_url(post, one, parts))
            else:
                fields["image_url"] = self.public_url(post, one, parts)
            return self._container(fields, "create the media container")
        children = []
        for n, one in enumerate(media):
            done = parts.done.get(f"child-{n}")
            if done is None:
                key = "video_url" if one.is_video else "image_url"
                fields = {key: self.public_url(post, one, parts), "is_carousel_item": "true"}
                if one.is_video:
                    fields["media_type"] = "VIDEO"
                parts.record(f"child-{n}", self._container(fields, f"add item {n + 1}"))
                done = parts.done[f"child-{n}"]
            children.append(str(done["remote_id"]))
        for child in children:
            self._wait(child)
        return self._container(
            {"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption},
            "create the carousel",
        )

    def send(self, post: Post, parts: Parts) -> Receipt:
        done = parts.done.get("container")
        if done is None:
            parts.record("container", self._build(post, parts))
            done = parts.done["container"]
        container = str(done["remote_id"])
        if self._wait(container) == "PUBLISHED":
            found = self._find(post)
            if found is not None:
                return found
        data = self.graph(
            "POST",
            f"{self.config.user_id}/media_publish",
            what="publish the post",
            repeatable=False,
            data={"creation_id": container},
        )
        return self._receipt(str(data["id"]))

    def _receipt(self, media_id: str) -> Receipt:
        data = self.graph(
            "GET",
            media_id,
            what="read the post's link",
            repeatable=True,
            params={"fields": "permalink"},
        )
        return Receipt(remote_id=media_id, url=data.get("permalink"))

    def _find(self, post: Post) -> Receipt | None:
        data = self.graph(
            "GET",
            f"{self.config.user_id}/media",
            what="look up an earlier, unconfirmed post",
            repeatable=True,
            params={"fields": "id,caption,permalink,timestamp", "limit": 25},
        )
        caption = caption_of(post)
        for media in data.get("data") or []:
            if same_text(str(media.get("caption") or ""), caption):
                return Receipt(remote_id=str(media["id"]), url=media.get("permalink"))
        return None

    def reconcile(self, post: Post, pair: Pair, parts: Parts) -> Receipt | None:
        """Ask the container: ``PUBLISHED`` → find the post; otherwise not published."""
        done = parts.done.get("container")
        if done is None:
            return None
        data = self.graph(
            "GET",
            str(done["remote_id"]),
            what="check the media container",
            repeatable=True,
            params={"fields": "status_code"},
        )
        if data.get("status_code") != "PUBLISHED":
            return None
        found = self._find(post)
        if found is None:
            raise TaskError(
                f"{self.name}: Instagram says container {done['remote_id']} is published but "
                "it is not among the account's recent posts: look on Instagram"
            )
        return found

    def check(self) -> str:
        me = self.graph(
            "GET",
            self.config.user_id,
            what="read the account",
            repeatable=True,
            params={"fields": "username"},
        )
        limit = self.graph(
            "GET",
            f"{self.config.user_id}/content_publishing_limit",
            what="read the publishing limit",
            repeatable=True,
            params={"fields": "config,quota_usage"},
        )
        usage = (limit.get("data") or [{}])[0]
        total = (usage.get("config") or {}).get("quota_total", "?")
        return (
            f"authenticated as @{me.get('username', '?')}; {usage.get('quota_usage', '?')} of "
            f"{total} posts used in the last 24 hours"
        )
