"""Phrase pools for offline shorts. ``{topic}`` is the topic as a noun phrase, used only
after a preposition (:mod:`..phrasing`); ``{count}`` in hooks is filled in too.

A line is (on-screen text, voiceover, visual).
"""

from __future__ import annotations

Line = tuple[str, str, str]

HOOKS: dict[str, list[str]] = {
    "story": [
        "I almost gave up on {topic}. Here's what changed.",
        "Nobody warned me about this part of {topic}.",
    ],
    "tips": [
        "{count} tips on {topic} I wish I'd known sooner.",
        "Steal these {count} habits for {topic}.",
    ],
    "howto": [
        "How to get started with {topic}, in under a minute.",
        "The simplest way into {topic}, starting today.",
    ],
    "myths": [
        "Stop believing this about {topic}.",
        "This advice about {topic} is holding you back.",
    ],
}

TIPS: list[Line] = [
    (
        "Start tiny",
        "Start smaller than feels useful: ten focused minutes on {topic} beat an "
        "hour you keep postponing.",
        "Close-up of a timer set to 10:00",
    ),
    (
        "Remove one friction",
        "Remove one point of friction. Set up what you need for {topic} the night before.",
        "Hands laying out tools on a desk",
    ),
    (
        "Protect the time",
        "Give {topic} a slot in your calendar, like a meeting. Protected time gets "
        "done; spare time gets eaten.",
        "Screen recording of a calendar block",
    ),
    (
        "Track one number",
        "Track one number for {topic} and check it weekly, not daily, so noise doesn't fool you.",
        "Notebook page with a simple tally",
    ),
    (
        "Copy, then adapt",
        "Copy a routine that already works for someone else, then change one thing at a time.",
        "Split screen: original plan vs. your edits",
    ),
    (
        "Write it down",
        "Right after a session, write one line on what worked. Memory quietly "
        "edits the details out.",
        "Pen writing a one-line journal entry",
    ),
    (
        "Batch the boring",
        "Batch the boring parts of {topic} so your best energy goes to the parts that matter.",
        "Fast-forward of small chores done in a row",
    ),
]


BODIES: dict[str, list[Line]] = {
    "story": [
        (
            "The old me",
            "For months I put off {topic} until I had more time.",
            "Talking head, slightly messy room",
        ),
        (
            "The wake-up call",
            "Then one bad week made it obvious: waiting was the problem, not time.",
            "Calendar with crossed-out days",
        ),
        (
            "15 minutes. Daily.",
            "So I gave fifteen minutes every morning to {topic}, before anything else.",
            "Morning desk, coffee, timer",
        ),
        (
            "3 weeks later",
            "Three weeks later it stopped feeling like effort and started feeling normal.",
            "Time-lapse of a routine",
        ),
    ],
    "howto": [
        (
            "Step 1: define done",
            "Step one: decide what a good result with {topic} looks like, in one sentence.",
            "Writing one sentence on a sticky note",
        ),
        (
            "Step 2: smallest version",
            "Step two: do the smallest version of it today, even if it feels too easy.",
            "Hands starting the task, timer running",
        ),
        (
            "Step 3: review weekly",
            "Step three: once a week, keep what worked and drop one thing that didn't.",
            "Checklist with one item crossed out",
        ),
        (
            "Avoid this mistake",
            "The usual mistake: changing everything at once. Change one thing, then look again.",
            "Red X over a crowded to-do list",
        ),
    ],
    "myths": [
        (
            "Myth: you need motivation",
            "The myth: you need more motivation to get anywhere with {topic}.",
            "Text on screen, dramatic zoom",
        ),
        (
            "Action comes first",
            "Motivation shows up after you start, not before. Waiting for it is how weeks "
            "disappear.",
            "Person starting without ceremony",
        ),
        (
            "Time + tiny step + streak",
            "What works instead: a fixed time, a tiny first step, and a visible streak for "
            "{topic}.",
            "Habit tracker filling in",
        ),
    ],
}
