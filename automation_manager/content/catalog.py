"""What monetization needs to know about stored ebooks and bundles."""

from __future__ import annotations

from dataclasses import dataclass

from ..enums import ContentStatus
from .store import ContentItem, ContentStore

INACTIVE = (ContentStatus.REJECTED, ContentStatus.FAILED)


def items_of(store: ContentStore, kind: str) -> list[ContentItem]:
    """Items of ``kind`` that are not rejected or failed, oldest first."""
    return [i for i in store.items() if i.kind == kind and i.status not in INACTIVE]


def ebooks(store: ContentStore) -> list[ContentItem]:
    """Every usable ebook, oldest first."""
    return items_of(store, "ebook")


def price_of(item: ContentItem) -> float:
    """The ebook's price: ``meta["price_usd"]`` when set, else a suggestion by length."""
    price = item.meta.get("price_usd")
    if isinstance(price, int | float) and price > 0:
        return float(price)
    words = item.meta.get("words")
    words = words if isinstance(words, int) else 0
    return 4.99 if words < 8000 else 9.99 if words < 20000 else 14.99


@dataclass(frozen=True)
class EbookFacts:
    """An ebook as prompts describe it."""

    id: str
    title: str
    subtitle: str
    description: str
    topic: str
    audience: str
    author: str
    chapters: tuple[str, ...]
    price_usd: float

    def describe(self) -> str:
        """Prompt lines for this ebook."""
        lines = [
            f'Ebook: "{self.title}"' + (f" — {self.subtitle}" if self.subtitle else ""),
            f"Author: {self.author}",
            f"Topic: {self.topic}",
            f"Audience: {self.audience}",
            f"Price: ${self.price_usd:.2f}",
        ]
        if self.description:
            lines.append(f"Description: {self.description}")
        if self.chapters:
            lines.append("Chapters: " + "; ".join(self.chapters))
        return "\n".join(lines)


def facts(item: ContentItem) -> EbookFacts:
    """The facts of an ebook item (meta written by content_creation ebook)."""
    meta = item.meta

    def text(key: str, default: str = "") -> str:
        value = meta.get(key)
        return value if isinstance(value, str) and value.strip() else default

    chapters = meta.get("chapters")
    return EbookFacts(
        id=item.id,
        title=item.title,
        subtitle=text("subtitle"),
        description=text("description"),
        topic=item.topic or item.title,
        audience=text("audience", "readers interested in the topic"),
        author=text("author", "the author"),
        chapters=tuple(str(c) for c in chapters) if isinstance(chapters, list) else (),
        price_usd=price_of(item),
    )
