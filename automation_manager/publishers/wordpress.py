"""WordPress through its REST API, with an Application Password.

Posts go to ``/wp-json/wp/v2/posts``; a site without pretty permalinks answers that
path with a plain 404 page, and then every call uses ``/?rest_route=/wp/v2/...``.
Markdown is rendered to HTML; tags and categories are matched by name and created
when missing; an item's image becomes the featured image. WordPress has no
idempotency key, so an unsure send is reconciled by looking the post up by slug and
title (``status=any``, which needs the user's edit rights) before anything is resent.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import httpx

from ..config.platforms import WordPressPlatform
from ..errors import AuthError, TaskError
from ..secrets import secret_from_env
from .base import Parts, Publisher, Receipt
from .http import PlatformHttp, platform_message
from .ledger import Pair
from .post import Post, render_html

Taxonomy = Literal["tags", "categories"]
OFFLINE_TAG = "offline-draft"
"""The tag an offline-provider post gets, next to its ``generated_by`` HTML comment."""
_PAGE_ANSWERS = (200, 301, 302, 307, 308, 404)
"""Answers to ``/wp-json/`` that may be a page rather than the REST API."""
_SKEW = timedelta(minutes=10)
"""A found post counts as ours when it changed at most this long before our intent."""


def _wp_time(value: Any) -> datetime | None:
    """A WordPress ``*_gmt`` field (no offset; UTC) as an aware time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _rendered(value: Any) -> str:
    if isinstance(value, dict):
        raw = value.get("raw")
        return str(raw if raw is not None else html.unescape(str(value.get("rendered", ""))))
    return html.unescape(str(value or ""))


def _is_rest_answer(response: httpx.Response) -> bool:
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict | list)


class WordPressPublisher(Publisher):
    """Publishes blog posts to one WordPress site."""

    kind = "wordpress"
    reconciles_by_resending = False
    config: WordPressPlatform

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = self.config.url.rstrip("/")
        self.plain: bool | None = None
        """True once the site is known to need ``?rest_route=`` (None: not yet known)."""
        self._terms: dict[tuple[str, str], int] = {}

    @cached_property
    def http(self) -> PlatformHttp:
        cfg = self.config
        password = secret_from_env(
            cfg.password_env,
            self.setting("password_env"),
            "an Application Password from WordPress: Users → Profile → Application Passwords",
            user=cfg.user,
        )
        return PlatformHttp(
            self.name,
            auth_hint=f"{cfg.password_env} ({self.setting('password_env')}) and "
            f"{self.setting('user')} ({cfg.user!r}): the password must be an Application "
            "Password of that user",
            sleep=self.env.sleep,
            attempts=self.env.attempts,
            timeout_s=cfg.timeout_s,
            auth=(cfg.user, password),
        )

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    # -- routing ---------------------------------------------------------------------------

    def call(
        self,
        method: str,
        route: str,
        *,
        what: str,
        repeatable: bool,
        params: dict[str, Any] | None = None,
        accept: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """One REST call to ``/wp/v2/<route>``, finding out once which URL form works.

        Without pretty permalinks, ``/wp-json/...`` is not the REST API: WordPress answers
        it as a page (a 404 page, or a canonical 301 redirect). Any such non-JSON answer
        to the first call switches this publisher to ``/?rest_route=`` for good.
        """
        probing = self.plain is None
        forms = [False, True] if probing else [bool(self.plain)]
        response: httpx.Response | None = None
        for plain in forms:
            if plain:
                url, query = f"{self.base}/", {"rest_route": f"/wp/v2/{route}"}
            else:
                url, query = f"{self.base}/wp-json/wp/v2/{route}", {}
            page_answers = _PAGE_ANSWERS if probing and not plain else (404,)
            response = self.http.request(
                method,
                url,
                what=what,
                repeatable=repeatable,
                accept=(*page_answers, *accept),
                params={**query, **(params or {})},
                **kwargs,
            )
            if response.status_code in page_answers and not _is_rest_answer(response):
                continue  # a page, not the REST API: try the other form
            self.plain = plain
            break
        assert response is not None
        if response.status_code >= 300 and response.status_code not in accept:
            if not _is_rest_answer(response):
                raise TaskError(
                    f"{self.name}: no WordPress REST API at {self.base} (neither /wp-json/ nor "
                    f"?rest_route= answered): check {self.setting('url')}"
                )
            raise TaskError(
                f"{self.name} refused to {what} ({response.status_code}): "
                f"{platform_message(response)}"
            )
        return response

    # -- publishing ------------------------------------------------------------------------

    def send(self, post: Post, parts: Parts) -> Receipt:
        cfg = self.config
        body: dict[str, Any] = {
            "title": post.title,
            "content": (
                f"<!-- generated_by: {html.escape(post.generated_by)} -->\n"
                if post.generated_by
                else ""
            )
            + self.inline_images(post, parts, render_html(post.markdown)),
            "slug": post.slug,
            "status": "draft" if cfg.status == "draft" else "publish",
        }
        if post.excerpt:
            body["excerpt"] = post.excerpt
        offline = [OFFLINE_TAG] if post.offline else []
        tags = self.term_ids("tags", [*cfg.tags, *post.tags, *offline])
        categories = self.term_ids("categories", [*cfg.categories, *post.categories])
        if tags:
            body["tags"] = tags
        if categories:
            body["categories"] = categories
        live_at = None
        if (
            cfg.status == "future"
            and post.when
            and post.when > self.env.now() + timedelta(minutes=1)
        ):
            live_at = post.when.astimezone(UTC)
            body["status"] = "future"
            body["date_gmt"] = live_at.replace(tzinfo=None).isoformat(timespec="seconds")
        if post.image is not None:
            media = parts.done.get("media")
            media_id = media.get("remote_id") if media else None
            if media_id is None:
                media_id = self.upload(post)
                parts.record("media", media_id)
            body["featured_media"] = int(media_id)
        response = self.call("POST", "posts", what="create the post", repeatable=False, json=body)
        return self._receipt(response.json())

    def upload(self, post: Post) -> str:
        """Upload the post's image to the media library; its media id."""
        assert post.image is not None
        name = f"{post.slug}{post.image.suffix.lower()}"
        data = self._upload_file(post.image, name, post.image_type(), "the featured image")
        return str(data["id"])

    def _upload_file(self, path: Path, name: str, mime: str | None, what: str) -> Any:
        response = self.call(
            "POST",
            "media",
            what=f"upload {what}",
            repeatable=False,
            content=path.read_bytes(),
            headers={
                "Content-Type": mime or "application/octet-stream",
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )
        return response.json()

    def inline_images(self, post: Post, parts: Parts, html: str) -> str:
        """Upload the post's inline images (once each) and point the HTML at them."""
        for role, path in sorted(post.files.items()):
            if not role.startswith("inline_image") or f'src="{path.name}"' not in html:
                continue
            done = parts.done.get(role)
            if done is None or not done.get("url"):
                data = self._upload_file(
                    path, f"{post.slug}-{path.name}", "image/png", f"inline image {path.name}"
                )
                parts.record(role, str(data["id"]), str(data.get("source_url") or ""))
                done = parts.done[role]
            html = html.replace(f'src="{path.name}"', f'src="{done["url"]}"')
        return html

    def term_ids(self, taxonomy: Taxonomy, names: list[str]) -> list[int]:
        """Ids of the tags or categories called ``names``, creating the missing ones."""
        ids: list[int] = []
        singular = taxonomy.removesuffix("s").replace("categorie", "category")
        for name in dict.fromkeys(n.strip() for n in names if n.strip()):
            key = (taxonomy, name.lower())
            if key not in self._terms:
                self._terms[key] = self._find_or_create(taxonomy, singular, name)
            ids.append(self._terms[key])
        return ids

    def _find_or_create(self, taxonomy: Taxonomy, singular: str, name: str) -> int:
        found = self.call(
            "GET",
            taxonomy,
            what=f"look up the {singular} {name!r}",
            repeatable=True,
            params={"search": name, "per_page": 100},
        ).json()
        for term in found if isinstance(found, list) else []:
            if _rendered(term.get("name")).strip().lower() == name.lower():
                return int(term["id"])
        # Creating is safe to repeat: WordPress answers a duplicate with term_exists.
        response = self.call(
            "POST",
            taxonomy,
            what=f"create the {singular} {name!r}",
            repeatable=True,
            json={"name": name},
            accept=(400,),
        )
        data = response.json()
        if response.status_code == 400:
            existing = (data.get("data") or {}).get("term_id") if isinstance(data, dict) else None
            if existing is None:
                raise TaskError(
                    f"{self.name} refused to create the {singular} {name!r}: "
                    f"{platform_message(response)}"
                )
            return int(existing)
        return int(data["id"])

    def _receipt(self, data: dict[str, Any]) -> Receipt:
        status = str(data.get("status", "publish"))
        shown = {"publish": "published", "future": "scheduled"}.get(status, status)
        live_at = _wp_time(data.get("date_gmt")) if status == "future" else None
        return Receipt(
            remote_id=str(data["id"]), url=data.get("link"), status=shown, live_at=live_at
        )

    def reconcile(self, post: Post, pair: Pair, parts: Parts) -> Receipt | None:
        """Look the post up by slug, then by title; ours if it changed after our intent."""
        since = (pair.intent_at or datetime.min.replace(tzinfo=UTC)) - _SKEW
        queries: list[dict[str, Any]] = [
            {"slug": post.slug, "status": "any", "context": "edit"},
            {"search": post.title, "status": "any", "context": "edit", "per_page": 20},
        ]
        for params in queries:
            found = self.call(
                "GET",
                "posts",
                what="look up an earlier, unconfirmed post",
                repeatable=True,
                params=params,
            ).json()
            for candidate in found if isinstance(found, list) else []:
                changed = _wp_time(candidate.get("modified_gmt")) or _wp_time(
                    candidate.get("date_gmt")
                )
                if _rendered(candidate.get("title")).strip() == post.title.strip() and (
                    changed is None or changed >= since
                ):
                    return self._receipt(candidate)
        return None

    def check(self) -> str:
        data = self.call(
            "GET",
            "users/me",
            what="read the user's profile",
            repeatable=True,
            params={"context": "edit"},
        ).json()
        caps = data.get("capabilities") or {}
        needed = "edit_posts" if self.config.status == "draft" else "publish_posts"
        if caps and not caps.get(needed):
            raise AuthError(
                f"{self.name}: user {self.config.user!r} may not {needed.replace('_', ' ')}: "
                "give that user the Author role or higher, or change "
                f"{self.setting('user')}"
            )
        route = "?rest_route=" if self.plain else "/wp-json"
        roles = ", ".join(data.get("roles") or [])
        who = data.get("name") or self.config.user
        return f"authenticated as {who}{f' ({roles})' if roles else ''} via {route}"
