"""YouTube: videos (shorts) through the Data API v3 resumable upload, with OAuth 2.0.

``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` opens a
session (:mod:`.resumable`) whose URI is written to the ledger before the first byte;
the bytes follow in chunks, resumed from the server's ``Range`` after a dropped
connection. The finished video's id is written next, then the thumbnail is set
(``thumbnails.set``), so a run that stops in between only sets the thumbnail.

Never twice: YouTube has no idempotency key. An unsure send is reconciled by asking
the recorded session how far it got (a finished session answers with the video), and
otherwise by listing the channel's uploads for the ``amgr:KEY`` line that every
description ends with.

Shorts are vertical videos of up to three minutes; ``#Shorts`` is added to the
description when neither it nor the title has it. Without ``publish_at``, videos go up
with ``privacy_status`` (``private`` by default, for items made offline); with it, they
go up private with ``publishAt`` at the window's slot and YouTube makes them public then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..config.platforms_google import YouTubePlatform
from ..errors import AuthError, TaskError, TransientError
from .base import Parts, Receipt
from .google import LATER_REASONS, GooglePublisher, google_reason, raise_for_forbidden
from .http import platform_message
from .ledger import Pair, stable_id
from .mp4 import video_size
from .post import Post
from .resumable import ResumableUpload

SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
)
VIDEO_TYPES = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".m4v": "video/x-m4v",
}
VIDEO_ROLES = ("video", "short", "mp4")
MAX_TITLE = 100
MAX_DESCRIPTION = 4900
"""YouTube's limit is 5,000 bytes; room is kept for the ``amgr:`` line."""
MAX_TAGS_CHARS = 480
RECONCILE_PAGES = 4
"""Pages of 50 recent uploads searched for an unconfirmed video."""


def video_file(post: Post) -> Path:
    """The item's video: a file of role ``video``, else its first video file."""
    for role in VIDEO_ROLES:
        path = post.files.get(role)
        if path is not None and path.suffix.lower() in VIDEO_TYPES:
            return path
    for path in post.files.values():
        if path.suffix.lower() in VIDEO_TYPES:
            return path
    raise TaskError(
        f"item {post.item_id} has no video file (video.mp4) for YouTube: render the short "
        "first, or send this item elsewhere"
    )


def _clean(text: str) -> str:
    """YouTube refuses ``<`` and ``>`` in titles and descriptions."""
    return text.replace("<", "‹").replace(">", "›")


class YouTubePublisher(GooglePublisher):
    """Uploads videos to the channel that ``amgr auth NAME`` connected."""

    kind = "youtube"
    config: YouTubePlatform
    scopes = SCOPES
    reconciles_by_resending = False

    def marker(self, post: Post) -> str:
        """The line every description ends with: how an unconfirmed upload is found."""
        return f"amgr:{stable_id(post.item_id, self.name)[:16]}"

    def metadata(self, post: Post) -> dict[str, Any]:
        """The video resource's ``snippet`` and ``status``."""
        cfg = self.config
        title = _clean(post.title).strip()[:MAX_TITLE] or post.item_id
        description = _clean(post.excerpt or post.markdown).strip()
        if post.kind == "shorts" and "#shorts" not in f"{title} {description}".lower():
            description = f"{description}\n\n#Shorts".strip()
        description = description[:MAX_DESCRIPTION].rstrip()
        description = f"{description}\n\n{self.marker(post)}".lstrip()
        tags: list[str] = []
        for tag in dict.fromkeys([*cfg.tags, *post.tags]):
            if sum(len(t) + 1 for t in tags) + len(tag) > MAX_TAGS_CHARS:
                break
            tags.append(tag)
        status: dict[str, Any] = {
            "privacyStatus": cfg.privacy_status,
            "selfDeclaredMadeForKids": cfg.made_for_kids,
        }
        live_at = self.live_at(post)
        if live_at is not None:
            status["privacyStatus"] = "private"
            status["publishAt"] = live_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "snippet": {
                "title": title,
                "description": description,
                "tags": tags,
                "categoryId": cfg.category_id,
            },
            "status": status,
        }

    def live_at(self, post: Post) -> datetime | None:
        """When YouTube should make the video public (``publish_at`` and a later slot)."""
        if (
            self.config.publish_at
            and post.when
            and post.when > self.env.now() + timedelta(minutes=1)
        ):
            return post.when.astimezone(UTC).replace(microsecond=0)
        return None

    # -- sending ---------------------------------------------------------------------------

    def send(self, post: Post, parts: Parts) -> Receipt:
        video = parts.done.get("video")
        if video is None:
            resource = self._upload(post, parts)
            parts.record("video", str(resource["id"]), self.watch_url(post, str(resource["id"])))
            video = parts.done["video"]
        return self._finish(post, parts, str(video["remote_id"]))

    def _upload(self, post: Post, parts: Parts) -> dict[str, Any]:
        upload = self._uploader(post, self.config.chunk_kib * 1024)
        return upload.send(parts, "session", lambda: self._start(upload, post))

    def _uploader(self, post: Post, chunk: int) -> ResumableUpload:
        path = video_file(post)
        return ResumableUpload(self.http, path, VIDEO_TYPES[path.suffix.lower()], chunk)

    def _start(self, upload: ResumableUpload, post: Post) -> str:
        url = f"{self.api}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status"
        return upload.start(url, self.metadata(post), what="open the upload session")

    def _finish(self, post: Post, parts: Parts, video_id: str) -> Receipt:
        notes: list[str] = []
        if post.image is not None and "thumbnail" not in parts.done:
            problem = self.set_thumbnail(post.image, post.image_type(), video_id)
            if problem is None:
                parts.record("thumbnail", video_id)
            else:  # the video is up: say why it has no thumbnail, do not fail the item
                notes.append(f"it is up without its thumbnail: {problem}")
        size = video_size(video_file(post)) if post.kind == "shorts" else None
        if size is not None and size[0] > size[1]:
            notes.append(
                f"it is horizontal ({size[0]}×{size[1]}), so YouTube shows it as a regular "
                "video, not a Short: render shorts vertical, e.g. 1080×1920"
            )
        extra = {"note": f"{self.name}: {post.item_id}: " + "; ".join(notes)} if notes else {}
        live_at = self.live_at(post)
        privacy = self.config.privacy_status
        status = "scheduled" if live_at else ("published" if privacy == "public" else privacy)
        return Receipt(
            remote_id=video_id,
            url=self.watch_url(post, video_id),
            status=status,
            live_at=live_at,
            extra=extra,
        )

    def set_thumbnail(self, image: Path, kind: str | None, video_id: str) -> str | None:
        """``thumbnails.set``; None when set, else why YouTube would not (a channel must be
        verified for custom thumbnails: a 403 that is not about the token)."""
        what = "set the thumbnail"
        try:
            response = self.http.request(
                "POST",
                f"{self.api}/upload/youtube/v3/thumbnails/set",
                what=what,
                repeatable=True,
                accept=(403,),
                params={"videoId": video_id},
                content=image.read_bytes(),
                headers={"Content-Type": kind or "application/octet-stream"},
            )
        except (AuthError, TransientError):
            raise
        except TaskError as exc:
            return str(exc)
        if response.status_code == 403:
            if google_reason(response) in LATER_REASONS:
                raise_for_forbidden(self.name, response, what, self.auth_hint)
            return f"{platform_message(response)} (verify the channel to use custom thumbnails)"
        return None

    def watch_url(self, post: Post, video_id: str) -> str:
        if post.kind == "shorts":
            return f"https://www.youtube.com/shorts/{video_id}"
        return f"https://www.youtube.com/watch?v={video_id}"

    # -- after an unsure send --------------------------------------------------------------

    def reconcile(self, post: Post, pair: Pair, parts: Parts) -> Receipt | None:
        """The session's answer if it finished, else a channel upload with our marker."""
        video = parts.done.get("video")
        if video is not None:
            return self._finish(post, parts, str(video["remote_id"]))
        uri, progress = self._uploader(post, 1).session_of(parts, "session")
        if progress.resource is not None:
            video_id = str(progress.resource["id"])
            parts.record("video", video_id, self.watch_url(post, video_id))
            return self._finish(post, parts, video_id)
        if uri is not None:
            return None  # incomplete: no video exists; the send resumes the session
        found = self.find_upload(post)
        if found is None:
            return None
        parts.record("video", found, self.watch_url(post, found))
        return self._finish(post, parts, found)

    def uploads_playlist(self) -> tuple[str, str]:
        """The connected channel's title and uploads playlist id."""
        data = self.http.request(
            "GET",
            f"{self.api}/youtube/v3/channels",
            what="read the channel",
            repeatable=True,
            params={"part": "snippet,contentDetails", "mine": "true"},
        ).json()
        items = data.get("items") if isinstance(data, dict) else None
        if not items:
            raise TaskError(
                f"{self.name}: the connected Google account has no YouTube channel: create "
                f"one, or run `amgr auth {self.name}` with the account that has it"
            )
        channel = items[0]
        title = str((channel.get("snippet") or {}).get("title") or channel.get("id"))
        playlists = (channel.get("contentDetails") or {}).get("relatedPlaylists") or {}
        return title, str(playlists.get("uploads") or "")

    def find_upload(self, post: Post) -> str | None:
        """The id of a recent upload whose description carries ``post``'s marker."""
        _, playlist = self.uploads_playlist()
        if not playlist:
            return None
        marker = self.marker(post)
        page: str | None = None
        for _ in range(RECONCILE_PAGES):
            params = {"part": "snippet", "playlistId": playlist, "maxResults": "50"}
            if page:
                params["pageToken"] = page
            data = self.http.request(
                "GET",
                f"{self.api}/youtube/v3/playlistItems",
                what="look for an earlier, unconfirmed upload",
                repeatable=True,
                params=params,
            ).json()
            for entry in data.get("items") or []:
                snippet = entry.get("snippet") or {}
                if marker in str(snippet.get("description") or ""):
                    video_id = (snippet.get("resourceId") or {}).get("videoId")
                    if video_id:
                        return str(video_id)
            page = data.get("nextPageToken")
            if not page:
                break
        return None

    def check(self) -> str:
        title, _ = self.uploads_playlist()
        privacy = (
            "publishAt at the window's slots"
            if self.config.publish_at
            else (self.config.privacy_status)
        )
        return f"authenticated as channel {title!r}; uploads go up {privacy}"
