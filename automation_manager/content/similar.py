"""Near-duplicate detection: is a new item the same post as an earlier one, reworded?

Two texts are compared by **resemblance**: the share of their 4-word shingles they have
in common (Jaccard index of the sets of every run of four consecutive words, lower-cased,
punctuation dropped). Titles are compared with ``rapidfuzz``'s token-sort ratio, which
ignores word order. The score is ``0.25 × title + 0.75 × body``, from 0 (nothing shared)
to 1 (the same text). An item scoring :data:`THRESHOLD` (0.5) or more against an earlier
one is a near-duplicate: a reworded copy, not a new post. Unrelated posts on one topic
score below 0.2; a copy with a new date or a swapped word scores above 0.9.

Texts too short to judge (under about 23 words) are never near-duplicates. Offline
items are compared only with offline items on the same topic (:func:`comparable`). Front
matter is left out (dates and ids always differ), and only the item's main text
(its ``markdown`` file) is compared, so an exact-hash trick such as a changed timestamp
does not make a copy look new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .store import ContentItem, ContentStore

THRESHOLD = 0.5
"""A score at or above this is a near-duplicate (see the module text)."""
SHINGLE = 4
MIN_SHINGLES = 20
"""Texts shorter than this (about 23 words) are never called near-duplicates."""
RECENT = 50
"""How many of a task's latest items of a kind a new one is compared with."""

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _body(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            text = text[end + 5 :]
    return text


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    """Every run of :data:`SHINGLE` consecutive words of ``text`` (front matter dropped)."""
    words = _WORD.findall(_body(text).lower())
    if len(words) < SHINGLE:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def resemblance(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    """The Jaccard index of two shingle sets (0 when both are empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def title_ratio(a: str, b: str) -> float:
    """How alike two titles are, 0-1, ignoring word order and case."""
    from rapidfuzz import fuzz

    return float(fuzz.token_sort_ratio(a.lower(), b.lower())) / 100.0


@dataclass(frozen=True)
class Print:
    """What is compared of one item: its title and the shingles of its main text."""

    title: str
    shingles: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, title: str, text: str) -> Print:
        return cls(title, shingles(text))

    def score(self, other: Print) -> float:
        """0.25 × title likeness + 0.75 × body resemblance; 0 when either text is too
        short to judge (fewer than :data:`MIN_SHINGLES` shingles)."""
        if min(len(self.shingles), len(other.shingles)) < MIN_SHINGLES:
            return 0.0
        return 0.25 * title_ratio(self.title, other.title) + 0.75 * resemblance(
            self.shingles, other.shingles
        )


def print_of(store: ContentStore, item: ContentItem) -> Print:
    """The item's :class:`Print`, from its ``markdown`` file (title only without one)."""
    path = store.path_of(item, "markdown")
    try:
        text = path.read_text(encoding="utf-8") if path is not None else ""
    except OSError:
        text = ""
    return Print.of(item.title, text)


@dataclass(frozen=True)
class Match:
    """The earlier item a new one is closest to, and how close."""

    item: ContentItem
    score: float

    def describe(self) -> str:
        return f'{self.item.id} ("{self.item.title}", similarity {self.score:.2f})'


def closest(new: Print, store: ContentStore, earlier: Iterable[ContentItem]) -> Match | None:
    """The earlier item most like ``new``, or ``None`` when there is none."""
    best: Match | None = None
    for item in earlier:
        score = new.score(print_of(store, item))
        if best is None or score > best.score:
            best = Match(item, score)
    return best


def near_duplicate(new: Print, store: ContentStore, earlier: Iterable[ContentItem]) -> Match | None:
    """The closest earlier item if it scores :data:`THRESHOLD` or more, else ``None``."""
    match = closest(new, store, earlier)
    return match if match is not None and match.score >= THRESHOLD else None


def comparable(topic: str | None, offline: bool, other: ContentItem) -> bool:
    """Whether a new item on ``topic`` is compared with ``other``.

    The offline templates word every topic alike by design, so two offline items count as
    repeats only on the same topic; anything a model made is compared with everything.
    """
    if not (offline and other.provider == "offline"):
        return True
    return " ".join((topic or "").lower().split()) == " ".join((other.topic or "").lower().split())


def earlier_items(store: ContentStore, task_id: str | None, kind: str) -> list[ContentItem]:
    """The task's latest :data:`RECENT` items of ``kind``, newest first; a rejected item
    does not count (a person turned it down: making it again is not a repeat)."""
    from ..enums import ContentStatus

    mine = [
        i
        for i in store.items()
        if i.kind == kind and i.task_id == task_id and i.status is not ContentStatus.REJECTED
    ]
    return list(reversed(mine))[:RECENT]


def published_duplicate(store: ContentStore, item: ContentItem, platform: str) -> Match | None:
    """An item of the same kind already published to ``platform`` that ``item`` repeats."""
    offline = item.provider == "offline"
    sent = [
        other
        for other in store.items()
        if other.id != item.id
        and other.kind == item.kind
        and platform in other.published
        and comparable(item.topic, offline, other)
    ]
    if not sent:
        return None
    return near_duplicate(print_of(store, item), store, sent[-200:])
