"""X (Twitter) through API v2: ``POST /2/tweets``, threads as replies, chunked media.

Credentials: an OAuth 2.0 user-context access token (``token_env``), or OAuth 1.0a
user keys (``api_key_env``, ``api_secret_env``, ``access_token_env``,
``access_secret_env``; every request signed HMAC-SHA1 with :mod:`oauthlib`).

Text is counted the way X counts (twitter-text v3: NFC, links 23, code points outside
the Latin ranges and emoji 2) and split into a thread when longer than
``max_characters``. Media (the item's video, else up to 4 images, the ``card`` first)
goes through ``/2/media/upload``: INIT, APPEND in 1 MB segments, FINALIZE, and STATUS
polled while a video is processed. A 429 waits for ``x-rate-limit-reset``; a quota
used up (``x-rate-limit-remaining: 0``) waits before the next request.

Reconciling: X has no idempotency key, so an unsure tweet is looked up in the
account's recent tweets (``/2/users/:id/tweets``, since the intent) by its text (links
left out: X rewrites them) and, for a reply, the tweet it replies to; found means it
went through, else it is sent again.
"""

from __future__ import annotations

import time
import unicodedata
from datetime import UTC, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx

from ..config.platforms_social import XPlatform
from ..errors import ConfigError, Problem, TaskError, TransientError
from ..secrets import secret_from_env
from .base import Parts, Publisher, Receipt
from .ledger import Pair
from .post import Post
from .social import Media, SocialHttp, media_of, posts_of, same_text

if TYPE_CHECKING:
    from .oauth import OAuthClient

URL_WEIGHT = 23
CHUNK = 1024 * 1024
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
"""twitter-text v3 ranges that weigh 1; every other code point weighs 2."""
_SKEW = timedelta(minutes=10)
SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
"""What ``amgr auth x`` asks for (``offline.access``: a refresh token)."""


def weighted_length(text: str) -> int:
    """The length X counts (twitter-text v3 weighting)."""
    import regex

    from .social import _URL

    text = unicodedata.normalize("NFC", text)
    urls = len(_URL.findall(text))
    total = URL_WEIGHT * urls
    for cluster in regex.findall(r"\X", _URL.sub("", text)):
        if regex.match(r"\p{Extended_Pictographic}", cluster):
            total += 2
            continue
        for ch in cluster:
            cp = ord(ch)
            total += 1 if any(lo <= cp <= hi for lo, hi in _LIGHT) else 2
    return total


class OAuth1(httpx.Auth):
    """OAuth 1.0a HMAC-SHA1 request signing (query and form parameters signed)."""

    def __init__(self, key: str, secret: str, token: str, token_secret: str) -> None:
        from oauthlib.oauth1 import Client

        self.client = Client(
            key, client_secret=secret, resource_owner_key=token, resource_owner_secret=token_secret
        )

    def auth_flow(self, request: httpx.Request) -> Any:
        ctype = request.headers.get("content-type", "")
        form = ctype.startswith("application/x-www-form-urlencoded")
        body = request.read().decode() if form else None
        method: Any = request.method  # oauthlib types it as a Literal of the verbs
        _, headers, _ = self.client.sign(
            str(request.url),
            method,
            body=body,
            headers={"Content-Type": ctype} if form else None,
        )
        request.headers["Authorization"] = headers["Authorization"]
        yield request


class XPublisher(Publisher):
    """Posts tweets (threads when needed) with media to one X account."""

    kind = "x"
    config: XPlatform
    reconciles_by_resending = False

    @cached_property
    def http(self) -> SocialHttp:
        cfg = self.config
        auth: httpx.Auth | None = None
        headers: dict[str, str] = {}
        if cfg.oauth1():
            names = ("api_key_env", "api_secret_env", "access_token_env", "access_secret_env")
            values = [
                secret_from_env(
                    str(getattr(cfg, n)),
                    self.setting(n),
                    "the app's keys and the account's access token from the X developer "
                    "portal (Keys and tokens)",
                )
                for n in names
            ]
            auth = OAuth1(*values)
            hint = ", ".join(f"{getattr(cfg, n)} ({self.setting(n)})" for n in names)
        elif cfg.token_env:
            token = secret_from_env(
                cfg.token_env,
                self.setting("token_env"),
                "an OAuth 2.0 user access token with tweet.read tweet.write users.read media.write",
            )
            headers["Authorization"] = f"Bearer {token}"
            hint = f"{cfg.token_env} ({self.setting('token_env')})"
        else:
            from .oauth import BearerAuth, TokenStore

            store = TokenStore(self.env.home, self.name)
            store.require()  # not connected yet: say `amgr auth NAME` before any request
            auth = BearerAuth(store, self.oauth_client(), self.env.now, self.env.sleep)
            hint = f"the tokens of `amgr auth {self.name}` (client {self.setting('client_id')})"
        return SocialHttp.of(
            self,
            remaining_header="x-rate-limit-remaining",
            reset_header="x-rate-limit-reset",
            auth_hint=hint,
            headers=headers,
            auth=auth,
        )

    @property
    def base(self) -> str:
        return self.config.api_base.rstrip("/")

    def oauth_client(self) -> OAuthClient:
        """The app registration ``amgr auth NAME`` connects with (OAuth 2.0, PKCE)."""
        from .oauth import OAuthClient

        cfg = self.config
        if not cfg.client_id:
            raise ConfigError(
                [
                    Problem(
                        "config.json",
                        self.setting("client_id"),
                        "not set",
                        "the OAuth 2.0 client id of your app (X developer portal → Keys and "
                        "tokens)",
                    )
                ]
            )
        secret = None
        if cfg.client_secret_env:
            secret = secret_from_env(
                cfg.client_secret_env, self.setting("client_secret_env"), "the client secret"
            )
        return OAuthClient(
            platform=self.name,
            client_id=cfg.client_id,
            client_secret=secret,
            auth_uri=cfg.auth_url,
            token_uri=f"{self.base}/2/oauth2/token",
            scopes=SCOPES,
            secret_setting=self.setting("client_id"),
            redirect_port=cfg.redirect_port,
            redirect_path="/callback",
            basic_auth=True,  # X wants a confidential client's id and secret as Basic
        )

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    def texts(self, post: Post) -> list[str]:
        return posts_of(post, self.config.max_characters, weighted_length)

    @cached_property
    def me(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.request(
            "GET", f"{self.base}/2/users/me", what="read the account", repeatable=True
        ).json()["data"]
        return data

    # -- media -----------------------------------------------------------------------------

    def upload(self, media: Media) -> str:
        """INIT / APPEND / FINALIZE (/ STATUS while processing); the media id."""
        url = f"{self.base}/2/media/upload"
        data = media.path.read_bytes()
        category = "tweet_video" if media.is_video else "tweet_image"
        init = self.http.request(
            "POST",
            url,
            what=f"start the upload of {media.path.name}",
            repeatable=True,  # an unused media id expires by itself
            params={
                "command": "INIT",
                "total_bytes": len(data),
                "media_type": media.mime,
                "media_category": category,
            },
        ).json()
        media_id = str(_data(init).get("id") or init.get("media_id_string"))
        for index in range(0, max(1, -(-len(data) // CHUNK))):
            self.http.request(
                "POST",
                url,
                what=f"upload part {index + 1} of {media.path.name}",
                repeatable=True,
                params={"command": "APPEND", "media_id": media_id, "segment_index": index},
                files={"media": (media.path.name, data[index * CHUNK : (index + 1) * CHUNK])},
            )
        final = self.http.request(
            "POST",
            url,
            what=f"finish the upload of {media.path.name}",
            repeatable=True,
            params={"command": "FINALIZE", "media_id": media_id},
        ).json()
        self._wait_processed(url, media_id, _data(final).get("processing_info"), media)
        return media_id

    def _wait_processed(
        self, url: str, media_id: str, info: dict[str, Any] | None, media: Media
    ) -> None:
        deadline = time.monotonic() + self.config.processing_timeout_s
        while info and info.get("state") in ("pending", "in_progress"):
            if time.monotonic() > deadline:
                raise TransientError(
                    f"{self.name}: X still processes {media.path.name} after "
                    f"{self.config.processing_timeout_s:.0f} s "
                    f"({self.setting('processing_timeout_s')}); the next run tries again"
                )
            self.env.sleep(float(info.get("check_after_secs") or 1))
            status = self.http.request(
                "GET",
                url,
                what=f"check the processing of {media.path.name}",
                repeatable=True,
                params={"command": "STATUS", "media_id": media_id},
            ).json()
            info = _data(status).get("processing_info")
        if info and info.get("state") == "failed":
            error = info.get("error") or {}
            raise TaskError(
                f"{self.name}: X could not process {media.path.name}: "
                f"{error.get('message') or error.get('name') or 'failed'}"
            )

    # -- tweets ----------------------------------------------------------------------------

    def send(self, post: Post, parts: Parts) -> Receipt:
        texts = self.texts(post)
        if not texts:
            raise TaskError(f"{self.name}: item {post.item_id} has no text to post")
        media_ids: list[str] = []
        for n, media in enumerate(media_of(post)):
            done = parts.done.get(f"media-{n}")
            if done is None:
                parts.record(f"media-{n}", self.upload(media))
                done = parts.done[f"media-{n}"]
            media_ids.append(str(done["remote_id"]))
        posted: list[dict[str, Any]] = []
        reply_to: str | None = None
        for index, text in enumerate(texts):
            done = parts.done.get(f"tweet-{index}")
            if done is None:
                body: dict[str, Any] = {"text": text}
                if reply_to is not None:
                    body["reply"] = {"in_reply_to_tweet_id": reply_to}
                if index == 0 and media_ids:
                    body["media"] = {"media_ids": media_ids}
                data = self.http.request(
                    "POST",
                    f"{self.base}/2/tweets",
                    what=f"post tweet {index + 1} of {len(texts)}",
                    repeatable=False,
                    json=body,
                ).json()["data"]
                parts.record(f"tweet-{index}", str(data["id"]), self._link(str(data["id"])))
                done = parts.done[f"tweet-{index}"]
            posted.append(done)
            reply_to = str(done["remote_id"])
        return Receipt.of_thread(posted)

    def _link(self, tweet_id: str) -> str:
        return f"https://x.com/{self.me.get('username', 'i')}/status/{tweet_id}"

    def reconcile(self, post: Post, pair: Pair, parts: Parts) -> Receipt | None:
        """Find the unconfirmed tweets among the account's tweets since the intent."""
        params: dict[str, Any] = {"max_results": 100, "tweet.fields": "referenced_tweets"}
        if pair.intent_at is not None:
            since = (pair.intent_at - _SKEW).astimezone(UTC)
            params["start_time"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        recent = self.http.request(
            "GET",
            f"{self.base}/2/users/{self.me['id']}/tweets",
            what="look up an earlier, unconfirmed tweet",
            repeatable=True,
            params=params,
        ).json()
        tweets = list(reversed(recent.get("data") or []))  # oldest first
        found_any = False
        previous: str | None = None
        for index, text in enumerate(self.texts(post)):
            done = parts.done.get(f"tweet-{index}")
            if done is not None:
                previous = str(done["remote_id"])
                continue
            match = next(
                (
                    t
                    for t in tweets
                    if same_text(str(t.get("text", "")), text) and _replies_to(t) == previous
                ),
                None,
            )
            if match is None:
                break
            parts.record(f"tweet-{index}", str(match["id"]), self._link(str(match["id"])))
            previous, found_any = str(match["id"]), True
        if not found_any:
            return None
        return self.send(post, parts)

    def check(self) -> str:
        me = self.me
        return (
            f"authenticated as @{me.get('username', '?')}; tweets up to "
            f"{self.config.max_characters} weighted characters"
        )


def _data(answer: Any) -> dict[str, Any]:
    """The ``data`` object of a v2 answer (or the v1.1-style answer itself)."""
    if isinstance(answer, dict):
        inner = answer.get("data")
        return inner if isinstance(inner, dict) else answer
    return {}


def _replies_to(tweet: dict[str, Any]) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if ref.get("type") == "replied_to":
            return str(ref.get("id"))
    return None
