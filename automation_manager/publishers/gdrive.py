"""Google Drive: an item's files copied to a folder, shared by link, via OAuth 2.0.

Each item gets a folder (named after the item, inside ``folder_id`` or My Drive's
root) holding every file of the item, each sent with Drive's resumable upload
(:mod:`.resumable`: ``POST /upload/drive/v3/files?uploadType=resumable``, then chunks).
With ``share: anyone`` the folder gets an "anyone with the link can view" permission
and its ``webViewLink`` is the item's URL.

Never twice: Drive has no idempotency key, so every folder and file carries an
``appProperties`` ``amgr`` key that is the same on every attempt. An unsure step is
reconciled by asking the recorded upload session how far it got, else by searching
Drive for that key (``appProperties has { key='amgr' and value='KEY' }``); only what
Drive certainly does not have is sent again.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from ..config.platforms_google import GDrivePlatform
from ..errors import TaskError
from .base import Parts, Receipt
from .google import GooglePublisher
from .ledger import Pair, stable_id
from .post import Post
from .resumable import ResumableUpload

FOLDER_TYPE = "application/vnd.google-apps.folder"
FILE_SCOPE = "https://www.googleapis.com/auth/drive.file"
"""Files amgr made itself: enough when amgr makes the folders."""
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
"""Needed to write into a folder the person made (``folder_id``)."""
FIELDS = "id,name,mimeType,parents,webViewLink,appProperties"


class GDrivePublisher(GooglePublisher):
    """Copies items' files into Google Drive folders."""

    kind = "gdrive"
    config: GDrivePlatform
    reconciles_by_resending = False

    scopes = (FILE_SCOPE,)

    def oauth_scopes(self) -> tuple[str, ...]:
        return (DRIVE_SCOPE,) if self.config.folder_id else self.scopes

    def key(self, post: Post, name: str = "") -> str:
        """The ``appProperties.amgr`` value of the item's folder (or one of its files)."""
        return stable_id(post.item_id, self.name, name)[:24]

    def files(self, post: Post) -> list[Path]:
        files = list(dict.fromkeys(post.files.values()))
        if not files:
            raise TaskError(f"{self.name}: item {post.item_id} has no files to copy")
        return files

    # -- sending ---------------------------------------------------------------------------

    def send(self, post: Post, parts: Parts) -> Receipt:
        folder = parts.done.get("folder")
        if folder is None:
            created = self.http.request(
                "POST",
                f"{self.api}/drive/v3/files",
                what="create the item's folder",
                repeatable=False,
                params={"fields": FIELDS},
                json={
                    "name": post.item_id,
                    "mimeType": FOLDER_TYPE,
                    "parents": [self.config.folder_id] if self.config.folder_id else [],
                    "appProperties": {"amgr": self.key(post)},
                },
            ).json()
            parts.record("folder", str(created["id"]), created.get("webViewLink"))
            folder = parts.done["folder"]
        folder_id = str(folder["remote_id"])
        for path in self.files(post):
            if f"file:{path.name}" not in parts.done:
                self._upload(post, parts, path, folder_id)
        return self._finish(parts, folder_id)

    def _upload(self, post: Post, parts: Parts, path: Path, folder_id: str) -> None:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        upload = ResumableUpload(self.http, path, kind, self.config.chunk_kib * 1024)
        metadata = {
            "name": path.name,
            "parents": [folder_id],
            "appProperties": {"amgr": self.key(post, path.name)},
        }
        url = f"{self.api}/upload/drive/v3/files?uploadType=resumable&fields={FIELDS}"
        resource = upload.send(
            parts,
            f"session:{path.name}",
            lambda: upload.start(url, metadata, what=f"open the upload of {path.name}"),
        )
        self._record_file(parts, path, resource)

    def _record_file(self, parts: Parts, path: Path, resource: dict[str, Any]) -> None:
        parts.record(f"file:{path.name}", str(resource["id"]), resource.get("webViewLink"))

    def _finish(self, parts: Parts, folder_id: str) -> Receipt:
        if self.config.share == "anyone" and "shared" not in parts.done:
            # Drive answers an identical permission with the existing one: safe to repeat.
            permission = self.http.request(
                "POST",
                f"{self.api}/drive/v3/files/{folder_id}/permissions",
                what="share the folder by link",
                repeatable=True,
                json={"role": "reader", "type": "anyone"},
            ).json()
            parts.record("shared", str(permission.get("id")))
        url = parts.done["folder"].get("url") or self._link(folder_id)
        files = sum(1 for name in parts.done if name.startswith("file:"))
        return Receipt(remote_id=folder_id, url=url, extra={"files": files})

    def _link(self, file_id: str) -> str | None:
        data = self.http.request(
            "GET",
            f"{self.api}/drive/v3/files/{file_id}",
            what="read the folder's link",
            repeatable=True,
            params={"fields": FIELDS},
        ).json()
        link = data.get("webViewLink")
        return str(link) if link else None

    # -- after an unsure send --------------------------------------------------------------

    def find(self, key: str) -> dict[str, Any] | None:
        """The file or folder carrying ``appProperties.amgr == key``, if Drive has one."""
        data = self.http.request(
            "GET",
            f"{self.api}/drive/v3/files",
            what="look for an earlier, unconfirmed upload",
            repeatable=True,
            params={
                "q": f"appProperties has {{ key='amgr' and value='{key}' }} and trashed = false",
                "fields": f"files({FIELDS})",
                "spaces": "drive",
            },
        ).json()
        found = data.get("files") if isinstance(data, dict) else None
        return found[0] if found else None

    def reconcile(self, post: Post, pair: Pair, parts: Parts) -> Receipt | None:
        """Record what Drive already has; the receipt once the folder is complete."""
        if "folder" not in parts.done:
            folder = self.find(self.key(post))
            if folder is None:
                return None
            parts.record("folder", str(folder["id"]), folder.get("webViewLink"))
        folder_id = str(parts.done["folder"]["remote_id"])
        missing = False
        for path in self.files(post):
            if f"file:{path.name}" in parts.done:
                continue
            upload = ResumableUpload(self.http, path, "application/octet-stream", 1)
            uri, progress = upload.session_of(parts, f"session:{path.name}")
            if progress.resource is not None:
                self._record_file(parts, path, progress.resource)
                continue
            if uri is not None:
                missing = True  # incomplete: the send resumes the session
                continue
            found = self.find(self.key(post, path.name))
            if found is None:
                missing = True
            else:
                self._record_file(parts, path, found)
        return None if missing else self._finish(parts, folder_id)

    def check(self) -> str:
        data = self.http.request(
            "GET",
            f"{self.api}/drive/v3/about",
            what="read the account",
            repeatable=True,
            params={"fields": "user"},
        ).json()
        user = data.get("user") or {}
        who = user.get("emailAddress") or user.get("displayName") or "?"
        where = "My Drive"
        if self.config.folder_id:
            folder = self.http.request(
                "GET",
                f"{self.api}/drive/v3/files/{self.config.folder_id}",
                what="read the folder",
                repeatable=True,
                accept=(404,),
                params={"fields": FIELDS},
            )
            info: Any = folder.json()
            if folder.status_code == 404 or info.get("mimeType") != FOLDER_TYPE:
                raise TaskError(
                    f"{self.name}: {self.setting('folder_id')} {self.config.folder_id!r} is not "
                    f"a folder {who} can see: copy the id from the folder's address"
                )
            where = f"folder {info.get('name')!r}"
        return f"authenticated as {who}; files go to {where}"
