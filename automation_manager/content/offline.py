"""Helpers for the offline provider's templates: deterministic, topic-seeded choices.

The offline provider writes from phrase pools rather than a model. The same inputs give
the same text (so tests and re-runs are stable), and different topics get different
combinations, so a week of daily shorts does not read like one text on repeat.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class Picker:
    """A seeded chooser: ``Picker("blog", topic).one(pool)``."""

    def __init__(self, *seed: object) -> None:
        digest = hashlib.sha256("\x1f".join(map(str, seed)).encode("utf-8")).digest()
        self._rng = random.Random(int.from_bytes(digest[:8], "big"))

    def one(self, pool: Sequence[T]) -> T:
        """One element of ``pool``."""
        return pool[self._rng.randrange(len(pool))]

    def some(self, pool: Sequence[T], k: int) -> list[T]:
        """``k`` distinct elements of ``pool`` (all of them, shuffled, when it is smaller)."""
        return self._rng.sample(list(pool), min(k, len(pool)))

    def shuffled(self, pool: Sequence[T]) -> list[T]:
        """A shuffled copy of ``pool``."""
        out = list(pool)
        self._rng.shuffle(out)
        return out

    def number(self, lo: int, hi: int) -> int:
        """A whole number in ``lo..hi``."""
        return self._rng.randint(lo, hi)


def fill(template: str, **values: str) -> str:
    """``template`` with ``{name}`` placeholders filled; the first letter made upper case."""
    text = template.format(**values)
    return text[:1].upper() + text[1:]


def title_case(text: str) -> str:
    """Headline case that leaves acronyms and short joining words alone."""
    small = {
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "in",
        "of",
        "on",
        "or",
        "the",
        "to",
        "vs",
        "with",
    }
    words = text.split()
    out = []
    for i, word in enumerate(words):
        if word.isupper() and len(word) > 1:
            out.append(word)
        elif i and word.lower() in small and not words[i - 1].endswith((":", "—", "-")):
            out.append(word.lower())
        else:
            out.append(word[:1].upper() + word[1:])
    return " ".join(out)


def hashtag(text: str) -> str:
    """``"deep work"`` → ``"#DeepWork"``; empty when nothing usable is left."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]
    tag = "".join(w[:1].upper() + w[1:] for w in words)
    return f"#{tag}" if tag else ""
