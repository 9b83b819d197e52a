"""Google's resumable upload protocol (YouTube Data API v3, Drive API v3).

1. ``POST ...?uploadType=resumable`` with the JSON metadata, ``X-Upload-Content-Length``
   and ``X-Upload-Content-Type``: the answer's ``Location`` is the *session URI*;
2. ``PUT`` the bytes in chunks (multiples of 256 KiB) with ``Content-Range: bytes
   START-END/TOTAL``; every chunk but the last is answered ``308 Resume Incomplete``
   with ``Range: bytes=0-LAST`` (what the server really has);
3. the last chunk is answered 200/201 with the created resource.

After a dropped connection or a 5xx, ``PUT`` with ``Content-Range: bytes */TOTAL`` and
no body asks how much arrived (308 + ``Range``), or answers the finished resource when
everything did; the upload continues from there. The session URI is kept in the
ledger, so a run killed mid-upload resumes it, and one killed after the last chunk
finds the finished video by asking the same question. A session lives about a week;
``404``/``410`` mean it is gone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import AuthError, PublishUncertain, TaskError, TransientError
from .http import PlatformHttp, platform_message, retry_after

if TYPE_CHECKING:
    from .base import Parts

_RANGE = re.compile(r"bytes=(\d+)-(\d+)")
GONE = (404, 410)


@dataclass(frozen=True)
class Progress:
    """How far a session got: ``received`` bytes, or the finished ``resource``."""

    received: int = 0
    resource: dict[str, Any] | None = None
    gone: bool = False


class ResumableUpload:
    """One file sent through a resumable session.

    :param http: the platform's client (auth and retry rules).
    :param chunk: bytes per ``PUT`` (a multiple of 256 KiB).
    """

    def __init__(self, http: PlatformHttp, path: Path, content_type: str, chunk: int) -> None:
        self.http = http
        self.path = path
        self.content_type = content_type
        self.chunk = chunk
        self.total = path.stat().st_size

    def start(self, url: str, metadata: dict[str, Any], *, what: str) -> str:
        """Open a session for the file; its URI. Nothing is created until the last byte."""
        response = self.http.request(
            "POST",
            url,
            what=what,
            repeatable=True,  # an unused session is harmless
            accept=(403,),
            json=metadata,
            headers={
                "X-Upload-Content-Length": str(self.total),
                "X-Upload-Content-Type": self.content_type,
            },
        )
        if response.status_code == 403:
            from .google import raise_for_forbidden

            raise_for_forbidden(self.http.platform, response, what, self.http.auth_hint)
        location = response.headers.get("location")
        if not location:
            raise TaskError(f"{self.http.platform}: the server opened no upload session ({what})")
        return str(location)

    def progress(self, uri: str) -> Progress:
        """Ask the session how much it has (the finished resource when complete)."""
        response = self.http.request(
            "PUT",
            uri,
            what="ask how much of the upload arrived",
            repeatable=True,
            accept=(308, *GONE),
            headers={"Content-Range": f"bytes */{self.total}", "Content-Length": "0"},
        )
        return self._progress(response)

    def _progress(self, response: httpx.Response) -> Progress:
        if response.status_code in GONE:
            return Progress(gone=True)
        if response.status_code == 308:
            match = _RANGE.search(response.headers.get("range", ""))
            return Progress(received=int(match.group(2)) + 1 if match else 0)
        data: Any = response.json()
        return Progress(received=self.total, resource=data if isinstance(data, dict) else {})

    def session_of(self, parts: Parts, part: str) -> tuple[str | None, Progress]:
        """The session recorded as ``part`` and how far it got (None: none, or gone)."""
        session = parts.done.get(part)
        uri = session.get("remote_id") if session else None
        if not uri:
            return None, Progress(gone=True)
        progress = self.progress(str(uri))
        return (None if progress.gone else str(uri)), progress

    def send(self, parts: Parts, part: str, start: Callable[[], str]) -> dict[str, Any]:
        """Upload the file through the session recorded as ``part``, resumed where it
        stopped, or through a new one that ``start`` opens (recorded before the first
        byte leaves); the created resource."""
        uri, progress = self.session_of(parts, part)
        if progress.resource is not None:
            return progress.resource
        if uri is None:
            uri, progress = start(), Progress()
            parts.record(part, uri)
        return self.upload(uri, progress.received)

    def upload(self, uri: str, received: int = 0) -> dict[str, Any]:
        """Send the bytes from ``received`` on; the created resource.

        :raises PublishUncertain: the last chunk may have arrived but no answer came.
        :raises TransientError: the session is gone (start a new one) or the server
            kept failing before the last chunk.
        """
        policy = self.http.policy
        failures = 0
        offset = received
        with self.path.open("rb") as file:
            while True:
                file.seek(offset)
                data = file.read(self.chunk)
                end = offset + len(data) - 1
                header = f"bytes {offset}-{end}/{self.total}" if data else f"bytes */{self.total}"
                last = end + 1 >= self.total
                problem: str
                wait: float | None = None
                try:
                    response = self.http.client.put(
                        uri, content=data, headers={"Content-Range": header}
                    )
                except httpx.TransportError as exc:
                    problem = f"the connection dropped during bytes {offset}-{end} ({exc})"
                else:
                    status = response.status_code
                    if status in (200, 201) or status == 308 or status in GONE:
                        found = self._progress(response)
                        if found.gone:
                            raise TransientError(
                                f"{self.http.platform}: the upload session expired; the next "
                                "run starts a new one"
                            )
                        if found.resource is not None:
                            return found.resource
                        if found.received > offset:
                            failures, offset = 0, found.received
                            continue
                        offset = found.received
                        problem = f"the server kept no bytes of {offset}-{end}"
                    else:
                        self._refused(response)
                        wait = retry_after(response)
                        problem = f"server answered {status} ({platform_message(response)})"
                failures += 1
                if failures >= policy.attempts:
                    text = f"{self.http.platform}: upload failed: {problem}"
                    if last:
                        raise PublishUncertain(
                            text + "; it may have completed, amgr asks before any resend"
                        )
                    raise TransientError(text + "; the next run resumes the upload")
                self.http.sleep(policy.backoff(failures, wait))
                found = self.progress(uri)
                if found.resource is not None:
                    return found.resource
                if found.gone:
                    raise TransientError(
                        f"{self.http.platform}: the upload session expired; the next run "
                        "starts a new one"
                    )
                offset = found.received

    def _refused(self, response: httpx.Response) -> None:
        """Raise for answers that no resume can fix (401/403, other 4xx but 429)."""
        status = response.status_code
        if status in (401, 403):
            raise AuthError(
                f"{self.http.platform}: credentials refused during the upload ({status}: "
                f"{platform_message(response)}): check {self.http.auth_hint}"
            )
        if 400 <= status < 500 and status != 429:
            raise TaskError(
                f"{self.http.platform} refused the upload ({status}): {platform_message(response)}"
            )
