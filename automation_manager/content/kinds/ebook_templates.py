"""Phrase pools for offline ebooks. ``{topic}`` (the topic as a noun phrase, used only after
a preposition: :mod:`..phrasing`), ``{Topic}`` (the same, capitalised, to open a title),
``{audience}`` and ``{chapter}`` are filled in.

Chapters are (title, summary, key points, exercise). The first opens every book and the
last closes it; the ones between are picked per topic.
"""

from __future__ import annotations

Chapter = tuple[str, str, list[str], str]

CHAPTERS: list[Chapter] = [
    (
        "The case for {topic}",
        "What is really involved in {topic}, why it is worth it for {audience}, and what "
        "changes when you get it right.",
        [
            "Skill with {topic} is built, not born",
            "Small gains compound over months",
            "A clear reason keeps you going when motivation fades",
        ],
        "Write three sentences describing how your days look six months from now if your "
        "work on {topic} goes well.",
    ),
    (
        "The foundations of {topic}",
        "The few principles everything else in this book builds on, and why they beat tactics.",
        [
            "Principles last longer than tips",
            "Simple beats clever",
            "Consistency comes before intensity",
        ],
        "List the principles from this chapter you already follow, and one you do not yet.",
    ),
    (
        "Taking stock: where you are with {topic} today",
        "An honest baseline, taken without judgement, so that progress becomes visible.",
        [
            "Measure before you change anything",
            "A baseline is information, not a verdict",
            "One meaningful number is enough",
        ],
        "For three days, note how you currently handle {topic} without changing anything.",
    ),
    (
        "Setting goals for {topic} that survive real life",
        "How to turn a vague wish into a goal with a time, a place and a first step.",
        [
            "Goals need a when and a where",
            "Make the first step almost too small",
            "Plan for bad days in advance",
        ],
        "Rewrite your main goal as: when X happens, I will do Y for Z minutes.",
    ),
    (
        "Designing your environment",
        "How your surroundings make {topic} easier or harder, and how to tilt them in your favour.",
        [
            "Environment beats willpower",
            "Remove friction from what you want to do",
            "Add friction to what distracts you",
        ],
        "Remove one obstacle and one distraction related to {topic} today.",
    ),
    (
        "Building a daily practice",
        "A daily routine for {topic} that fits an ordinary schedule and survives busy weeks.",
        [
            "Attach the practice to an existing habit",
            "Keep a minimum version for busy days",
            "Never miss twice in a row",
        ],
        "Choose the existing daily habit you will attach {topic} to, and start tomorrow.",
    ),
    (
        "Tools, templates and systems",
        "The small set of tools that support {topic}, and how to keep tools from becoming "
        "the project.",
        [
            "Use what you already have first",
            "A checklist removes repeated decisions",
            "Review your system monthly, not daily",
        ],
        "Write a five-item checklist for the next time you work on {topic}.",
    ),
    (
        "Common mistakes with {topic} and how to avoid them",
        "The patterns that derail most people, and a simple counter-move for each.",
        [
            "Doing too much too soon",
            "Changing several things at once",
            "Copying advice meant for someone else's situation",
        ],
        "Pick the mistake you are most prone to and write your counter-move next to it.",
    ),
    (
        "Breaking through plateaus",
        "Why progress with {topic} stalls, and how to restart it without burning out.",
        [
            "Plateaus are part of the curve",
            "Shrink the step instead of pushing harder",
            "Change one variable at a time",
        ],
        "Identify one variable to change for the next two weeks and note the result.",
    ),
    (
        "Accountability and support",
        "How other people can make {topic} easier: partners, groups and public commitments.",
        [
            "Tell one person what you are working on",
            "Share progress, not just plans",
            "Choose support that matches your style",
        ],
        "Send one message today to someone who could be your accountability partner.",
    ),
    (
        "Measuring progress",
        "How to see real progress with {topic} without drowning in numbers.",
        [
            "Review weekly to smooth out noise",
            "Pair a number with a one-line note",
            "Celebrate trends, not single days",
        ],
        "Set up a weekly fifteen-minute review in your calendar.",
    ),
    (
        "Advanced strategies",
        "Once the basics hold, these techniques take {topic} further.",
        [
            "Deliberate practice targets weak spots",
            "Seasons of focus beat constant effort",
            "Teach what you learn to deepen it",
        ],
        "Choose one weak spot and design a short, focused practice session for it.",
    ),
    (
        "{Topic} at work",
        "Bringing {topic} into your working day without fighting your job.",
        [
            "Align it with what your role already rewards",
            "Protect a small, regular slot",
            "Make the benefits visible to others",
        ],
        "Block one recurring slot in your work calendar for {topic}.",
    ),
    (
        "{Topic} at home",
        "Making {topic} part of home life, with the people you live with on your side.",
        [
            "Shared routines beat private willpower",
            "Agree on small, visible cues",
            "Keep expectations realistic on hectic days",
        ],
        "Talk with the people at home about one small change that supports {topic}.",
    ),
    (
        "When life gets in the way",
        "Illness, travel, deadlines: how to keep {topic} alive when everything else is loud.",
        [
            "Have a minimum version ready",
            "Plan restarts, not perfection",
            "Be kind to yourself after a break",
        ],
        "Write your minimum version of {topic}: what you will do on your worst day.",
    ),
    (
        "Learning from others",
        "How to learn from people further along with {topic} without copying them blindly.",
        [
            "Look for principles behind routines",
            "Adapt, then test for two weeks",
            "Keep a file of ideas worth trying",
        ],
        "Find one person who is a step ahead and note three things they do differently.",
    ),
    (
        "Your 30-day plan",
        "A day-by-day plan that puts the whole book into practice in one month.",
        [
            "Week one builds the habit",
            "Weeks two and three add depth",
            "Week four reviews and resets",
        ],
        "Put the first seven days of the plan into your calendar now.",
    ),
    (
        "Sustaining {topic} for the long run",
        "How to keep {topic} going for years: renewal, review and making it part of who you are.",
        [
            "Identity outlasts motivation",
            "Schedule regular reviews and resets",
            "Keep it enjoyable enough to continue",
        ],
        "Write a short note to yourself one year from now about why you kept going.",
    ),
]

SCENARIOS = [
    "for a busy week",
    "on a tight budget",
    "with a small team",
    "while travelling",
    "after a long break",
    "as a complete beginner",
    "alongside a full-time job",
    "with young children at home",
    "during exam season",
    "in a small apartment",
    "after a setback",
    "with a partner who is not interested",
    "on night shifts",
    "in the first month of a new job",
]

CORE: list[list[str]] = [
    [
        "This chapter is about {chapter}, and it matters more than it first appears.",
        "Most people skip {chapter} and wonder later why nothing about {topic} ever stuck.",
        "Getting {chapter} right makes every later chapter easier.",
    ],
    [
        "For {audience}, the aim is not perfection but a version you can repeat.",
        "The ideas here are simple on purpose: simple things get done.",
        "Read it once, then come back after you have tried the exercise.",
    ],
    [
        "The core idea is that progress with {topic} comes from small, repeated actions, not "
        "occasional big efforts. Each repetition makes the next one easier, and after a few "
        "weeks the effort you once needed simply disappears.",
        "At heart, progress with {topic} is a series of decisions. The fewer of those "
        "decisions you have to make in the moment, the more reliably you follow through, "
        "which is why preparation matters more than willpower.",
        "Progress with {topic} rarely looks like a straight line. It looks like long flat "
        "stretches followed by sudden jumps, and the flat stretches are where the real work "
        "happens.",
    ],
    [
        "Consider someone who decides to spend ten minutes a day on {topic}. In the first "
        "week it feels trivial. By the end of the month they have put in five hours, and, "
        "more importantly, they have become someone who does this.",
        "Think of two people who turn to {topic} on the same day. One plans a big overhaul and "
        "stops after a week; the other changes one small thing and keeps it. A year later "
        "the second is far ahead.",
        "A useful test: if you could only keep one habit related to {topic}, which would it "
        "be? That habit deserves your protected time first.",
    ],
]

PRACTICE = [
    "Decide when you will work on {topic} this week and put it in your calendar.",
    "Prepare everything you need the evening before, so starting takes seconds.",
    "Begin with a ten-minute session; stop while it still feels easy.",
    "After each session, write one line about what worked and what did not.",
    "At the end of the week, keep one change and drop one that did not help.",
    "Tell one person what you are trying, and when you will report back.",
    "Remove one distraction from the place where you work on {topic}.",
]

PITFALLS = [
    "Trying to change everything at once, which makes it impossible to tell what helped.",
    "Waiting for motivation before starting; it usually arrives after you begin.",
    "Measuring every day and reacting to noise instead of trends.",
    "Treating a missed day as failure instead of a normal part of the process.",
    "Buying new tools instead of using the ones you already have.",
    "Following advice written for a situation very different from yours.",
]

OPENERS: list[Chapter] = [
    (
        "Where to begin with {topic}",
        "A first look at {topic}: what it asks of you, what it gives back, and the one "
        "decision that makes the rest of the book easier.",
        [
            "Starting small is a strategy, not a compromise",
            "Your reasons matter more than your method",
            "A good start fits inside an ordinary day",
        ],
        "Write down the one reason {topic} matters to you, and keep it where you will see it.",
    ),
    (
        "What changes with {topic}",
        "The difference {topic} can make for {audience}, seen through ordinary days rather "
        "than big promises.",
        [
            "Change shows up first in small moments",
            "Expect uneven progress, not a straight line",
            "Knowing what you want to change keeps you honest",
        ],
        "Describe one ordinary day, as it is now and as you would like it to be.",
    ),
]

CLOSERS: list[Chapter] = [
    (
        "Keeping {topic} going after this book",
        "What to do once the last chapter is read: reviews, restarts, and deciding what "
        "comes next.",
        [
            "A monthly review keeps the routine honest",
            "Restarting is a skill worth practising",
            "Next steps should stay small too",
        ],
        "Put a monthly review in your calendar for the next three months.",
    ),
    (
        "Your next year of {topic}",
        "A simple way to plan the year ahead: seasons of focus, lighter months, and a "
        "yearly check-in.",
        [
            "Plan in seasons, not in resolutions",
            "Lighter months protect the habit",
            "A yearly check-in shows how far you came",
        ],
        "Sketch four seasons for the year ahead and name one focus for each.",
    ),
]
