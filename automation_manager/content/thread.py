"""Platform post limits, and splitting a long text into a numbered thread.

Lengths are counted in Unicode code points, which is what Mastodon, Bluesky (graphemes,
close enough for text) and LinkedIn count; X counts some characters double, so its limit
here leaves the usual margin by counting links in full.
"""

from __future__ import annotations

import re

PLATFORM_LIMITS: dict[str, int] = {
    "twitter": 280,
    "x": 280,
    "mastodon": 500,
    "bluesky": 300,
    "threads": 500,
    "linkedin": 3000,
    "instagram": 2200,
    "facebook": 5000,
}
DEFAULT_LIMIT = 280

_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


def limit_for(platform: str | None, kind: str | None = None) -> int:
    """The post limit for a platform name or its connection kind (default 280)."""
    for name in (platform, kind):
        if name and name.lower() in PLATFORM_LIMITS:
            return PLATFORM_LIMITS[name.lower()]
    return DEFAULT_LIMIT


def _units(text: str) -> list[tuple[str, str]]:
    """(sentence, separator before it): paragraphs keep a blank line, sentences a space."""
    out: list[tuple[str, str]] = []
    for p, para in enumerate(re.split(r"\n\s*\n", text.strip())):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        for li, line in enumerate(lines):
            for si, sentence in enumerate(_SENTENCE.split(line)):
                if not sentence:
                    continue
                sep = " " if si else ("\n" if li else ("\n\n" if p else ""))
                out.append((sentence, sep))
    return out


def _hard_split(word: str, cap: int) -> list[str]:
    return [word[i : i + cap] for i in range(0, len(word), cap)]


def _pieces(sentence: str, cap: int) -> list[str]:
    """A sentence longer than ``cap`` cut at word boundaries (a huge word cut hard)."""
    pieces: list[str] = []
    current = ""
    for word in sentence.split():
        for part in _hard_split(word, cap) if len(word) > cap else [word]:
            if current and len(current) + 1 + len(part) > cap:
                pieces.append(current)
                current = part
            else:
                current = f"{current} {part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def _pack(text: str, cap: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for sentence, sep in _units(text):
        chunks = [sentence] if len(sentence) <= cap else _pieces(sentence, cap)
        for i, chunk in enumerate(chunks):
            join = sep if i == 0 else " "
            if current and len(current) + len(join) + len(chunk) <= cap:
                current += join + chunk
            else:
                if current:
                    parts.append(current)
                current = chunk
    if current:
        parts.append(current)
    return parts


def split_thread(text: str, limit: int) -> list[str]:
    """``text`` as one post, or as parts ending in `` (i/n)``, each at most ``limit`` long.

    Splits at sentence boundaries where it can, then at words, and cuts only a single
    word longer than a whole post.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text]
    digits = 1
    while True:
        widest = 10**digits - 1
        cap = limit - len(f" ({widest}/{widest})")
        if cap < 10:
            raise ValueError(f"a post limit of {limit} is too small to number a thread")
        parts = _pack(text, cap)
        if len(parts) == 1:
            return parts
        if len(parts) <= widest:
            n = len(parts)
            return [f"{part} ({i}/{n})" for i, part in enumerate(parts, 1)]
        digits += 1
