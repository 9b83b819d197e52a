"""Google (OAuth 2.0, YouTube Data API v3, Drive API v3) and Dropbox on 127.0.0.1.

:class:`FakeGoogle` checks what Google checks: the consent request (client id, a
loopback redirect, PKCE S256 and the verifier at the exchange), bearer tokens that
expire and refresh tokens that can be revoked, the device flow's pending answers, and
resumable uploads chunk by chunk (offsets must continue what the server has, chunks
are multiples of 256 KiB but the last, ``308`` with ``Range``, ``bytes */TOTAL``
status queries). :meth:`FakeGoogle.drop_next_chunk` keeps half of the next chunk and
closes the connection without an answer, as a proxy or a flaky link does.

:class:`FakeDropbox` speaks API v2: ``files/upload``, upload sessions with
``incorrect_offset``, shared links with ``shared_link_already_exists``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fake_platforms import DROP, FakeServer, Reply, Request

CLIENT_ID = "1234-amgr-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-test-client-secret-xyz"
DROPBOX_TOKEN = "sl.dropbox-test-token-abcdef"
DROPBOX_REFRESH = "dropbox-refresh-token-0123456789"
APP_KEY = "amgrappkey123"
APP_SECRET = "dropbox-app-secret-xyz"
UNIT = 256 * 1024


def client_secret_json(url: str) -> dict[str, Any]:
    """The "Desktop app" client file Google Cloud Console gives, pointing at the fake."""
    return {
        "installed": {
            "client_id": CLIENT_ID,
            "project_id": "amgr-test",
            "auth_uri": f"{url}/o/oauth2/auth",
            "token_uri": f"{url}/token",
            "auth_provider_x509_cert_url": f"{url}/oauth2/v1/certs",
            "client_secret": CLIENT_SECRET,
            "redirect_uris": ["http://localhost"],
        }
    }


def _error(status: int, message: str, reason: str) -> Reply:
    return Reply(
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
            }
        },
    )


class FakeGoogle(FakeServer):
    """OAuth, YouTube and Drive in one server."""

    def __init__(self, token_lifetime_s: int = 3599) -> None:
        super().__init__()
        self.token_lifetime_s = token_lifetime_s
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.codes: dict[str, dict[str, str]] = {}
        self.devices: dict[str, int] = {}
        self.device_polls_needed = 2
        self.sessions: dict[str, dict[str, Any]] = {}
        self.videos: list[dict[str, Any]] = []
        self.thumbnails: dict[str, bytes] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.permissions: dict[str, list[dict[str, Any]]] = {}
        self._drop_next = False
        self._ids = itertools.count(1)
        self.channel_title = "Deep Work Daily"
        self.decline = False
        """The person clicks "Cancel" on the consent page."""

    # -- helpers for tests -----------------------------------------------------------------

    def grant(self) -> tuple[str, str]:
        """A valid access and refresh token pair, as a finished consent leaves them."""
        access, refresh = "ya29." + secrets.token_urlsafe(24), "1//" + secrets.token_urlsafe(24)
        self.access.add(access)
        self.refresh.add(refresh)
        return access, refresh

    def revoke_all(self) -> None:
        """The user removed amgr's access: every token stops working."""
        self.access.clear()
        self.refresh.clear()

    def drop_next_chunk(self) -> None:
        self._drop_next = True

    def uploaded(self, kind: str) -> list[dict[str, Any]]:
        return [s for s in self.sessions.values() if s["kind"] == kind]

    # -- routing ---------------------------------------------------------------------------

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        if path == "/o/oauth2/auth" or path in ("/token", "/device/code"):
            return f"{method} {path}"
        if path in ("/upload/youtube/v3/videos", "/upload/drive/v3/files"):
            what = "youtube" if "youtube" in path else "drive"
            if method == "POST" and query.get("uploadType") == "resumable":
                return f"POST {what} session"
            if method == "PUT" and "upload_id" in query:
                return f"PUT {what} chunk"
            return None
        if path == "/upload/youtube/v3/thumbnails/set":
            return "POST thumbnails"
        if path in ("/youtube/v3/channels", "/youtube/v3/playlistItems", "/drive/v3/about"):
            return f"{method} {path.rsplit('/', 1)[1]}"
        if path == "/drive/v3/files":
            return f"{method} drive files"
        if re.fullmatch(r"/drive/v3/files/[^/]+/permissions", path):
            return "POST drive permission"
        if re.fullmatch(r"/drive/v3/files/[^/]+", path):
            return "GET drive file"
        return None

    def handle(self, request: Request) -> Reply:
        route = request.route
        if route == "GET /o/oauth2/auth":
            return self._consent(request)
        if route == "POST /token":
            return self._token(request)
        if route == "POST /device/code":
            return self._device(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.access:
            return _error(401, "Request had invalid authentication credentials.", "authError")
        if route.endswith(" session"):
            return self._open_session(request, route.split()[1])
        if route.endswith(" chunk"):
            return self._chunk(request)
        if route == "POST thumbnails":
            video = request.query.get("videoId", "")
            if not any(v["id"] == video for v in self.videos):
                return _error(
                    404, "The video that you are trying to update cannot be found.", "videoNotFound"
                )
            self.thumbnails[video] = request.body
            return Reply(200, {"kind": "youtube#thumbnailSetResponse", "items": [{}]})
        if route == "GET channels":
            return Reply(200, {"items": [self._channel()]})
        if route == "GET playlistItems":
            return self._playlist(request)
        if route == "GET about":
            return Reply(200, {"user": {"displayName": "Ada", "emailAddress": "ada@example.com"}})
        return self._drive(request)

    # -- OAuth -----------------------------------------------------------------------------

    def _consent(self, request: Request) -> Reply:
        q = request.query
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != CLIENT_ID:
            return Reply(400, "<html>Error 401: invalid_client</html>")
        if not re.fullmatch(r"http://127\.0\.0\.1:\d+/[a-z/]*", redirect):
            return Reply(400, "<html>Error 400: redirect_uri_mismatch</html>")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return Reply(400, "<html>Error 400: invalid_request (PKCE)</html>")
        scope = q.get("scope", "")
        if q.get("response_type") != "code" or not ("youtube" in scope or "drive" in scope):
            return Reply(400, "<html>Error 400: invalid_scope</html>")
        if self.decline:
            answer = urlencode({"error": "access_denied", "state": q.get("state", "")})
            return Reply(302, "", {"Location": f"{redirect}?{answer}"})
        code = "4/" + secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": q["code_challenge"],
            "redirect": redirect,
            "scope": q.get("scope", ""),
            "offline": q.get("access_type", ""),
        }
        target = redirect + "?" + urlencode({"state": q.get("state", ""), "code": code})
        return Reply(302, "", {"Location": target})

    def _tokens(self, scope: str, refresh: bool = True) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(24)
        self.access.add(access)
        out: dict[str, Any] = {
            "access_token": access,
            "expires_in": self.token_lifetime_s,
            "scope": scope,
            "token_type": "Bearer",
        }
        if refresh:
            out["refresh_token"] = "1//" + secrets.token_urlsafe(24)
            self.refresh.add(out["refresh_token"])
        return out

    def _token(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):  # RFC 6749 2.3.1: the client as HTTP Basic
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            form.setdefault("client_id", user)
            form["client_secret"] = password
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Reply(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.pop(form.get("code", ""), None)
            if entry is None or entry["redirect"] != form.get("redirect_uri"):
                return Reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            verifier = form.get("code_verifier", "").encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if digest.decode() != entry["challenge"]:
                return Reply(
                    400, {"error": "invalid_grant", "error_description": "Invalid code verifier."}
                )
            return Reply(200, self._tokens(entry["scope"], refresh=entry["offline"] == "offline"))
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh:
                return Reply(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
            return Reply(200, self._tokens("", refresh=False))
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            code = form.get("device_code", "")
            if code not in self.devices:
                return Reply(400, {"error": "invalid_grant"})
            self.devices[code] += 1
            if self.devices[code] < self.device_polls_needed:
                return Reply(
                    428,
                    {
                        "error": "authorization_pending",
                        "error_description": "Precondition Required",
                    },
                )
            del self.devices[code]
            return Reply(200, self._tokens("https://www.googleapis.com/auth/youtube.upload"))
        return Reply(400, {"error": "unsupported_grant_type"})

    def _device(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("client_id") != CLIENT_ID:
            return Reply(401, {"error": "invalid_client"})
        code = "AH-" + secrets.token_urlsafe(20)
        self.devices[code] = 0
        return Reply(
            200,
            {
                "device_code": code,
                "user_code": "GQVQ-JKEC",
                "verification_url": "https://www.google.com/device",
                "expires_in": 1800,
                "interval": 1,
            },
        )

    # -- resumable uploads -----------------------------------------------------------------

    def _open_session(self, request: Request, kind: str) -> Reply:
        try:
            total = int(request.headers["x-upload-content-length"])
        except (KeyError, ValueError):
            return _error(400, "X-Upload-Content-Length missing", "badRequest")
        upload_id = "ADPycd" + secrets.token_urlsafe(12)
        self.sessions[upload_id] = {
            "kind": kind,
            "total": total,
            "type": request.headers.get("x-upload-content-type"),
            "metadata": request.json(),
            "data": bytearray(),
            "chunks": [],
            "resource": None,
        }
        path = request.path
        location = f"{self.url}{path}?{urlencode({**request.query, 'upload_id': upload_id})}"
        return Reply(200, "", {"Location": location, "X-GUploader-UploadID": upload_id})

    def _chunk(self, request: Request) -> Reply:
        session = self.sessions.get(request.query["upload_id"])
        if session is None:
            return _error(404, "Upload session not found", "notFound")
        header = request.headers.get("content-range", "")
        have = len(session["data"])
        if session["resource"] is not None:
            return Reply(200, session["resource"])
        if header == f"bytes */{session['total']}":
            return self._incomplete(have)
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", header)
        if not match or int(match.group(3)) != session["total"]:
            return _error(400, f"bad Content-Range {header!r}", "badContent")
        start, end = int(match.group(1)), int(match.group(2))
        if start != have or end - start + 1 != len(request.body):
            return _error(400, f"chunk {start}-{end} does not continue at {have}", "badContent")
        last = end + 1 == session["total"]
        if not last and len(request.body) % UNIT:
            return _error(400, "chunk size must be a multiple of 256 KiB", "badContent")
        session["chunks"].append((start, end))
        if self._drop_next:
            self._drop_next = False
            session["data"] += request.body[: len(request.body) // 2]
            return Reply(DROP)
        session["data"] += request.body
        if not last:
            return self._incomplete(len(session["data"]))
        session["resource"] = self._finish(session)
        return Reply(200, session["resource"])

    def _incomplete(self, have: int) -> Reply:
        headers = {"Range": f"bytes=0-{have - 1}"} if have else {}
        return Reply(308, "", headers)

    def _finish(self, session: dict[str, Any]) -> dict[str, Any]:
        meta = session["metadata"] or {}
        if session["kind"] == "youtube":
            video = {
                "kind": "youtube#video",
                "id": f"vid{next(self._ids):05d}",
                "snippet": meta.get("snippet", {}),
                "status": {**meta.get("status", {}), "uploadStatus": "uploaded"},
                "size": len(session["data"]),
            }
            self.videos.append(video)
            return video
        return self._new_file({**meta, "mimeType": session["type"]}, bytes(session["data"]))

    def _channel(self) -> dict[str, Any]:
        return {
            "id": "UCamgr",
            "snippet": {"title": self.channel_title},
            "contentDetails": {"relatedPlaylists": {"uploads": "UUamgr"}},
        }

    def _playlist(self, request: Request) -> Reply:
        if request.query.get("playlistId") != "UUamgr":
            return _error(404, "playlist not found", "playlistNotFound")
        items = [
            {
                "snippet": {
                    "title": v["snippet"].get("title"),
                    "description": v["snippet"].get("description"),
                    "resourceId": {"kind": "youtube#video", "videoId": v["id"]},
                }
            }
            for v in reversed(self.videos)
        ]
        return Reply(200, {"items": items[:50]})

    # -- Drive -----------------------------------------------------------------------------

    def _new_file(self, meta: dict[str, Any], data: bytes) -> dict[str, Any]:
        file_id = f"file{next(self._ids):05d}"
        entry = {
            "id": file_id,
            "name": meta.get("name"),
            "mimeType": meta.get("mimeType"),
            "parents": meta.get("parents") or ["root"],
            "appProperties": meta.get("appProperties") or {},
            "webViewLink": f"https://drive.google.com/file/d/{file_id}/view",
            "size": str(len(data)),
            "data": data,
        }
        if entry["mimeType"] == "application/vnd.google-apps.folder":
            entry["webViewLink"] = f"https://drive.google.com/drive/folders/{file_id}"
        self.files[file_id] = entry
        return {k: v for k, v in entry.items() if k != "data"}

    def _drive(self, request: Request) -> Reply:
        route = request.route
        if route == "POST drive files":
            return Reply(200, self._new_file(request.json(), b""))
        if route == "GET drive files":
            return Reply(200, {"files": self._search(request.query.get("q", ""))})
        file_id = request.path.split("/")[4]
        entry = self.files.get(file_id)
        if entry is None:
            return _error(404, f"File not found: {file_id}.", "notFound")
        if route == "POST drive permission":
            perm = {"id": f"perm{next(self._ids)}", **request.json()}
            self.permissions.setdefault(file_id, []).append(perm)
            return Reply(200, perm)
        return Reply(200, {k: v for k, v in entry.items() if k != "data"})

    def _search(self, q: str) -> list[dict[str, Any]]:
        found = list(self.files.values())
        for key, value in re.findall(
            r"appProperties has \{ key='([^']+)' and value='([^']+)' \}", q
        ):
            found = [f for f in found if f["appProperties"].get(key) == value]
        for parent in re.findall(r"'([^']+)' in parents", q):
            found = [f for f in found if parent in f["parents"]]
        return [{k: v for k, v in f.items() if k != "data"} for f in found]


class FakeDropbox(FakeServer):
    """Dropbox API v2 (RPC and content endpoints on one server)."""

    def __init__(self, token: str = DROPBOX_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.files: dict[str, bytes] = {}
        self.sessions: dict[str, bytearray] = {}
        self.links: dict[str, str] = {}
        self.uploads = 0
        self._ids = itertools.count(1)

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str | None:
        if path == "/oauth2/token":
            return "POST oauth2/token"
        return f"{method} {path.removeprefix('/2/')}" if path.startswith("/2/") else None

    def handle(self, request: Request) -> Reply:
        if request.route == "POST oauth2/token":
            return self._refresh(request)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(
                401,
                {
                    "error_summary": "invalid_access_token/..",
                    "error": {".tag": "invalid_access_token"},
                },
            )
        endpoint = request.route.split(" ", 1)[1]
        arg = json.loads(request.headers.get("dropbox-api-arg") or "null")
        if endpoint == "users/get_current_account":
            return Reply(
                200,
                {
                    "account_id": "dbid:amgr",
                    "name": {"display_name": "Ada Lovelace"},
                    "email": "ada@example.com",
                },
            )
        if endpoint == "files/upload":
            if len(request.body) > 150 * 1024 * 1024:
                return Reply(400, 'Error in call to API function "files/upload": too large')
            return self._commit(arg, request.body)
        if endpoint == "files/upload_session/start":
            session = f"sess{next(self._ids)}"
            self.sessions[session] = bytearray(request.body)
            return Reply(200, {"session_id": session})
        if endpoint in ("files/upload_session/append_v2", "files/upload_session/finish"):
            cursor = arg["cursor"]
            data = self.sessions.get(cursor["session_id"])
            if data is None:
                return Reply(409, {"error_summary": "not_found/..", "error": {".tag": "not_found"}})
            if cursor["offset"] != len(data):
                return Reply(
                    409,
                    {
                        "error_summary": "incorrect_offset/..",
                        "error": {".tag": "incorrect_offset", "correct_offset": len(data)},
                    },
                )
            data += request.body
            if endpoint.endswith("append_v2"):
                return Reply(200, None)
            del self.sessions[cursor["session_id"]]
            return self._commit(arg["commit"], bytes(data))
        if endpoint == "sharing/create_shared_link_with_settings":
            body = request.json()
            path = body["path"].lower()
            if not any(p == path or p.startswith(path + "/") for p in self.files):
                return Reply(409, {"error_summary": "path/not_found/", "error": {".tag": "path"}})
            if path in self.links:
                meta = {".tag": "folder", "url": self.links[path], "path_lower": path}
                return Reply(
                    409,
                    {
                        "error_summary": "shared_link_already_exists/metadata/..",
                        "error": {
                            ".tag": "shared_link_already_exists",
                            "shared_link_already_exists": {".tag": "metadata", "metadata": meta},
                        },
                    },
                )
            self.links[path] = f"https://www.dropbox.com/scl/fo/{next(self._ids)}/amgr?dl=0"
            return Reply(200, {".tag": "folder", "url": self.links[path], "path_lower": path})
        return Reply(400, f"Unknown API function: {endpoint}")

    def _refresh(self, request: Request) -> Reply:
        """Dropbox's token endpoint: a refresh token (offline access) for a new token."""
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if (form.get("client_id"), form.get("client_secret")) != (APP_KEY, APP_SECRET):
            return Reply(400, {"error": "invalid_client", "error_description": "Invalid client"})
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != (
            DROPBOX_REFRESH
        ):
            return Reply(
                400, {"error": "invalid_grant", "error_description": "refresh token is malformed"}
            )
        self.token = "sl.refreshed-" + secrets.token_urlsafe(16)
        return Reply(200, {"access_token": self.token, "token_type": "bearer", "expires_in": 14400})

    def _commit(self, arg: dict[str, Any], data: bytes) -> Reply:
        path = arg["path"]
        mode = arg.get("mode", "add")
        mode = mode.get(".tag") if isinstance(mode, dict) else mode
        if path.lower() in self.files and mode == "add":
            return Reply(409, {"error_summary": "path/conflict/file/..", "error": {".tag": "path"}})
        self.files[path.lower()] = data
        self.uploads += 1
        return Reply(
            200,
            {
                "name": path.rsplit("/", 1)[-1],
                "path_display": path,
                "path_lower": path.lower(),
                "id": f"id:{hashlib.sha256(path.lower().encode()).hexdigest()[:12]}",
                "size": len(data),
            },
        )


def parse_redirect(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def connect(home: Any, google: FakeGoogle, name: str, expires_in: float = 3000) -> Any:
    """What a finished `amgr auth NAME` leaves: tokens the fake accepts, stored 0600."""
    from datetime import UTC, datetime, timedelta

    from automation_manager.home import Home
    from automation_manager.publishers.oauth import Token, TokenStore

    access, refresh = google.grant()
    now = datetime.now(UTC)
    token = Token(access, refresh, now + timedelta(seconds=expires_in), obtained_at=now)
    TokenStore(Home.resolve(home), name).save(token)
    return token


def google_home(
    root: Any, google: FakeGoogle, kind: str, name: str, *, connected: bool, **platform: Any
) -> Any:
    """A home with one Google platform ``name`` of ``kind`` at the fake, its client file
    in the home, and (``connected``) tokens as `amgr auth` leaves them."""
    from pathlib import Path

    from fake_platforms import write_home

    home = Path(root)
    config = {
        "kind": kind,
        "api_base": google.url,
        "google_credentials_path": "client_secret.json",
        "timeout_s": 5,
        **platform,
    }
    write_home(home, {name: config})
    (home / "client_secret.json").write_text(json.dumps(client_secret_json(google.url)))
    if connected:
        connect(home, google, name)
    return home
