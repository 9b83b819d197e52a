"""Angles: the ways one topic can be written about, which a task's runs rotate through.

A task with one ``topic`` writes each run from the next angle (how-to, mistakes,
checklist, ...), so its posts differ in title, structure and body, not only in date.
Each kind maps an angle to its own structures (a shorts ``method``, a blog's sections).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Angle:
    """One way of writing about a topic.

    :param key: the name shown in items and prompts (``how-to``, ``mistakes``, ...).
    :param prompt: what a model is asked to do with the topic.
    :param shorts: the shorts structure that fits (``tips``, ``howto``, ``myths``, ``story``).
    """

    key: str
    prompt: str
    shorts: str


ANGLES: tuple[Angle, ...] = (
    Angle("how-to", "a step-by-step how-to", "howto"),
    Angle("mistakes", "the common mistakes and how to avoid each", "tips"),
    Angle("checklist", "a practical checklist the reader can follow", "tips"),
    Angle("case-study", "a worked example of one person applying it over a few weeks", "story"),
    Angle("myths", "popular myths, why they fail, and what works instead", "myths"),
    Angle("comparison", "a comparison of two common approaches and who each suits", "tips"),
    Angle("beginner", "a first-week guide for complete beginners", "howto"),
    Angle("advanced", "next steps for people past the basics", "tips"),
    Angle("quick-wins", "small changes that pay off within days", "tips"),
    Angle("questions", "answers to the questions people ask most", "myths"),
    Angle("plan", "a concrete 30-day plan", "howto"),
    Angle("habits", "the routines that keep it going for months", "story"),
)
BY_KEY = {a.key: a for a in ANGLES}


def angle_at(position: int) -> Angle:
    """The angle for a task's ``position``-th item (0-based), cycling."""
    return ANGLES[position % len(ANGLES)]


def angle_named(name: str | None) -> Angle | None:
    """The angle called ``name`` (a task's ``angle`` field), if there is one."""
    return BY_KEY.get((name or "").strip().lower())


def angle_index(name: str | None) -> int:
    """The position of the angle called ``name`` in :data:`ANGLES` (0 when unknown)."""
    known = angle_named(name)
    return ANGLES.index(known) if known is not None else 0
