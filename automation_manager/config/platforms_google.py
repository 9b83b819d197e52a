"""Settings of the OAuth and file platforms: ``youtube``, ``gdrive`` and ``dropbox``.

Each takes ``api_base`` (the public endpoint by default) so tests and compatible
servers work. Google platforms read the OAuth client file named by
``google_credentials_path`` (the "Desktop app" client JSON from Google Cloud Console;
a relative path is under the home folder) and the token that ``amgr auth NAME`` keeps
under ``.mp/auth/``. Dropbox reads its access token from ``token_env``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import annotated_types as at

from .base import After, Pattern
from .limits import MAX_HTTP_TIMEOUT_S as _HTTP
from .limits import MAX_PATH, Name, Url, line
from .platforms import _PlatformBase, check_env_name

CHUNK_UNIT_KIB = 256
"""Google resumable uploads take chunks in multiples of 256 KiB."""
MAX_CHUNK_MIB = 150
"""Dropbox refuses a single upload (or one session append) larger than 150 MiB."""

Path_ = Annotated[str, line(MAX_PATH)]


def _chunk_kib(value: int) -> int:
    if value % CHUNK_UNIT_KIB:
        raise ValueError(
            f"{value} is not a multiple of {CHUNK_UNIT_KIB} (Google takes chunks in "
            f"256 KiB steps): use e.g. {max(CHUNK_UNIT_KIB, value // CHUNK_UNIT_KIB * 256)}"
        )
    return value


@dataclass(kw_only=True)
class _GooglePlatform(_PlatformBase):
    api_base: Url = "https://www.googleapis.com"
    google_credentials_path: Path_ | None = None
    """The OAuth client JSON ("installed" app) from Google Cloud Console."""
    chunk_kib: Annotated[
        int, at.Ge(CHUNK_UNIT_KIB), at.Le(MAX_CHUNK_MIB * 1024), After(_chunk_kib)
    ] = 8192
    timeout_s: Annotated[float, at.Gt(0), at.Le(_HTTP)] = 60.0


@dataclass(kw_only=True)
class YouTubePlatform(_GooglePlatform):
    """Videos (shorts) through the YouTube Data API v3 resumable upload."""

    kind: Literal["youtube"]
    privacy_status: Literal["private", "unlisted", "public"] = "private"
    category_id: Annotated[str, Pattern(r"^\d{1,3}$")] = "22"
    """22 is "People & Blogs"; see videoCategories.list for the others."""
    tags: list[Name] = field(default_factory=list)
    publish_at: bool = False
    """Upload as soon as an item is approved, private, with ``publishAt`` set to the
    window's slot: YouTube makes it public then."""
    made_for_kids: bool = False


@dataclass(kw_only=True)
class GDrivePlatform(_GooglePlatform):
    """Files copied to a Google Drive folder, shared by link."""

    kind: Literal["gdrive"]
    folder_id: Annotated[str, Pattern(r"^[A-Za-z0-9_-]{1,200}$")] | None = None
    """The folder to copy into (the id at the end of its URL); None: My Drive's root."""
    share: Literal["anyone", "none"] = "anyone"
    """``anyone``: anyone with the link may view; the link is the item's URL."""


@dataclass(kw_only=True)
class DropboxPlatform(_PlatformBase):
    """Files copied to a Dropbox folder, shared by link."""

    kind: Literal["dropbox"]
    api_base: Url = "https://api.dropboxapi.com"
    content_base: Url = "https://content.dropboxapi.com"
    token_env: Annotated[str, After(check_env_name)] = "DROPBOX_TOKEN"
    """An access token (App Console → Generate); short-lived ones expire in 4 hours."""
    refresh_token_env: Annotated[str | None, After(check_env_name)] = None
    """For unattended use: a refresh token (offline access) with ``app_key`` and
    ``app_secret_env``; access tokens are then fetched from it as needed."""
    app_key: Annotated[str, Pattern(r"^[A-Za-z0-9]{1,64}$")] | None = None
    app_secret_env: Annotated[str | None, After(check_env_name)] = None
    folder: Annotated[str, Pattern(r"^/[^\x00-\x1f\\]{0,400}$")] = "/amgr"
    session_threshold_mib: Annotated[int, at.Ge(1), at.Le(MAX_CHUNK_MIB)] = MAX_CHUNK_MIB
    """Files larger than this go through an upload session, in chunks of ``chunk_mib``."""
    chunk_mib: Annotated[int, at.Ge(1), at.Le(MAX_CHUNK_MIB)] = 8
    timeout_s: Annotated[float, at.Gt(0), at.Le(_HTTP)] = 60.0

    def __post_init__(self) -> None:
        self._token: str | None = None
        """A token handed to :class:`~automation_manager.AutomationManager`
        (``dropbox_token``); not a field: never read from or written to a file."""
        if self.refresh_token_env and not (self.app_key and self.app_secret_env):
            raise ValueError(
                "refresh_token_env needs app_key and app_secret_env too (App Console → your "
                "app → Settings: App key, App secret)"
            )

    @property
    def given_token(self) -> str | None:
        """The token given to the library (``AutomationManager(dropbox_token=...)``)."""
        return self._token

    def give_token(self, token: str) -> None:
        self._token = token


def seed_credentials(
    platforms: Mapping[str, Any],
    *,
    google_credentials_path: str | None,
    dropbox_token: str | None,
) -> None:
    """Apply the seed's constructor credentials to the platforms that lack their own:
    the client file to ``youtube``/``gdrive``, the token to ``dropbox`` (registered as a
    secret, so it is masked like one read from the environment)."""
    for config in platforms.values():
        if isinstance(config, _GooglePlatform) and google_credentials_path:
            if config.google_credentials_path is None:
                config.google_credentials_path = google_credentials_path
        elif isinstance(config, DropboxPlatform) and dropbox_token:
            from ..secrets import REGISTRY

            REGISTRY.register(dropbox_token)
            config.give_token(dropbox_token.strip())
