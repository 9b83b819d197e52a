"""Ids given by their unique prefix, like git's short hashes, and the short form shown.

Every id amgr prints (a record, a content item, a run, a task) is accepted by its
commands as any prefix that names one id only. This module is the one place that
decides what a prefix names and what a table shows, so ``content show``, ``runs
pause`` and ``history show`` agree on both.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import UsageError

SHOWN_CANDIDATES = 10
"""At most this many candidates are listed when a prefix names several ids."""

MIN_SHORT = 8
"""A short form has at least this many characters (fewer would read as a word)."""


def resolve_prefix(kind: str, given: str, candidates: Iterable[str], *, hint: str = "") -> str:
    """The one id of ``candidates`` that ``given`` names: itself, or the only id it begins.

    An exact id wins over longer ids it is a prefix of, so every full id stays usable.

    :param kind: what the id is (``content item``, ``run``, ``record``), for the message.
    :param hint: the command that lists the ids (``amgr runs list``), for the message.
    :raises UsageError: (exit 2) when no id or several ids begin with ``given``; the
        message lists up to :data:`SHOWN_CANDIDATES` of them.
    """
    see = f"; see `{hint}`" if hint else ""
    if not given:
        raise UsageError(f"{kind} id: empty — give an id or a unique prefix of one{see}")
    matches: set[str] = set()
    for cand in candidates:
        if cand == given:
            return cand
        if cand.startswith(given):
            matches.add(cand)
    if len(matches) == 1:
        return matches.pop()
    if not matches:
        raise UsageError(f"{kind} {given!r}: no such {kind} — use an id or a unique prefix{see}")
    shown = sorted(matches)[:SHOWN_CANDIDATES]
    more = f" (and {len(matches) - len(shown)} more)" if len(matches) > len(shown) else ""
    raise UsageError(
        f"{kind} {given!r}: prefix of {len(matches)} {kind}s — give more characters: "
        + ", ".join(shown)
        + more
    )


def short_forms(ids: Iterable[str], *, min_len: int = MIN_SHORT) -> dict[str, str]:
    """Each id → its shortest prefix (at least ``min_len`` long) that no other id begins.

    Ids are sorted first, so each is compared with its two neighbours only: the longest
    prefix an id shares with any other id is the one it shares with a neighbour.
    """
    ordered = sorted(set(ids))
    out: dict[str, str] = {}
    for i, ident in enumerate(ordered):
        shared = 0
        for j in (i - 1, i + 1):
            if 0 <= j < len(ordered):
                shared = max(shared, _common(ident, ordered[j]))
        out[ident] = ident[: max(min_len, shared + 1)]
    return out


def _common(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b``."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
