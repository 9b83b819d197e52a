"""Dropbox: an item's files copied to a folder, the folder's shared link as its URL.

Each item gets ``FOLDER/ITEM-ID/`` with every file of the item. Files up to
``session_threshold_mib`` (150 MiB, Dropbox's limit for one request) go up with
``/2/files/upload``; larger ones through an upload session (``upload_session/start``,
``append_v2``, ``finish``) in ``chunk_mib`` pieces, where Dropbox's ``incorrect_offset``
answer says where to continue after a lost answer. Then
``/2/sharing/create_shared_link_with_settings`` makes the folder's link (an existing
link is reused).

Never twice: every upload writes the same path with ``mode: overwrite``, so a resend
after a lost answer or a kill -9 replaces the file with the same bytes instead of adding
a second copy; finished files are kept in the ledger and not sent again.

The token is ``token_env`` (or ``AutomationManager(dropbox_token=...)``); for unattended
use, ``refresh_token_env`` + ``app_key`` + ``app_secret_env`` fetch short-lived access
tokens from ``/oauth2/token``.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx

from ..config.platforms_google import DropboxPlatform
from ..errors import AuthError, TaskError
from ..secrets import secret_from_env
from .base import Parts, Publisher, Receipt
from .http import PlatformHttp, platform_message
from .oauth import OAuthClient, Token, grant_token
from .post import Post

MIB = 1024 * 1024
_WHERE_TOKEN = (
    "an access token from the Dropbox App Console (your app → Settings → Generated access "
    "token; scopes files.content.write, sharing.write, account_info.read)"
)


def _summary(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        return platform_message(response)
    if isinstance(data, dict) and data.get("error_summary"):
        return str(data["error_summary"]).rstrip("/.")
    return platform_message(response)


class DropboxPublisher(Publisher):
    """Copies items' files into one Dropbox folder and shares it by link."""

    kind = "dropbox"
    config: DropboxPlatform

    @property
    def api(self) -> str:
        return self.config.api_base.rstrip("/")

    @property
    def content(self) -> str:
        return self.config.content_base.rstrip("/")

    def access_token(self) -> str:
        """The token to send: the library's, a refreshed one, or ``token_env``'s."""
        cfg = self.config
        if cfg.given_token:
            return cfg.given_token
        if cfg.refresh_token_env and cfg.app_key and cfg.app_secret_env:
            return self._refreshed().access_token
        return secret_from_env(cfg.token_env, self.setting("token_env"), _WHERE_TOKEN)

    def _refreshed(self) -> Token:
        cfg = self.config
        assert cfg.refresh_token_env and cfg.app_key and cfg.app_secret_env
        refresh = secret_from_env(
            cfg.refresh_token_env,
            self.setting("refresh_token_env"),
            "a refresh token from the OAuth code flow with token_access_type=offline",
        )
        secret = secret_from_env(
            cfg.app_secret_env, self.setting("app_secret_env"), "the app secret (App Console)"
        )
        client = OAuthClient(
            platform=self.name,
            client_id=cfg.app_key,
            client_secret=secret,
            auth_uri="https://www.dropbox.com/oauth2/authorize",
            token_uri=f"{self.api}/oauth2/token",
            scopes=(),
            secret_setting=self.setting("app_key"),
        )
        got = grant_token(
            client,
            {"grant_type": "refresh_token", "refresh_token": refresh},
            now=self.env.now(),
            sleep=self.env.sleep,
            what="refresh the access token",
        )
        if isinstance(got, dict):
            raise AuthError(
                f"{self.name}: Dropbox refused the refresh token ({got.get('error')}): check "
                f"{cfg.refresh_token_env} ({self.setting('refresh_token_env')}), "
                f"{self.setting('app_key')} and {cfg.app_secret_env}"
            )
        return got

    @cached_property
    def http(self) -> PlatformHttp:
        cfg = self.config
        where = (
            "the token given to AutomationManager(dropbox_token=...)"
            if cfg.given_token
            else f"{cfg.refresh_token_env} ({self.setting('refresh_token_env')})"
            if cfg.refresh_token_env
            else f"{cfg.token_env} ({self.setting('token_env')})"
        )
        return PlatformHttp(
            self.name,
            auth_hint=f"{where}: the token must be current and have the scopes "
            "files.content.write, sharing.write and account_info.read",
            sleep=self.env.sleep,
            attempts=self.env.attempts,
            timeout_s=cfg.timeout_s,
            headers={"Authorization": f"Bearer {self.access_token()}"},
        )

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    def describe(self) -> str:
        return f"{self.name} (dropbox {self.config.folder})"

    def folder_of(self, post: Post) -> str:
        return f"{self.config.folder.rstrip('/')}/{post.item_id}"

    # -- requests --------------------------------------------------------------------------

    def rpc(self, endpoint: str, body: Any, *, what: str) -> Any:
        """A JSON call to ``/2/ENDPOINT``; the answer (409 ``error`` documents included)."""
        response = self.http.request(
            "POST",
            f"{self.api}/2/{endpoint}",
            what=what,
            repeatable=True,
            accept=(409,),
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        return self._answer(response, what)

    def _content_call(self, endpoint: str, arg: dict[str, Any], data: bytes, what: str) -> Any:
        response = self.http.request(
            "POST",
            f"{self.content}/2/{endpoint}",
            what=what,
            repeatable=True,  # same path, mode overwrite: a resend replaces, never adds
            accept=(409,),
            content=data,
            headers={
                "Content-Type": "application/octet-stream",
                "Dropbox-API-Arg": json.dumps(arg),  # ASCII: non-ASCII as \\uXXXX
            },
        )
        return self._answer(response, what)

    def _answer(self, response: httpx.Response, what: str) -> Any:
        if response.status_code == 409:
            data: Any = response.json()
            return {"_conflict": data.get("error") or {}, "_summary": _summary(response)}
        return response.json() if response.content else None

    def _refused(self, answer: dict[str, Any], what: str) -> TaskError:
        return TaskError(f"{self.name} refused to {what}: {answer['_summary']}")

    # -- publishing ------------------------------------------------------------------------

    def send(self, post: Post, parts: Parts) -> Receipt:
        if not post.files:
            raise TaskError(f"{self.name}: item {post.item_id} has no files to copy")
        folder = self.folder_of(post)
        for path in dict.fromkeys(post.files.values()):
            part = f"file:{path.name}"
            if part in parts.done:
                continue
            meta = self.upload(path, f"{folder}/{path.name}")
            parts.record(part, str(meta.get("id")), str(meta.get("path_display")))
        url = self.shared_link(folder)
        return Receipt(remote_id=folder, url=url, extra={"files": len(post.files)})

    def upload(self, path: Path, target: str) -> dict[str, Any]:
        """Put ``path`` at ``target`` (overwriting); the file's metadata."""
        commit = {"path": target, "mode": "overwrite", "autorename": False, "mute": True}
        size = path.stat().st_size
        what = f"upload {path.name}"
        if size <= self.config.session_threshold_mib * MIB:
            answer = self._content_call("files/upload", commit, path.read_bytes(), what)
            if "_conflict" in answer:
                raise self._refused(answer, what)
            return dict(answer)
        return self._session_upload(path, size, commit, what)

    def _session_upload(
        self, path: Path, size: int, commit: dict[str, Any], what: str
    ) -> dict[str, Any]:
        chunk = self.config.chunk_mib * MIB
        with path.open("rb") as file:
            started = self._content_call("files/upload_session/start", {}, file.read(chunk), what)
            if "_conflict" in started:
                raise self._refused(started, what)
            session = str(started["session_id"])
            offset = min(chunk, size)
            while True:
                file.seek(offset)
                data = file.read(chunk)
                final = offset + len(data) >= size
                cursor = {"session_id": session, "offset": offset}
                if final:
                    endpoint, arg = (
                        "files/upload_session/finish",
                        {"cursor": cursor, "commit": commit},
                    )
                else:
                    endpoint, arg = "files/upload_session/append_v2", {"cursor": cursor}
                answer = self._content_call(endpoint, arg, data, what)
                if isinstance(answer, dict) and "_conflict" in answer:
                    error = answer["_conflict"]
                    correct = error.get("correct_offset")
                    if error.get(".tag") == "incorrect_offset" and isinstance(correct, int):
                        offset = correct  # Dropbox has more (or less) than we thought
                        continue
                    raise self._refused(answer, what)
                if final:
                    return dict(answer)
                offset += len(data)

    def shared_link(self, path: str) -> str:
        """A public link to ``path`` (the existing one when there is one)."""
        what = f"share {path}"
        answer = self.rpc(
            "sharing/create_shared_link_with_settings",
            {"path": path, "settings": {"requested_visibility": "public", "access": "viewer"}},
            what=what,
        )
        if "_conflict" not in answer:
            return str(answer["url"])
        error = answer["_conflict"]
        if error.get(".tag") == "shared_link_already_exists":
            meta = (error.get("shared_link_already_exists") or {}).get("metadata") or {}
            if meta.get("url"):
                return str(meta["url"])
            links = self.rpc(
                "sharing/list_shared_links", {"path": path, "direct_only": True}, what=what
            )
            found = links.get("links") if isinstance(links, dict) else None
            if found:
                return str(found[0]["url"])
        raise self._refused(answer, what)

    def check(self) -> str:
        data = self.rpc("users/get_current_account", None, what="read the account")
        if "_conflict" in data:
            raise self._refused(data, "read the account")
        name = (data.get("name") or {}).get("display_name") or data.get("email") or "?"
        return f"authenticated as {name}; files go to {self.config.folder}/ITEM/"
