"""Blog: a Markdown article with front matter (title, slug, meta description, tags)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ...config.models import Config
from ...errors import TaskError
from ..brief import Brief, str_param
from ..offline import Picker, fill, title_case
from ..render import Rendered, clip, front_matter, one_line, to_json
from ..store import slugify

META_LIMIT = 160
LENGTHS = {"short": (600, 3), "medium": (1200, 4), "long": (2000, 6)}


class Section(BaseModel):
    """One H2 section of an article."""

    heading: str = Field(description="The H2 heading, specific and scannable.")
    paragraphs: list[str] = Field(min_length=1, description="Body paragraphs, plain text.")
    bullets: list[str] = Field(default_factory=list, description="Optional bullet list.")


class BlogPost(BaseModel):
    """A complete article."""

    title: str = Field(description="Headline, under 70 characters.")
    meta_description: str = Field(description="Search snippet, at most 155 characters.")
    tags: list[str] = Field(description="3-6 lowercase tags.")
    intro: list[str] = Field(min_length=1, description="1-2 opening paragraphs.")
    sections: list[Section] = Field(min_length=1, description="The body, in reading order.")
    conclusion: str = Field(description="A closing paragraph with one next step.")


def length_of(brief: Brief) -> tuple[int, int]:
    """(target words, sections) from ``length``: short, medium (default), long, or words."""
    raw = (str_param(brief.params, "length", "medium") or "medium").lower()
    if raw in LENGTHS:
        return LENGTHS[raw]
    if raw.isdigit() and 200 <= int(raw) <= 6000:
        words = int(raw)
        return words, max(2, min(8, words // 300))
    raise TaskError(
        f"length={raw!r} is not a blog length: use short, medium, long or a word count "
        "from 200 to 6000 (e.g. -p length=long)"
    )


def messages(brief: Brief, config: Config) -> list[dict[str, str]]:
    """The prompt for one article."""
    words, sections = length_of(brief)
    system = (
        "You are a senior editor and SEO writer. You write articles people finish: a "
        "promise in the headline that the body keeps, short paragraphs, concrete examples "
        "and steps, headings that make sense on their own when skimmed. You do not pad, "
        "do not invent statistics, studies or quotes, and do not use clichés such as "
        "'in today's fast-paced world' or 'unlock your potential'."
    )
    user = (
        f"Write a blog article of about {words} words.\n{brief.describe()}\n"
        + (f"Angle: {brief.method}\n" if brief.method else "")
        + f"\nRequirements:\n"
        f"- title: under 70 characters, specific to the topic.\n"
        f"- meta_description: at most 155 characters, states what the reader gets.\n"
        f"- tags: 3-6 lowercase tags.\n"
        f"- intro: 1-2 paragraphs that name the reader's problem and what the article gives.\n"
        f"- sections: {sections} sections with clear H2 headings; 1-3 paragraphs each; add "
        f"bullets where a list reads better (steps, checklists).\n"
        f"- conclusion: one paragraph ending with a concrete next step.\n"
        f"- Plain text inside fields: no Markdown headings, no HTML."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


SECTIONS: list[tuple[str, list[str], list[str]]] = [
    (
        "Why {topic} matters more than it seems",
        [
            "For {audience}, {topic} is rarely about talent. It comes down to a handful of small "
            "decisions made again and again, and those decisions compound.",
            "The good news: because the gains come from repetition, you do not need a perfect "
            "plan to start. You need a plan that is easy to repeat.",
        ],
        [],
    ),
    (
        "Where most people go wrong with {topic}",
        [
            "Most setbacks with {topic} come from the same few patterns. Spotting them early saves "
            "weeks of frustration."
        ],
        [
            "Starting with the hardest version instead of the smallest useful one",
            "Changing five things at once, so nothing can be evaluated",
            "Measuring daily and reacting to noise",
            "Copying advice written for someone with a very different situation",
        ],
    ),
    (
        "A simple framework for {topic}",
        [
            "Use three steps and keep them in this order. Each one is small enough to finish in a "
            "single sitting."
        ],
        [
            "Define: write one sentence describing what good looks like for you",
            "Start: do the smallest version of it today, and again tomorrow",
            "Review: once a week, keep what worked and drop one thing that did not",
        ],
    ),
    (
        "Building {topic} into an ordinary week",
        [
            "Consistency beats intensity. Attach {topic} to something you already do every day, "
            "such as your first coffee or the end of the workday, so it needs no extra decision.",
            "Protect the time like a meeting. If something has to move, move it; do not delete it.",
        ],
        [],
    ),
    (
        "Tools that make {topic} easier",
        [
            "Tools help when they remove friction, and hurt when they become the project. Start "
            "with what you already have and add something only when a clear problem appears."
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
            "Pick one number that reflects progress with {topic} and look at it weekly. Weekly "
            "reviews smooth out bad days and make real trends visible.",
            "Write a one-line note after each session. After a month, those notes are the most "
            "useful guide you have, because they are about you.",
        ],
        [],
    ),
    (
        "What to do when you stall",
        [
            "Plateaus are normal. When progress with {topic} stops, shrink the step rather than "
            "pushing harder, and change one variable at a time."
        ],
        [
            "Go back to the smallest version that still felt good",
            "Ask someone a step ahead what they would try next",
            "Take a planned break of a few days instead of an unplanned one of a few weeks",
        ],
    ),
    (
        "A seven-day starter plan",
        ["If you want a concrete way in, use this week as a trial run and adjust afterwards."],
        [
            "Day 1: write down why {topic} matters to you, in one sentence",
            "Day 2: do a ten-minute session",
            "Day 3: repeat, at the same time",
            "Day 4: remove one obstacle you noticed",
            "Day 5: try a slightly longer session",
            "Day 6: note what worked and what did not",
            "Day 7: plan next week from your notes",
        ],
    ),
]


def offline(brief: Brief, config: Config, now: datetime) -> BlogPost:
    """A topic-specific article from templates, sized by ``length``."""
    _, count = length_of(brief)
    pick = Picker("blog", brief.topic, brief.audience)
    order = sorted(pick.some(range(len(SECTIONS)), count))
    t = {"topic": brief.topic, "audience": brief.audience}
    sections = [
        Section(
            heading=fill(SECTIONS[i][0], **t),
            paragraphs=[fill(p, **t) for p in SECTIONS[i][1]],
            bullets=[fill(b, **t) for b in SECTIONS[i][2]],
        )
        for i in order
    ]
    title = title_case(
        fill(
            pick.one(
                [
                    "A practical guide to {topic}",
                    "{topic}: what actually works",
                    "Getting started with {topic} without the overwhelm",
                    "{topic}, one small step at a time",
                ]
            ),
            **t,
        )
    )
    topic_tag = brief.topic.lower() if len(brief.topic) <= 30 else slugify(brief.topic, 30)
    return BlogPost(
        title=title,
        meta_description=fill(
            "A practical guide to {topic}: common mistakes, a simple framework and a plan "
            "you can start this week.",
            **t,
        ),
        tags=list(dict.fromkeys([*brief.keywords, topic_tag, "guide", "how-to"]))[:6],
        intro=[
            fill(
                pick.one(
                    [
                        "If {topic} keeps slipping down your list, you are not alone.",
                        "Most advice about {topic} is either too vague or too ambitious.",
                        "{topic} sounds simple until you try to make it stick.",
                    ]
                ),
                **t,
            )
            + " This guide is written for "
            + brief.audience
            + ": it skips the theory "
            "and focuses on what to do, in what order, and how to tell whether it works."
        ],
        sections=sections,
        conclusion=fill(
            "You do not need to get {topic} perfect; you need to get it going. Pick the "
            "smallest step from this article, put it in your calendar for tomorrow, and "
            "review how it went at the end of the week.",
            **t,
        ),
    )


def markdown_body(post: BlogPost) -> list[str]:
    """H1, intro, H2 sections and conclusion as Markdown lines."""
    out = [f"# {one_line(post.title)}\n"]
    out += [p.strip() + "\n" for p in post.intro]
    for section in post.sections:
        out.append(f"## {one_line(section.heading)}\n")
        out += [p.strip() + "\n" for p in section.paragraphs]
        if section.bullets:
            out += [f"- {one_line(b)}" for b in section.bullets] + [""]
    out += ["## Conclusion\n", post.conclusion.strip(), ""]
    return out


def tags_of(post: BlogPost) -> list[str]:
    """Lowercase, deduplicated tags."""
    return list(dict.fromkeys(one_line(t).lower().lstrip("#") for t in post.tags if t.strip()))


def render(post: BlogPost, brief: Brief, generated_by: str, now: datetime) -> Rendered:
    """post.md (front matter + article) and post.json."""
    title = clip(one_line(post.title), 120)
    slug = slugify(str_param(brief.params, "slug") or title, 80)
    description = clip(post.meta_description, META_LIMIT)
    tags = tags_of(post)
    head = {
        "title": title,
        "slug": slug,
        "description": description,
        "tags": tags,
        "date": now.isoformat(timespec="seconds"),
        "generated_by": generated_by,
    }
    text = front_matter(head) + "\n" + "\n".join(markdown_body(post))
    words = len(text.split())
    data = {**head, "topic": brief.topic, "words": words, "post": post.model_dump()}
    return Rendered(
        title=title,
        files={"markdown": ("post.md", text), "json": ("post.json", to_json(data))},
        summary=f'blog post "{title}": {len(post.sections)} sections, about {words} words',
        meta={
            "generated_by": generated_by,
            "slug": slug,
            "description": description,
            "tags": tags,
            "words": words,
        },
    )
