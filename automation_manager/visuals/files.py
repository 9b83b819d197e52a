"""An item's files as ``content show --json`` lists them: path, role, type, size, length.

Pure and light (no Pillow): the sizes were noted in the item's ``meta.visuals`` when the
visuals were made.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..content.store import ContentItem

ROLES = {
    "markdown": "text",
    "srt": "captions",
    "epub": "epub",
    "json": "data",
    "script": "text",
    "description": "text",
}
MEDIA = {
    ".md": "text/markdown",
    ".json": "application/json",
    ".srt": "application/x-subrip",
    ".epub": "application/epub+zip",
    ".txt": "text/plain",
    ".png": "image/png",
    ".mp4": "video/mp4",
    ".wav": "audio/wav",
}


def assets_of(item: ContentItem, folder: Path) -> list[dict[str, Any]]:
    """``[{"path", "role", "media_type", "width", "height", "duration_s"}]`` in file order."""
    noted: dict[str, dict[str, Any]] = item.meta.get("visuals") or {}
    out = []
    for key, name in item.files.items():
        seen = noted.get(key, {})
        out.append(
            {
                "path": str(folder / name),
                "role": seen.get("role") or ROLES.get(key, key),
                "media_type": seen.get("media_type")
                or MEDIA.get(Path(name).suffix.lower(), "application/octet-stream"),
                "width": seen.get("width"),
                "height": seen.get("height"),
                "duration_s": seen.get("duration_s"),
            }
        )
    return out


def path_of_role(item: ContentItem, folder: Path, role: str) -> list[Path]:
    """The files of ``item`` with ``role`` (e.g. every ``inline_image``)."""
    return [Path(a["path"]) for a in assets_of(item, folder) if a["role"] == role]
