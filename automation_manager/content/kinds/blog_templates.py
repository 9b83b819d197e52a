"""Phrase pools for offline blog posts, by angle. ``{s}`` is the topic as a noun phrase
(:class:`~..phrasing.Subject`), ``{S}`` the same with a capital, ``{audience}`` the reader.

The topic only ever follows a preposition or opens a title before a colon, so every
topic phrase reads correctly (see :mod:`automation_manager.content.phrasing`).
A section is (heading, paragraphs, bullets).
"""

from __future__ import annotations

Section = tuple[str, list[str], list[str]]

TITLES: dict[str, list[str]] = {
    "how-to": ["{S}: a step-by-step guide", "How to get going with {s}, step by step"],
    "mistakes": ["{S}: the mistakes that hold most people back", "Mistakes to avoid with {s}"],
    "checklist": ["{S}: a checklist you can use today", "The practical checklist for {s}"],
    "case-study": ["{S}: a four-week case study", "What four weeks of {s} looked like"],
    "myths": ["{S}: myths worth dropping", "Five myths about {s}, and what works instead"],
    "comparison": ["{S}: two approaches compared", "Two ways to approach {s}, side by side"],
    "beginner": ["{S} for complete beginners", "Your first week with {s}"],
    "advanced": ["{S}: next steps once the basics hold", "Beyond the basics of {s}"],
    "quick-wins": ["{S}: quick wins for this week", "Small changes with a quick payoff for {s}"],
    "questions": ["{S}: answers to the common questions", "Questions people ask about {s}"],
    "plan": ["{S}: a 30-day plan", "A month of {s}, planned day by day"],
    "habits": ["{S}: routines that last", "Making {s} last beyond the first month"],
}

INTROS: dict[str, str] = {
    "how-to": "Most advice about {s} skips the order of the steps, and the order is what "
    "makes it work.",
    "mistakes": "Progress with {s} usually stalls for the same few reasons, and none of "
    "them is a lack of effort.",
    "checklist": "When it comes to {s}, a short list you actually follow beats a long "
    "plan you admire.",
    "case-study": "Advice about {s} is easier to trust when you can watch it play out, "
    "week by week.",
    "myths": "A lot of what gets repeated about {s} sounds right and quietly makes things harder.",
    "comparison": "There are two common ways to approach {s}, and each suits a different "
    "kind of week.",
    "beginner": "Starting out with {s} is confusing mostly because everyone explains the "
    "advanced parts first.",
    "advanced": "Once the basics of {s} are in place, the next gains come from fewer, "
    "better-aimed changes.",
    "quick-wins": "Not every improvement in {s} takes months; a few pay off within days.",
    "questions": "The same handful of questions about {s} comes up again and again, so "
    "here are straight answers.",
    "plan": "A month is long enough to see real change in {s} and short enough to stay committed.",
    "habits": "Getting started with {s} is the easy part; keeping it going is where most "
    "plans fade.",
}

SPECIFIC: dict[str, list[Section]] = {
    "how-to": [
        (
            "Step 1: decide what a good result looks like",
            [
                "Write one sentence that describes success with {s} in terms you could check "
                "at the end of a week. Vague goals make every step feel optional."
            ],
            [
                "Name the result, not the effort",
                "Pick a time frame of one to four weeks",
                "Keep the sentence where you will see it",
            ],
        ),
        (
            "Steps 2 to 4: start small, repeat, review",
            [
                "Do the smallest useful version today. Repeat it at the same time tomorrow. "
                "At the end of the week, keep what worked and change one thing."
            ],
            [
                "Step 2: a ten-minute first session",
                "Step 3: the same slot on the next three days",
                "Step 4: a fifteen-minute review on the weekend",
            ],
        ),
    ],
    "mistakes": [
        (
            "Mistake 1: starting with the hardest version",
            [
                "An ambitious start feels productive and is the fastest way to quit. The "
                "smallest version you will repeat does more than a heroic week."
            ],
            [],
        ),
        (
            "Mistakes 2 to 5, and the counter-move for each",
            ["Each of these has a simple fix that costs less effort than the mistake itself."],
            [
                "Changing five things at once: change one, keep it for a week",
                "Measuring daily and reacting to noise: review weekly instead",
                "Copying a routine built for a different life: adapt one part at a time",
                "Treating a missed day as failure: plan the restart in advance",
            ],
        ),
    ],
    "checklist": [
        (
            "Before you start",
            ["Five minutes of preparation removes most of the reasons to skip a session."],
            [
                "A fixed day and time in the calendar",
                "Everything you need in one place the evening before",
                "One sentence on what this week is for",
            ],
        ),
        (
            "Every session, and every week",
            ["Tick these off as you go; the list is short on purpose."],
            [
                "Start within five minutes of the planned time",
                "Stop while it still feels manageable",
                "Write one line about what happened",
                "Once a week: keep one change, drop one",
            ],
        ),
    ],
    "case-study": [
        (
            "Weeks 1 and 2: a slow, deliberate start",
            [
                "Picture someone with a full-time job and little spare energy who decides to "
                "take {s} seriously. They commit to fifteen minutes, four days a week, and "
                "nothing more.",
                "The first week feels almost too easy. In the second, two sessions slip, and "
                "the only rule they follow is to never skip twice in a row.",
            ],
            [],
        ),
        (
            "Weeks 3 and 4: what changed",
            [
                "By week three the sessions start without a debate. In week four they extend "
                "one session a week and write down what made the good days good."
            ],
            [
                "Consistency came from the fixed slot, not from motivation",
                "The written notes showed which days to protect",
                "Growing the effort only after the habit held kept it going",
            ],
        ),
    ],
    "myths": [
        (
            "Myth: you need more motivation",
            [
                "Motivation tends to arrive after you start, not before. Waiting for it is "
                "how weeks disappear; a fixed time and a tiny first step work better."
            ],
            [],
        ),
        (
            "More myths, and what works instead",
            ["Each of these sounds sensible and costs time."],
            [
                "More hours mean faster progress: regular short sessions usually win",
                "The right tool will fix it: the habit matters more than the app",
                "You have to feel ready: readiness follows the first few attempts",
                "Bad weeks undo everything: a single restart recovers most of it",
            ],
        ),
    ],
    "comparison": [
        (
            "Approach A: small daily steps",
            [
                "Short sessions on most days keep the effort low and the habit strong. It "
                "suits busy weeks and people who dislike long blocks of time."
            ],
            [
                "Pros: easy to start, hard to break",
                "Cons: slower visible progress at first",
            ],
        ),
        (
            "Approach B: fewer, longer blocks",
            [
                "Two or three longer sessions a week allow deeper work. It suits people who "
                "can protect big blocks and prefer fewer context switches."
            ],
            [
                "Pros: more done per session",
                "Cons: one missed block costs a lot",
                "A mix works well: short daily touchpoints plus one long weekly block",
            ],
        ),
    ],
    "beginner": [
        (
            "What you need on day one",
            [
                "Less than you think. A slot in the calendar, a place to work and a way to "
                "write down what happened are enough to begin."
            ],
            [],
        ),
        (
            "Your first seven days",
            ["Treat the first week as an experiment, not a test."],
            [
                "Days 1-2: ten minutes each, no pressure",
                "Days 3-4: same time, same place",
                "Day 5: notice what made it easier",
                "Days 6-7: plan next week from your notes",
            ],
        ),
    ],
    "advanced": [
        (
            "Find the real bottleneck",
            [
                "Past the basics, most effort goes into parts that are already fine. Look "
                "at your notes and find the one step that limits everything else."
            ],
            [],
        ),
        (
            "Deliberate practice on the weak spot",
            ["Design short sessions that target only that step, with quick feedback."],
            [
                "Isolate the hard part and practise it alone",
                "Get feedback within the same day",
                "Work in seasons: six focused weeks, then a lighter month",
            ],
        ),
    ],
    "quick-wins": [
        (
            "Changes that take five minutes",
            ["Each of these removes friction immediately."],
            [
                "Prepare tomorrow's first step tonight",
                "Turn off one notification that interrupts you",
                "Move what you need within arm's reach",
            ],
        ),
        (
            "Changes that pay off within a week",
            [
                "These take a little setup and show results after a few days of use, which "
                "keeps momentum going."
            ],
            [
                "A recurring calendar slot with a reminder",
                "A one-page note of what works for you",
                "A friend you update every Friday",
            ],
        ),
    ],
    "questions": [
        (
            "How much time does it take?",
            [
                "Less than most people expect: fifteen to thirty minutes on most days is "
                "enough to see progress within a month."
            ],
            [],
        ),
        (
            "What if I keep falling off?",
            [
                "Almost everyone does. Plan the restart in advance: decide now what the "
                "smallest version looks like, and use it the day after a miss."
            ],
            [],
        ),
    ],
    "plan": [
        (
            "Week 1: set up and start",
            ["The first week is about the routine, not the results."],
            [
                "Pick a fixed slot for four days",
                "Keep every session under twenty minutes",
                "Write one line after each",
            ],
        ),
        (
            "Weeks 2 to 4: build, deepen, review",
            ["Add one thing per week, and only if the previous week held."],
            [
                "Week 2: add a fifth day",
                "Week 3: lengthen one session a week",
                "Week 4: review the notes and plan the next month",
            ],
        ),
    ],
    "habits": [
        (
            "Anchor it to something you already do",
            [
                "A routine lasts when it needs no decision. Attach it to an existing habit "
                "such as the first coffee or the end of the workday."
            ],
            [],
        ),
        (
            "Keep a minimum version for bad days",
            [
                "Decide in advance what the two-minute version looks like. On a bad day you "
                "do that, and the chain stays unbroken."
            ],
            [
                "Never miss twice in a row",
                "Review monthly, not daily",
                "Change the routine when life changes, not when a week goes badly",
            ],
        ),
    ],
}

GENERAL: list[Section] = [
    (
        "Why small decisions matter most",
        [
            "For {audience}, progress rarely comes down to talent. It comes down to a handful "
            "of small decisions made again and again, and those decisions compound.",
            "Because the gains come from repetition, you do not need a perfect plan to start. "
            "You need a plan that is easy to repeat.",
        ],
        [],
    ),
    (
        "Fitting it into an ordinary week",
        [
            "Consistency beats intensity. Give {s} a fixed slot next to something you already "
            "do every day, so it needs no extra decision.",
            "Protect the time like a meeting. If something has to move, move it; do not delete it.",
        ],
        [],
    ),
    (
        "Tools that help, and when they hurt",
        [
            "Tools help when they remove friction, and hurt when they become the project. "
            "Start with what you already have and add something only when a clear problem "
            "appears."
        ],
        [
            "A calendar block for the time you commit",
            "A notes file or notebook for what you learn each session",
            "A simple checklist for the steps you repeat",
        ],
    ),
    (
        "Measuring progress without obsessing",
        [
            "Pick one number that reflects progress and look at it weekly. Weekly reviews "
            "smooth out bad days and make real trends visible.",
            "Write a one-line note after each session. After a month, those notes are the "
            "most useful guide you have, because they are about you.",
        ],
        [],
    ),
    (
        "What to do when you stall",
        [
            "Plateaus are normal. When progress stops, shrink the step rather than pushing "
            "harder, and change one variable at a time."
        ],
        [
            "Go back to the smallest version that still felt good",
            "Ask someone a step ahead what they would try next",
            "Take a planned break of a few days instead of an unplanned one of a few weeks",
        ],
    ),
    (
        "Getting support from other people",
        [
            "Telling one person what you are working on makes it more likely to happen. "
            "Share progress, not just plans, and choose support that matches your style."
        ],
        [],
    ),
]

FAQ: list[tuple[str, str]] = [
    (
        "How long before I see results with {s}?",
        "Most people notice a difference within two to four weeks of regular, short "
        "sessions; the exact time depends on where you start.",
    ),
    (
        "How often should I work on {s}?",
        "Short sessions on most days work better than rare long ones, because the habit "
        "forms faster and missed days cost less.",
    ),
    (
        "What should I do after missing a few days?",
        "Restart with the smallest version of your routine the next day, without trying "
        "to make up for lost time.",
    ),
    (
        "Do I need special tools for {s}?",
        "No. A calendar, a place to work and a way to take notes are enough to begin; add "
        "tools only when a clear problem appears.",
    ),
]

CONCLUSIONS: list[str] = [
    "You do not need to get {s} perfect; you need to get it going. Pick one step from this "
    "article, put it in your calendar for tomorrow, and review how it went at the end of "
    "the week.",
    "Choose the one idea here that fits your week best and try it for seven days before "
    "adding anything else.",
    "Start with the smallest item above, today if you can, and come back to the rest once "
    "it feels routine.",
]
