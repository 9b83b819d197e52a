"""Outboxes: ready-to-post files for a platform amgr has no connection to.

``.mp/outbox/NAME/<item-id>/`` gets a copy of the item's files, ``post.txt`` (the text to
paste) and, written last, ``ready.json``. The item's status on that platform is
``ready (outbox)``: amgr never claims it was posted, a person posts it.
"""

from __future__ import annotations

from pathlib import Path

from ..config.platforms_social import SOCIAL_REAL_KINDS
from ..errors import TaskError
from ..fsutil import atomic_write_bytes, atomic_write_json, atomic_write_text
from .base import Parts, Publisher, Receipt
from .post import Post

READY_STATUS = "ready (outbox)"
REAL_KINDS: dict[str, str] = {
    "youtube": '{"kind": "youtube", "google_credentials_path": "client_secret.json"}, '
    "then run `amgr auth youtube`",
    "gdrive": '{"kind": "gdrive", "google_credentials_path": "client_secret.json", '
    '"folder_id": "..."}, then run `amgr auth gdrive`',
    "dropbox": '{"kind": "dropbox", "token_env": "DROPBOX_TOKEN"} and export DROPBOX_TOKEN',
}
"""What makes a seed-style outbox (``"platforms": ["youtube"]``) post for real."""
REAL_KINDS.update(SOCIAL_REAL_KINDS)


class OutboxPublisher(Publisher):
    """Prepares posts for a person to publish by hand."""

    kind = "outbox"

    def folder_for(self, item_id: str) -> Path:
        return self.env.home.outbox_dir / self.name / item_id

    def post_text(self, post: Post) -> str:
        """What to paste: the thread's posts apart by ``---``, a short's description and
        hashtags, else the short text; an offline item's first line says it is an offline
        draft."""
        head = post.label() + "\n\n" if post.offline else ""
        description = post.files.get("description")
        if description is not None and description.is_file():  # a short: title first
            return head + f"{post.title}\n\n" + description.read_text(encoding="utf-8")
        if post.thread:
            return head + "\n\n---\n\n".join(post.thread) + "\n"
        return head + post.short_text() + "\n"

    def send(self, post: Post, parts: Parts) -> Receipt:
        folder = self.folder_for(post.item_id)
        try:
            for path in post.files.values():
                atomic_write_bytes(folder / path.name, path.read_bytes())
            atomic_write_text(folder / "post.txt", self.post_text(post))
            atomic_write_json(
                folder / "ready.json",
                {
                    "status": "ready",
                    "platform": self.name,
                    "item": post.item_id,
                    "kind": post.kind,
                    "title": post.title,
                    "generated_by": post.generated_by,
                    "offline": post.offline,
                    "planned_at": post.when,
                    "prepared_at": self.env.now(),
                    "files": sorted({p.name for p in post.files.values()} | {"post.txt"}),
                },
            )
        except OSError as exc:
            raise TaskError(f"{self.name}: cannot write the outbox {folder}: {exc}") from None
        shown = folder.relative_to(self.env.home.root)
        return Receipt(remote_id=str(shown), url=None, status=READY_STATUS)

    def check(self) -> str:
        found = f"outbox: ready-to-post files go to .mp/outbox/{self.name}/ (nothing is posted)"
        real = REAL_KINDS.get(self.name.lower())
        if real is not None:
            found += f"; to post for real, set platforms.{self.name} to {real}"
        return found
