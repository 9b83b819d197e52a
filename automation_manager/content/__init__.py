"""Content the program makes: items on disk with a status, files a person can open."""

from .store import ContentItem, ContentStore, StatusChange

__all__ = ["ContentItem", "ContentStore", "StatusChange"]
