"""Fakes of X, Instagram, Bluesky and Telegram on 127.0.0.1 (see :mod:`fake_platforms`).

Each speaks the documented subset amgr uses and checks what the real service checks:
auth headers (X's OAuth 1.0a signatures are verified with the keys), X's weighted
character count, Bluesky's 300 graphemes and facets' UTF-8 byte offsets, Telegram's
caption and message limits, Instagram's containers (the media URL is really fetched).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
import unicodedata
import urllib.request
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from fake_platforms import FakeServer, Reply, Request

X_TOKEN = "x-user-token-abcdef123"
X_KEYS = {
    "X_API_KEY": "consumer-key-123456",
    "X_API_SECRET": "consumer-secret-abcdef",
    "X_ACCESS_TOKEN": "1234-access-token-xyz",
    "X_ACCESS_SECRET": "access-secret-uvwxyz",
}
IG_TOKEN = "ig-long-lived-token-987"
IG_USER = "17841400000000001"
BSKY_PASSWORD = "abcd-efgh-ijkl-mnop"
BSKY_HANDLE = "amgr.test"
TG_TOKEN = "123456789:AAHfakeTelegramBotToken"

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
    b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)
"""A real 1×1 PNG."""
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 3000
"""The start of an MP4 (an ``ftyp`` box and padding): what a real uploader sniffs."""


def form(request: Request) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    """Fields and files of a form body (urlencoded or multipart)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(request.body.decode())), {}
    if not ctype.startswith("multipart/form-data"):
        return {}, {}
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + request.body
    )
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename:
            files[str(name)] = (filename, part.get_content_type(), payload)
        else:
            fields[str(name)] = payload.decode()
    return fields, files


# -- X -----------------------------------------------------------------------------------------

_X_URL = re.compile(r"https?://\S+")


def x_weighted_length(text: str) -> int:
    """twitter-text v3: NFC; URLs 23; code points in the Latin ranges 1, others 2;
    an emoji sequence 2."""
    import regex

    text = unicodedata.normalize("NFC", text)
    total = 0
    rest = _X_URL.sub(lambda m: "\0", text)
    total += 23 * rest.count("\0")
    for cluster in regex.findall(r"\X", rest.replace("\0", "")):
        if regex.match(r"\p{Extended_Pictographic}", cluster):
            total += 2
            continue
        for ch in cluster:
            cp = ord(ch)
            light = cp <= 4351 or 8192 <= cp <= 8205 or 8208 <= cp <= 8223 or 8242 <= cp <= 8247
            total += 1 if light else 2
    return total


class FakeX(FakeServer):
    """X API v2: users/me, tweets (weighted 280), user timeline, chunked media upload.

    Accepts an OAuth 2.0 bearer token or an OAuth 1.0a HMAC-SHA1 signature, verified.
    """

    def __init__(self, token: str = X_TOKEN, keys: dict[str, str] | None = None) -> None:
        super().__init__()
        self.token = token
        self.keys = keys or X_KEYS
        self.tweets: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1_800_000_000_000_000_000)
        self.oauth1_seen = 0
        self.client_id = "amgr-client-id"
        self.codes: dict[str, dict[str, str]] = {}
        self.issued: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.expires_in = 7200
        self.quota_left: int | None = None
        self.blocked_until = 0.0
        """When set: ``x-rate-limit-remaining`` of every tweet answer (reset in 1 s)."""

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        if path == "/2/media/upload":
            return f"{method} media {query.get('command', '?')}"
        if re.fullmatch(r"/2/users/\d+/tweets", path):
            return "GET timeline"
        known = {"/2/tweets", "/2/users/me", "/i/oauth2/authorize", "/2/oauth2/token"}
        return f"{method} {path}" if path in known else None

    def _authorized(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        if auth == f"Bearer {self.token}" or auth.removeprefix("Bearer ") in self.issued:
            return True
        if not auth.startswith("OAuth "):
            return False
        from oauthlib.oauth1.rfc5849 import signature

        uri = f"http://{request.headers['host']}{request.path}"
        query = "&".join(f"{k}={v}" for k, v in request.query.items())
        fields, _ = (
            form(request)
            if request.headers.get("content-type", "").startswith("application/x-www")
            else ({}, {})
        )
        oauth = dict(
            signature.collect_parameters(
                headers={"Authorization": auth}, exclude_oauth_signature=False
            )
        )
        if oauth.get("oauth_consumer_key") != self.keys["X_API_KEY"]:
            return False
        if oauth.get("oauth_token") != self.keys["X_ACCESS_TOKEN"]:
            return False
        params = signature.collect_parameters(
            uri_query=query, body=list(fields.items()), headers={"Authorization": auth}
        )
        base = signature.signature_base_string(
            request.method, signature.base_string_uri(uri), signature.normalize_parameters(params)
        )
        keys = SimpleNamespace(
            client_secret=self.keys["X_API_SECRET"],
            resource_owner_secret=self.keys["X_ACCESS_SECRET"],
        )
        expected = signature.sign_hmac_sha1_with_client(base, keys)
        ok = signature.safe_string_equals(expected, oauth.get("oauth_signature", ""))
        self.oauth1_seen += ok
        return ok

    def oauth(self, request: Request) -> Reply:
        """The authorize page (answering as if the person allowed) and the token endpoint."""
        import base64

        if request.route == "GET /i/oauth2/authorize":
            q = request.query
            if q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256":
                return Reply(400, {"error": "invalid_request"})
            code = f"code-{len(self.codes)}-abcdef"
            self.codes[code] = q
            target = f"{q['redirect_uri']}?code={code}&state={q['state']}"
            return Reply(302, b"", {"Location": target})
        fields, _ = form(request)
        if fields.get("client_id") != self.client_id:
            return Reply(400, {"error": "invalid_client"})
        if fields.get("grant_type") == "authorization_code":
            asked = self.codes.pop(fields.get("code", ""), None)
            digest = hashlib.sha256(fields.get("code_verifier", "").encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if (
                asked is None
                or asked["code_challenge"] != challenge
                or asked["redirect_uri"] != fields.get("redirect_uri")
            ):
                return Reply(400, {"error": "invalid_grant", "error_description": "bad code"})
        elif fields.get("grant_type") == "refresh_token":
            if fields.get("refresh_token") not in self.refresh_tokens:
                return Reply(400, {"error": "invalid_grant", "error_description": "revoked"})
            self.refresh_tokens.discard(fields["refresh_token"])  # X rotates them
        else:
            return Reply(400, {"error": "unsupported_grant_type"})
        n = len(self.issued)
        access, refresh = f"issued-access-{n}-xyz123", f"issued-refresh-{n}-xyz123"
        self.issued.add(access)
        self.refresh_tokens.add(refresh)
        return Reply(
            200,
            {
                "token_type": "bearer",
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": self.expires_in,
                "scope": "tweet.read tweet.write users.read media.write offline.access",
            },
        )

    def handle(self, request: Request) -> Reply:
        if request.route in ("GET /i/oauth2/authorize", "POST /2/oauth2/token"):
            return self.oauth(request)
        if not self._authorized(request):
            return Reply(
                401,
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
            )
        route = request.route
        limits = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }
        if route == "GET /2/users/me":
            return Reply(
                200, {"data": {"id": "42", "name": "amgr", "username": "amgr_bot"}}, limits
            )
        if route == "GET timeline":
            return Reply(
                200,
                {
                    "data": [
                        {
                            "id": t["id"],
                            "text": t["text"],
                            "referenced_tweets": t.get("referenced_tweets", []),
                        }
                        for t in reversed(self.tweets)
                    ],
                    "meta": {"result_count": len(self.tweets)},
                },
            )
        if route.startswith("POST media") or route.startswith("GET media"):
            return self._media(request)
        if route == "POST /2/tweets":
            return self._tweet(request.json())
        return Reply(404, {"title": "Not Found"})

    def _tweet(self, body: dict[str, Any]) -> Reply:
        if time.time() < self.blocked_until:  # the quota is used up until its reset
            reset = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(self.blocked_until)}
            return Reply(429, {"title": "Too Many Requests"}, reset)
        text = body.get("text", "")
        weighted = x_weighted_length(text)
        if weighted > 280:
            return Reply(
                400, {"title": "Invalid Request", "detail": f"text is too long ({weighted} > 280)"}
            )
        reply = body.get("reply") or {}
        parent = reply.get("in_reply_to_tweet_id")
        if parent is not None and not any(t["id"] == parent for t in self.tweets):
            return Reply(
                400, {"title": "Invalid Request", "detail": "in_reply_to_tweet_id not found"}
            )
        for media_id in (body.get("media") or {}).get("media_ids", []):
            media = self.media.get(media_id)
            if media is None or media.get("state") != "succeeded":
                return Reply(
                    400, {"title": "Invalid Request", "detail": f"media {media_id} is not ready"}
                )
        tweet = {
            "id": str(next(self._ids)),
            "text": text,
            "media_ids": (body.get("media") or {}).get("media_ids", []),
        }
        if parent:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent}]
        self.tweets.append(tweet)
        quota = None
        if self.quota_left is not None:
            reset = int(time.time()) + 1
            quota = {
                "x-rate-limit-remaining": str(self.quota_left),
                "x-rate-limit-reset": str(reset),
            }
            self.blocked_until = reset if self.quota_left == 0 else 0.0
        return Reply(
            201,
            {"data": {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}},
            quota,
        )

    def _media(self, request: Request) -> Reply:
        q = request.query
        command = q.get("command")
        if command == "INIT":
            media_id = str(next(self._ids))
            self.media[media_id] = {
                "total": int(q["total_bytes"]),
                "type": q["media_type"],
                "category": q.get("media_category"),
                "chunks": {},
                "state": None,
            }
            return Reply(
                200,
                {
                    "data": {
                        "id": media_id,
                        "media_key": f"3_{media_id}",
                        "expires_after_secs": 86400,
                    }
                },
            )
        media = self.media.get(q.get("media_id", ""))
        if media is None:
            return Reply(400, {"title": "Invalid Request", "detail": "unknown media_id"})
        if command == "APPEND":
            _, files = form(request)
            media["chunks"][int(q["segment_index"])] = files["media"][2]
            return Reply(204, b"")
        if command == "FINALIZE":
            size = sum(len(c) for c in media["chunks"].values())
            if size != media["total"] or sorted(media["chunks"]) != list(
                range(len(media["chunks"]))
            ):
                return Reply(
                    400,
                    {"title": "Invalid Request", "detail": f"got {size} of {media['total']} bytes"},
                )
            if media["type"].startswith("video/"):
                media["state"], media["polls"] = "pending", 0
                return Reply(
                    200,
                    {
                        "data": {
                            "id": q["media_id"],
                            "processing_info": {"state": "pending", "check_after_secs": 1},
                        }
                    },
                )
            media["state"] = "succeeded"
            return Reply(200, {"data": {"id": q["media_id"]}})
        if command == "STATUS":
            media["polls"] = media.get("polls", 0) + 1
            if media["polls"] >= 2:
                media["state"] = "succeeded"
                return Reply(
                    200,
                    {
                        "data": {
                            "id": q["media_id"],
                            "processing_info": {"state": "succeeded", "progress_percent": 100},
                        }
                    },
                )
            media["state"] = "in_progress"
            return Reply(
                200,
                {
                    "data": {
                        "id": q["media_id"],
                        "processing_info": {
                            "state": "in_progress",
                            "check_after_secs": 1,
                            "progress_percent": 50,
                        },
                    }
                },
            )
        return Reply(400, {"title": "Invalid Request", "detail": f"unknown command {command}"})


# -- Bluesky -----------------------------------------------------------------------------------


def graphemes(text: str) -> int:
    import regex

    return len(regex.findall(r"\X", text))


class FakeBluesky(FakeServer):
    """A PDS: sessions, records with lexicon checks, blobs, handles."""

    def __init__(self, password: str = BSKY_PASSWORD, handle: str = BSKY_HANDLE) -> None:
        super().__init__()
        self.password, self.account = password, handle
        self.did = "did:plc:amgrtest0000000000000000"
        self.handles = {handle: self.did, "alice.bsky.social": "did:plc:alice00000000000000000"}
        self.records: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        self.blobs: dict[str, tuple[str, bytes]] = {}
        self.tokens: set[str] = set()
        self.sessions = 0

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        return path.removeprefix("/xrpc/") if path.startswith("/xrpc/") else None

    def handle(self, request: Request) -> Reply:
        route = request.route
        if route == "com.atproto.server.createSession":
            body = request.json()
            if (
                body.get("identifier") not in (self.account, self.did)
                or body.get("password") != self.password
            ):
                return Reply(
                    401,
                    {
                        "error": "AuthenticationRequired",
                        "message": "Invalid identifier or password",
                    },
                )
            self.sessions += 1
            token = (
                f"access-{self.sessions}-"
                + hashlib.sha256(str(time.time()).encode()).hexdigest()[:16]
            )
            self.tokens.add(token)
            return Reply(
                200,
                {
                    "did": self.did,
                    "handle": self.account,
                    "accessJwt": token,
                    "refreshJwt": token + "-refresh",
                },
            )
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return Reply(401, {"error": "AuthenticationRequired", "message": "Invalid token"})
        if route == "com.atproto.server.getSession":
            return Reply(200, {"did": self.did, "handle": self.account})
        if route == "com.atproto.identity.resolveHandle":
            did = self.handles.get(request.query.get("handle", ""))
            return (
                Reply(200, {"did": did})
                if did
                else Reply(400, {"error": "InvalidRequest", "message": "Unable to resolve handle"})
            )
        if route == "com.atproto.repo.uploadBlob":
            data = request.body
            cid = "bafkrei" + hashlib.sha256(data).hexdigest()[:40]
            self.blobs[cid] = (request.headers.get("content-type", ""), data)
            return Reply(
                200,
                {
                    "blob": {
                        "$type": "blob",
                        "ref": {"$link": cid},
                        "mimeType": request.headers.get("content-type"),
                        "size": len(data),
                    }
                },
            )
        if route == "com.atproto.repo.getRecord":
            uri = f"at://{request.query.get('repo')}/{request.query.get('collection')}/{request.query.get('rkey')}"
            record = self.records.get(uri)
            if record is None:
                return Reply(
                    400, {"error": "RecordNotFound", "message": f"Could not locate record: {uri}"}
                )
            return Reply(200, {"uri": uri, "cid": record["cid"], "value": record["value"]})
        if route == "com.atproto.repo.createRecord":
            return self._create(request.json())
        return Reply(501, {"error": "MethodNotImplemented"})

    def _create(self, body: dict[str, Any]) -> Reply:
        record = body.get("record") or {}
        rkey = body.get("rkey") or str(len(self.records))
        if body.get("repo") != self.did or body.get("collection") != "app.bsky.feed.post":
            return Reply(400, {"error": "InvalidRequest", "message": "wrong repo or collection"})
        if not re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", rkey):
            return Reply(400, {"error": "InvalidRequest", "message": f"invalid TID {rkey}"})
        uri = f"at://{self.did}/app.bsky.feed.post/{rkey}"
        if uri in self.records:
            return Reply(400, {"error": "InvalidRequest", "message": "Record already exists"})
        text = record.get("text", "")
        if graphemes(text) > 300 or len(text.encode()) > 3000:
            return Reply(
                400,
                {
                    "error": "InvalidRecord",
                    "message": "Invalid app.bsky.feed.post record: "
                    "Record/text must not be longer than 300 graphemes",
                },
            )
        raw = text.encode()
        for facet in record.get("facets", []):
            index = facet["index"]
            span = raw[index["byteStart"] : index["byteEnd"]].decode("utf-8", errors="strict")
            feature = facet["features"][0]
            kind = feature["$type"].rsplit("#", 1)[-1]
            expected = {
                "link": feature.get("uri"),
                "tag": "#" + str(feature.get("tag")),
                "mention": None,
            }[kind]
            if kind == "mention":
                handle = next((h for h, d in self.handles.items() if d == feature.get("did")), None)
                expected = f"@{handle}"
            if span != expected:
                return Reply(
                    400,
                    {
                        "error": "InvalidRecord",
                        "message": f"facet bytes {index} are {span!r}, not {expected!r}",
                    },
                )
        for image in (record.get("embed") or {}).get("images", []):
            if image["image"]["ref"]["$link"] not in self.blobs or "alt" not in image:
                return Reply(400, {"error": "InvalidRecord", "message": "unknown blob or no alt"})
        reply = record.get("reply")
        if reply:
            for ref in (reply["root"], reply["parent"]):
                known = self.records.get(ref["uri"])
                if known is None or known["cid"] != ref["cid"]:
                    return Reply(
                        400, {"error": "InvalidRecord", "message": f"unknown reply ref {ref}"}
                    )
        cid = (
            "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:40]
        )
        self.records[uri] = {"cid": cid, "value": record}
        self.posts.append({"uri": uri, "cid": cid, **record})
        return Reply(200, {"uri": uri, "cid": cid, "commit": {"cid": "bafycommit", "rev": "3l"}})


# -- Telegram ----------------------------------------------------------------------------------


class FakeTelegram(FakeServer):
    """The Bot API: getMe, getChat, sendMessage / sendPhoto / sendVideo / sendMediaGroup."""

    ALLOWED_TAGS: ClassVar[set[str]] = {"b", "i", "u", "s", "a", "code", "pre", "strong", "em"}

    def __init__(self, token: str = TG_TOKEN, chat: str = "@amgr_channel") -> None:
        super().__init__()
        self.token, self.chat = token, chat
        self.messages: list[dict[str, Any]] = []
        self._ids = itertools.count(100)

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        m = re.fullmatch(r"/bot([^/]+)/(\w+)", path)
        return m.group(2) if m else None

    def _bad(self, code: int, description: str, **extra: Any) -> Reply:
        return Reply(code, {"ok": False, "error_code": code, "description": description, **extra})

    def _html_ok(self, text: str) -> str | None:
        for tag in re.findall(r"</?([a-zA-Z0-9-]+)[^>]*>", text):
            if tag not in self.ALLOWED_TAGS:
                return f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"'
        if re.search(r"&(?!(amp|lt|gt|quot|#\d+);)", text):
            return "Bad Request: can't parse entities: Unsupported entity"
        return None

    def handle(self, request: Request) -> Reply:
        if not request.path.startswith(f"/bot{self.token}/"):
            return self._bad(401, "Unauthorized")
        method = request.route
        if request.headers.get("content-type", "").startswith("application/json"):
            fields, files = request.json() or {}, {}
        else:
            fields, files = form(request)
        if method == "getMe":
            return Reply(
                200,
                {"ok": True, "result": {"id": 123456789, "is_bot": True, "username": "amgr_bot"}},
            )
        if str(fields.get("chat_id")) != self.chat:
            return self._bad(400, "Bad Request: chat not found")
        if method == "getChat":
            return Reply(
                200,
                {
                    "ok": True,
                    "result": {"id": -1001234567890, "type": "channel", "title": "amgr channel"},
                },
            )
        text = fields.get("text") if method == "sendMessage" else fields.get("caption")
        limit = 4096 if method == "sendMessage" else 1024
        if text is not None:
            if len(text) > limit:
                return self._bad(
                    400,
                    "Bad Request: message is too long"
                    if limit == 4096
                    else "Bad Request: message caption is too long",
                )
            problem = self._html_ok(text) if fields.get("parse_mode") == "HTML" else None
            if problem:
                return self._bad(400, problem)
        if method == "sendMessage":
            return self._message(
                {"text": text, "reply_to": (fields.get("reply_parameters") or {}).get("message_id")}
            )
        if method in ("sendPhoto", "sendVideo"):
            field = "photo" if method == "sendPhoto" else "video"
            if field not in files:
                return self._bad(400, f"Bad Request: there is no {field} in the request")
            return self._message(
                {"caption": text, field: files[field][0], "bytes": len(files[field][2])}
            )
        if method == "sendMediaGroup":
            media = json.loads(fields.get("media", "[]"))
            if not 2 <= len(media) <= 10:
                return self._bad(400, "Bad Request: wrong number of media in the group")
            out = []
            for entry in media:
                name = entry["media"].removeprefix("attach://")
                if name not in files:
                    return self._bad(400, f"Bad Request: file {name} not found")
                message = {"caption": entry.get("caption"), entry["type"]: files[name][0]}
                out.append(self._message(message).body["result"])
            return Reply(200, {"ok": True, "result": out})
        return self._bad(404, "Not Found")

    def _message(self, message: dict[str, Any]) -> Reply:
        message["message_id"] = next(self._ids)
        self.messages.append(message)
        return Reply(
            200,
            {
                "ok": True,
                "result": {"message_id": message["message_id"], "chat": {"id": -1001234567890}},
            },
        )


# -- Instagram ---------------------------------------------------------------------------------


class FakeStatic(FakeServer):
    """A static host serving a folder (where amgr puts media for Instagram)."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        return "GET file" if method == "GET" else None

    def handle(self, request: Request) -> Reply:
        path = (self.folder / request.path.lstrip("/")).resolve()
        if not path.is_file() or self.folder.resolve() not in path.parents:
            return Reply(404, "not found")
        return Reply(200, path.read_bytes())


class FakeInstagram(FakeServer):
    """The Graph API content publishing subset: containers, status polling, publish."""

    def __init__(self, token: str = IG_TOKEN, user: str = IG_USER) -> None:
        super().__init__()
        self.token, self.user = token, user
        self.tokens = {token}
        self.refreshable = True
        self.containers: dict[str, dict[str, Any]] = {}
        self.published: list[dict[str, Any]] = []
        self._ids = itertools.count(17_900_000_000_000_000)

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        if path == "/refresh_access_token":
            return f"{method} refresh"
        m = re.fullmatch(r"/v[\d.]+/(\d+)(/\w+)?", path)
        if not m:
            return None
        if m.group(1) == self.user:
            return f"{method} user{m.group(2) or ''}"
        return f"{method} node"

    def _error(self, code: int, message: str, status: int = 400) -> Reply:
        return Reply(
            status,
            {
                "error": {
                    "message": message,
                    "type": "OAuthException",
                    "code": code,
                    "fbtrace_id": "Afake",
                }
            },
        )

    def handle(self, request: Request) -> Reply:
        auth = request.headers.get("authorization", "").removeprefix("Bearer ")
        given = auth or request.query.get("access_token", "")
        if given not in self.tokens:
            return self._error(190, "Invalid OAuth access token - Cannot parse access token")
        if request.route == "GET refresh":
            if request.query.get("grant_type") != "ig_refresh_token" or not self.refreshable:
                return self._error(100, "The token is too young to be refreshed")
            fresh = f"ig-refreshed-{len(self.tokens)}-token"
            self.tokens.add(fresh)
            return Reply(
                200, {"access_token": fresh, "token_type": "bearer", "expires_in": 5184000}
            )
        fields, _ = form(request)
        params = {**request.query, **fields}
        route = request.route
        if route == "GET user":
            return Reply(200, {"id": self.user, "username": "amgr_ig"})
        if route == "GET user/content_publishing_limit":
            return Reply(
                200,
                {
                    "data": [
                        {
                            "quota_usage": len(self.published),
                            "config": {"quota_total": 100, "quota_duration": 86400},
                        }
                    ]
                },
            )
        if route == "GET user/media":
            return Reply(
                200,
                {
                    "data": [
                        {"id": p["id"], "caption": p.get("caption"), "permalink": p["permalink"]}
                        for p in reversed(self.published)
                    ]
                },
            )
        if route == "POST user/media":
            return self._container(params)
        if route == "POST user/media_publish":
            container = self.containers.get(params.get("creation_id", ""))
            if container is None or container["status_code"] != "FINISHED":
                state = container["status_code"] if container else "unknown"
                return self._error(9007, f"Media ID is not available (container {state})")
            container["status_code"] = "PUBLISHED"
            media_id = str(next(self._ids))
            self.published.append(
                {
                    "id": media_id,
                    "caption": container.get("caption"),
                    "permalink": f"https://www.instagram.com/p/{media_id}/",
                    "container": container,
                }
            )
            return Reply(200, {"id": media_id})
        if route == "GET node":
            node_id = request.path.rsplit("/", 1)[-1]
            container = self.containers.get(node_id)
            if container is not None:
                if container["status_code"] == "IN_PROGRESS":
                    container["polls"] += 1
                    if container["polls"] >= 2:
                        container["status_code"] = "FINISHED"
                return Reply(
                    200,
                    {
                        "id": node_id,
                        "status_code": container["status_code"],
                        "status": container["status_code"],
                    },
                )
            media = next((p for p in self.published if p["id"] == node_id), None)
            if media is not None:
                return Reply(200, {"id": node_id, "permalink": media["permalink"]})
            return self._error(100, "Unsupported get request")
        return self._error(100, "Unknown path")

    def _container(self, params: dict[str, str]) -> Reply:
        caption = params.get("caption")
        if caption is not None and (len(caption) > 2200 or caption.count("#") > 30):
            return self._error(100, "The caption is too long or has more than 30 hashtags")
        kind = params.get("media_type", "IMAGE")
        container: dict[str, Any] = {
            "status_code": "IN_PROGRESS",
            "polls": 0,
            "caption": caption,
            "media_type": kind,
        }
        if kind == "CAROUSEL":
            children = params.get("children", "").split(",")
            if not 2 <= len(children) <= 10 or any(
                c not in self.containers or self.containers[c]["status_code"] != "FINISHED"
                for c in children
            ):
                return self._error(100, "Carousel children must be 2 to 10 finished containers")
            container["children"] = children
        else:
            url = params.get("video_url") if kind == "REELS" else params.get("image_url")
            if not url:
                return self._error(100, "The parameter image_url or video_url is required")
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:  # really fetched
                    container["bytes"] = answer.read()
            except OSError as exc:
                return self._error(9004, f"Media download has failed: {exc}")
            container["url"] = url
            container["is_carousel_item"] = params.get("is_carousel_item") == "true"
        container_id = str(next(self._ids))
        self.containers[container_id] = container
        return Reply(200, {"id": container_id})
