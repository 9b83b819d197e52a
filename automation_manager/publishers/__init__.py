"""Publishing: one module per platform behind :class:`~.base.Publisher`.

- :mod:`.wordpress`, :mod:`.mastodon`, :mod:`.webhook`, :mod:`.filesystem`,
  :mod:`.outbox`, :mod:`.x`, :mod:`.instagram`, :mod:`.bluesky`, :mod:`.telegram`: the
  platforms (:mod:`.social`: what the social ones share);
- :mod:`.ledger` and :mod:`.dispatch`: never twice;
- :mod:`.windows`: when each post may go out (pure);
- :mod:`.session`: one publishing run; :mod:`.queue`: the content queue commands;
- :mod:`.health`: ``amgr check``.

Platform modules (and ``httpx``) are imported only when a platform of that kind is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config.platforms import AnyPlatform
    from .base import PublishEnv, Publisher

_CLASSES = {
    "outbox": "outbox:OutboxPublisher",
    "filesystem": "filesystem:FilesystemPublisher",
    "webhook": "webhook:WebhookPublisher",
    "wordpress": "wordpress:WordPressPublisher",
    "mastodon": "mastodon:MastodonPublisher",
    "youtube": "youtube:YouTubePublisher",
    "gdrive": "gdrive:GDrivePublisher",
    "dropbox": "dropbox:DropboxPublisher",
    "x": "x:XPublisher",
    "instagram": "instagram:InstagramPublisher",
    "bluesky": "bluesky:BlueskyPublisher",
    "telegram": "telegram:TelegramPublisher",
}


def publisher_for(name: str, config: AnyPlatform, env: PublishEnv) -> Publisher:
    """The publisher of platform ``name`` (its module imported on first use)."""
    module_name, cls_name = _CLASSES[config.kind].split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    publisher: Publisher = getattr(module, cls_name)(name, config, env)
    return publisher


__all__ = ["publisher_for"]
