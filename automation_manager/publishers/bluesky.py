"""Bluesky through the AT Protocol: ``app.bsky.feed.post`` records in the account's repo.

A session comes from ``com.atproto.server.createSession`` with an app password. Each
post is a ``com.atproto.repo.createRecord`` with facets for links, mentions (handles
resolved to DIDs) and hashtags, whose offsets are UTF-8 byte offsets as the lexicon
says; images (the ``card``, ``thumbnail``…) go first to ``uploadBlob`` and are embedded
with alt text; a text longer than 300 graphemes becomes a thread, each reply naming the
thread's root and its parent (uri + cid).

Reconciling: every record gets a record key (a TID) derived from the item, the
platform and the part, the same on every attempt. An unsure send is looked up with
``com.atproto.repo.getRecord`` under that key: found means it went through; "not
found" means it certainly did not, and it is sent again with the same key.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import httpx

from ..config.platforms_social import BlueskyPlatform
from ..errors import TaskError
from ..secrets import REGISTRY, secret_from_env
from .base import Parts, Publisher, Receipt
from .ledger import Pair, stable_id
from .post import Post
from .social import Media, SocialHttp, media_of, posts_of

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000
COLLECTION = "app.bsky.feed.post"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_LINK = re.compile(r"https?://[^\s]+")
_MENTION = re.compile(r"(?<![\w@])@([a-zA-Z0-9][a-zA-Z0-9.-]*\.[a-zA-Z]{2,})")
_TAG = re.compile(r"(?<![\w#&])#([^\s#]+)")
_TRAILING = ".,;:!?)\"'"


def graphemes(text: str) -> int:
    """The length Bluesky counts: user-perceived characters (extended graphemes)."""
    import regex

    return len(regex.findall(r"\X", text))


def post_length(text: str) -> int:
    """Graphemes, or more when the UTF-8 size would pass Bluesky's 3000 bytes."""
    size = len(text.encode())
    return max(graphemes(text), MAX_GRAPHEMES + 1 if size > MAX_BYTES else 0)


def _byte_span(text: str, start: int, end: int) -> dict[str, int]:
    begin = len(text[:start].encode())
    return {"byteStart": begin, "byteEnd": begin + len(text[start:end].encode())}


def facets(text: str, resolve: Any = None) -> list[dict[str, Any]]:
    """Link, mention and tag facets of ``text`` with UTF-8 byte offsets.

    :param resolve: handle → DID (None when unknown); mentions are left out without it.
    """
    out: list[dict[str, Any]] = []
    for m in _LINK.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        out.append(
            {
                "index": _byte_span(text, m.start(), m.start() + len(url)),
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    if resolve is not None:
        for m in _MENTION.finditer(text):
            handle = m.group(1).rstrip(".")
            did = resolve(handle)
            if did:
                out.append(
                    {
                        "index": _byte_span(text, m.start(), m.start() + 1 + len(handle)),
                        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
                    }
                )
    links = [(f["index"]["byteStart"], f["index"]["byteEnd"]) for f in out]
    for m in _TAG.finditer(text):
        tag = m.group(1).rstrip(_TRAILING)
        span = _byte_span(text, m.start(), m.start() + 1 + len(tag))
        inside = any(a <= span["byteStart"] < b for a, b in links)
        if not tag or tag.isdigit() or graphemes(tag) > 64 or inside:
            continue
        out.append(
            {"index": span, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]}
        )
    return sorted(out, key=lambda f: f["index"]["byteStart"])


def tid(seed: datetime | None, *parts: str) -> str:
    """A record key in TID form, the same for the same ``parts``: the microseconds of
    ``seed`` (the item's creation) and a 10-bit clock id from the parts' hash."""
    micros = int((seed or datetime(2024, 1, 1, tzinfo=UTC)).timestamp() * 1_000_000)
    clock = int(stable_id(*parts)[:4], 16) & 0x3FF
    value = ((micros & ((1 << 53) - 1)) << 10) | clock
    out = ""
    for _ in range(13):
        out = _TID_ALPHABET[value & 31] + out
        value >>= 5
    return out


class BlueskyPublisher(Publisher):
    """Posts (threads when needed) to one Bluesky account."""

    kind = "bluesky"
    config: BlueskyPlatform
    reconciles_by_resending = False

    @cached_property
    def http(self) -> SocialHttp:
        cfg = self.config
        return SocialHttp.of(
            self,
            remaining_header="ratelimit-remaining",
            reset_header="ratelimit-reset",
            auth_hint=f"{cfg.password_env} ({self.setting('password_env')}) and "
            f"{self.setting('handle')} ({cfg.handle!r}): use an app password of that account",
        )

    @property
    def base(self) -> str:
        return self.config.api_base.rstrip("/")

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    @cached_property
    def session(self) -> dict[str, Any]:
        """``createSession``: the account's DID and an access token (registered secret)."""
        password = secret_from_env(
            self.config.password_env,
            self.setting("password_env"),
            "an app password from Bluesky Settings → Privacy and security → App passwords",
        )
        data: dict[str, Any] = self.http.request(
            "POST",
            f"{self.base}/xrpc/com.atproto.server.createSession",
            what="sign in (createSession)",
            repeatable=True,
            json={"identifier": self.config.handle, "password": password},
        ).json()
        for key in ("accessJwt", "refreshJwt"):
            if data.get(key):
                REGISTRY.register(str(data[key]))
        self.http.client.headers["Authorization"] = f"Bearer {data['accessJwt']}"
        return data

    def xrpc(
        self, method: str, nsid: str, *, what: str, repeatable: bool, **kwargs: Any
    ) -> httpx.Response:
        self.session  # noqa: B018  (signs in first)
        return self.http.request(
            method, f"{self.base}/xrpc/{nsid}", what=what, repeatable=repeatable, **kwargs
        )

    def resolve(self, handle: str) -> str | None:
        response = self.xrpc(
            "GET",
            "com.atproto.identity.resolveHandle",
            what=f"resolve @{handle}",
            repeatable=True,
            params={"handle": handle},
            accept=(400, 404),
        )
        return None if response.status_code >= 400 else response.json().get("did")

    def web_url(self, uri: str) -> str:
        rkey = uri.rsplit("/", 1)[-1]
        who = self.session.get("handle") or self.session["did"]
        return f"https://bsky.app/profile/{who}/post/{rkey}"

    def get_record(self, rkey: str) -> dict[str, Any] | None:
        response = self.xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            what="look up an earlier, unconfirmed post",
            repeatable=True,
            params={"repo": self.session["did"], "collection": COLLECTION, "rkey": rkey},
            accept=(400, 404),
        )
        if response.status_code >= 400:
            return None
        data: dict[str, Any] = response.json()
        return data

    def upload(self, media: Media) -> dict[str, Any]:
        data = media.path.read_bytes()
        if len(data) > MAX_IMAGE_BYTES:
            raise TaskError(
                f"{self.name}: {media.path.name} is {len(data)} bytes; Bluesky takes images "
                f"up to {MAX_IMAGE_BYTES} bytes: make the {media.role} smaller"
            )
        blob: dict[str, Any] = self.xrpc(
            "POST",
            "com.atproto.repo.uploadBlob",
            what=f"upload {media.path.name}",
            repeatable=True,  # blobs are content-addressed: a second upload is the same
            content=data,
            headers={"Content-Type": media.mime},
        ).json()["blob"]
        return blob

    def rkey(self, post: Post, index: int) -> str:
        return tid(post.created_at, post.item_id, self.name, str(index))

    def send(self, post: Post, parts: Parts) -> Receipt:
        texts = posts_of(post, MAX_GRAPHEMES, post_length)
        if not texts:
            raise TaskError(f"{self.name}: item {post.item_id} has no text to post")
        refs: list[dict[str, str]] = []
        for index, text in enumerate(texts):
            done = parts.done.get(f"post-{index}")
            if done is not None:
                uri = str(done["remote_id"])
                found = self.get_record(uri.rsplit("/", 1)[-1])
                if found is None:
                    raise TaskError(f"{self.name}: post {uri} of this thread was deleted")
                refs.append({"uri": uri, "cid": str(found["cid"])})
                continue
            record: dict[str, Any] = {
                "$type": COLLECTION,
                "text": text,
                "createdAt": self.env.now().astimezone(UTC).isoformat().replace("+00:00", "Z"),
            }
            found_facets = facets(text, self.resolve)
            if found_facets:
                record["facets"] = found_facets
            if self.config.langs:
                record["langs"] = list(self.config.langs)
            if index == 0:
                images = media_of(post, images=MAX_IMAGES, video=False)
                if images:
                    record["embed"] = {
                        "$type": "app.bsky.embed.images",
                        "images": [{"alt": m.alt, "image": self.upload(m)} for m in images],
                    }
            else:
                record["reply"] = {"root": refs[0], "parent": refs[-1]}
            ref = self._create(self.rkey(post, index), record, index, len(texts))
            parts.record(f"post-{index}", ref["uri"], self.web_url(ref["uri"]))
            refs.append(ref)
        return Receipt(
            remote_id=refs[0]["uri"],
            url=self.web_url(refs[0]["uri"]),
            extra={"thread": [r["uri"] for r in refs]},
        )

    def _create(self, rkey: str, record: dict[str, Any], index: int, total: int) -> dict[str, str]:
        response = self.xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            what=f"create post {index + 1} of {total}",
            repeatable=False,
            json={
                "repo": self.session["did"],
                "collection": COLLECTION,
                "rkey": rkey,
                "record": record,
            },
            accept=(400, 409),
        )
        if response.status_code >= 400:
            existing = self.get_record(rkey)  # a resend of one that went through
            if existing is None:
                from .http import platform_message

                raise TaskError(
                    f"{self.name} refused to create post {index + 1} of {total} "
                    f"({response.status_code}): {platform_message(response)}"
                )
            return {"uri": str(existing["uri"]), "cid": str(existing["cid"])}
        data = response.json()
        return {"uri": str(data["uri"]), "cid": str(data["cid"])}

    def reconcile(self, post: Post, pair: Pair, parts: Parts) -> Receipt | None:
        """Look each unconfirmed post up under its record key; send the rest."""
        texts = posts_of(post, MAX_GRAPHEMES, post_length)
        found_any = False
        for index in range(len(texts)):
            if f"post-{index}" in parts.done:
                continue
            record = self.get_record(self.rkey(post, index))
            if record is None:
                break
            parts.record(f"post-{index}", str(record["uri"]), self.web_url(str(record["uri"])))
            found_any = True
        if not found_any:
            return None
        return self.send(post, parts)

    def check(self) -> str:
        data = self.xrpc(
            "GET", "com.atproto.server.getSession", what="read the session", repeatable=True
        ).json()
        return f"authenticated as @{data.get('handle', self.config.handle)} ({data.get('did')})"
