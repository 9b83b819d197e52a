"""Ebook: an outline, then one model call per chapter, assembled into Markdown and EPUB 3.

The executor drives the calls (so each chapter is saved as it arrives); this module
holds the prompts, the offline templates and the assembly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from ...config.models import Config
from ...text import plural
from ..angles import angle_index
from ..brief import Brief, int_param, str_param
from ..epub import BookInfo, build_epub
from ..offline import Picker, fill, title_case
from ..phrasing import Subject
from ..render import Rendered, front_matter, one_line, to_json
from .ebook_templates import (
    CHAPTERS,
    CLOSERS,
    CORE,
    OPENERS,
    PITFALLS,
    PRACTICE,
    SCENARIOS,
    Chapter,
)


class ChapterPlan(BaseModel):
    """One chapter in the outline."""

    title: str = Field(description="Chapter title without the word 'Chapter' or a number.")
    summary: str = Field(description="2-3 sentences: what the chapter covers and why.")
    key_points: list[str] = Field(default_factory=list, description="3-5 key points.")


class EbookOutline(BaseModel):
    """The plan of the whole book."""

    title: str = Field(description="Book title, under 60 characters.")
    subtitle: str = Field(description="Subtitle that states the reader's benefit.")
    description: str = Field(description="Back-cover description, 2-4 sentences.")
    chapters: list[ChapterPlan] = Field(min_length=1, description="Chapters in order.")


def chapters_of(brief: Brief) -> int:
    """How many chapters (``chapters``, 1-30, default 5)."""
    return int_param(brief.params, "chapters", 5, 1, 30)


def words_of(brief: Brief) -> int:
    """Target words per chapter (``chapter_words``, 300-5000, default 1200)."""
    return int_param(brief.params, "chapter_words", 1200, 300, 5000)


@dataclass(frozen=True)
class Imprint:
    """Who a book is by and from, and its language, as config.json sets them."""

    author: str | None = None
    publisher: str | None = None
    language: str | None = None


def book_info(config: Config) -> Imprint:
    """The imprint config.json sets (``author``, ``publisher``, ``language``)."""
    return Imprint(config.author, config.publisher, config.language)


def author_of(brief: Brief, imprint: Imprint | None = None) -> str:
    """The author named in the book: the task's ``author``, else config.json's ``author``,
    else "Anonymous"."""
    fallback = (imprint.author if imprint else None) or "Anonymous"
    return str_param(brief.params, "author", fallback) or fallback


def language_of(brief: Brief, imprint: Imprint | None = None) -> str:
    """The task's ``language``, else config.json's ``language``, else ``en``."""
    if str_param(brief.params, "language"):
        return brief.language
    return (imprint.language if imprint else None) or brief.language


SYSTEM = (
    "You are a non-fiction book author and developmental editor. You write practical "
    "books that respect the reader's time: every chapter makes one clear promise and "
    "keeps it with explanations, concrete examples and exercises. You write in plain, "
    "warm prose, avoid filler and clichés, and never invent statistics, studies, quotes "
    "or people."
)


def outline_messages(brief: Brief, config: Config) -> list[dict[str, str]]:
    """The prompt for the outline (title, subtitle, description, chapter plans)."""
    n = chapters_of(brief)
    user = (
        f"Plan a practical ebook with exactly {n} chapters.\n{brief.describe()}\n"
        + (f"Approach: {brief.method}\n" if brief.method else "")
        + "\nRequirements:\n"
        "- title under 60 characters; subtitle that states the reader's benefit.\n"
        "- description: 2-4 sentences for the store page.\n"
        "- chapters in a logical learning order, from why and foundations to practice "
        "and long-term habits; no overlap between chapters.\n"
        "- each chapter: a specific title (no 'Chapter N'), a 2-3 sentence summary, and "
        "3-5 key points."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def chapter_messages(brief: Brief, outline: EbookOutline, number: int) -> list[dict[str, str]]:
    """The prompt for chapter ``number`` (1-based), with the whole plan as context."""
    plan = outline.chapters[number - 1]
    toc = "\n".join(
        f"{i}. {c.title} — {one_line(c.summary)}" for i, c in enumerate(outline.chapters, 1)
    )
    words = words_of(brief)
    user = (
        f'You are writing the ebook "{outline.title}: {outline.subtitle}".\n'
        f"{brief.describe()}\n\nThe full outline:\n{toc}\n\n"
        f'Write chapter {number} of {len(outline.chapters)}: "{plan.title}".\n'
        f"Summary: {one_line(plan.summary)}\n"
        + (f"Key points to cover: {'; '.join(plan.key_points)}\n" if plan.key_points else "")
        + f"\nAbout {words} words, in Markdown:\n"
        "- Do not repeat the chapter title; start with an opening paragraph.\n"
        "- Use ## for 3-5 section headings; use lists only where they help.\n"
        "- Include at least one concrete example and one exercise for the reader.\n"
        "- End with a '## Key takeaways' list.\n"
        "- Do not cover other chapters' material; refer to them by title if needed.\n"
        "- No HTML, no code fences around the whole text, no closing remarks to me."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _values(brief: Brief) -> dict[str, str]:
    subject = Subject.of(brief.topic)
    return {"topic": subject.phrase, "Topic": subject.heading, "audience": brief.audience}


def _case_study(k: int, scenario: str) -> Chapter:
    """Case study ``k`` (1-based): a chapter of its own for one scenario."""
    return (
        f"Case study {k}: {{Topic}} {scenario}",
        f"How the ideas so far play out {scenario}, step by step, with what to expect.",
        [
            f"What changes {scenario}, and what stays the same",
            f"The smallest useful step {scenario}",
            f"Judging progress fairly {scenario}",
        ],
        f"Sketch your own next week {scenario} and mark one slot for {{topic}} in it.",
    )


def outline_templates(brief: Brief) -> list[Chapter]:
    """The chapter templates an offline book of ``chapters`` uses, each used once."""
    n = chapters_of(brief)
    turn = angle_index(brief.angle) + brief.attempt
    opener = [CHAPTERS[0], *OPENERS][turn % (len(OPENERS) + 1)]
    closer = [CHAPTERS[-1], *CLOSERS][(turn // 2) % (len(CLOSERS) + 1)]
    if n == 1:
        return [opener]
    pick = Picker("ebook", brief.topic, n, brief.angle or "", brief.attempt)
    middle = CHAPTERS[1:-1]
    count = n - 2
    inner = [middle[i] for i in sorted(pick.some(range(len(middle)), count))]
    scenarios = pick.some(SCENARIOS, count - len(inner))
    inner += [_case_study(k, sc) for k, sc in enumerate(scenarios, 1)]
    return [opener, *inner, closer]


def offline_outline(brief: Brief, config: Config, now: datetime) -> EbookOutline:
    """A topic-specific outline from the chapter templates; no chapter appears twice."""
    n = chapters_of(brief)
    pick = Picker("ebook-title", brief.topic, n, brief.angle or "", brief.attempt)
    t = _values(brief)
    chapters = [
        ChapterPlan(
            title=title_case(fill(title, **t)),
            summary=fill(summary, **t),
            key_points=[fill(k, **t) for k in points],
        )
        for title, summary, points, _ in outline_templates(brief)
    ]
    return EbookOutline(
        title=title_case(
            fill(
                pick.one(
                    ["{Topic}, made simple", "{Topic}: the handbook", "A field guide to {topic}"]
                ),
                **t,
            )
        ),
        subtitle=fill("A step-by-step guide for {audience}", **t),
        description=fill(
            "This book turns {topic} from a good intention into a routine that lasts. "
            + (
                "In {n} short chapters it covers why it matters, the principles that work, "
                "and a concrete plan you can start this week."
                if n > 2
                else "It covers why it matters and a concrete plan you can start this week."
            ),
            n=str(n),
            **t,
        ),
        chapters=chapters,
    )


def _once(pool: list[str], brief: Brief, name: str, number: int) -> str | None:
    """Element ``number`` of a topic-seeded order of ``pool``: each used at most once a book."""
    order = Picker("ebook-pool", brief.topic, brief.angle or "", name).shuffled(range(len(pool)))
    return pool[order[number - 1]] if number <= len(order) else None


PRACTICE_FORMS = [
    "Turn \u201c{point}\u201d into one action you can take this week, and put it in your calendar.",
    "Write down where \u201c{point}\u201d already shows up in your days, and where it does not.",
    "Try one short session built around \u201c{point}\u201d, then note what happened.",
    "Ask yourself what \u201c{point}\u201d would change about tomorrow morning; do that part.",
    "Give \u201c{point}\u201d a fifteen-minute trial on two days, and compare them.",
    "Explain \u201c{point}\u201d to someone in two sentences, then act on your own explanation.",
    "Find the smallest way to test \u201c{point}\u201d before Friday, and run the test.",
    "List one obstacle to \u201c{point}\u201d and remove it today.",
    "Note for three days how often \u201c{point}\u201d comes up, then pick one moment to act.",
]
VOICES = [
    (
        ("The core idea", "Putting it into practice", "Common pitfalls", "Key takeaways"),
        "{count} ideas carry this chapter: {listed}; and {last}. ",
        "Picture someone who reads this chapter and tries one idea from it, \u201c{first}\u201d, "
        "for a single week. They change nothing else, and at the end of the week they know "
        "whether it deserves a permanent place.",
        "Reading about {chapter} without trying the exercise at the end.",
    ),
    (
        ("What matters here", "Try it this week", "Where it goes wrong", "To remember"),
        "This chapter rests on {count_lower} ideas: {listed}; and {last}. ",
        "Imagine trying \u201c{first}\u201d on the next three ordinary weekdays, without "
        "waiting for a perfect day. By the third, the question is no longer whether it "
        "works but how to keep it.",
        "Agreeing with {chapter} in principle and changing nothing in practice.",
    ),
    (
        ("The principle", "Steps to take", "Traps to avoid", "In short"),
        "{count} ideas run through the pages ahead: {listed}; and {last}. ",
        "A quick experiment makes this concrete: take \u201c{first}\u201d, apply it once "
        "today in the smallest way you can, and write one line about what you noticed.",
        "Treating {chapter} as something for later, when things calm down.",
    ),
]


def offline_chapter(brief: Brief, outline: EbookOutline, number: int) -> str:
    """One chapter's Markdown from templates (the title is added by the assembly).

    Every paragraph, step, pitfall and exercise is unique within the book: pooled text is
    used at most once per book (a topic-seeded order), and the rest is built from the
    chapter's own title and key points, which the outline keeps unique.
    """
    plan = outline.chapters[number - 1]
    t = _values(brief) | {"chapter": re.sub(r"^case study \d+: ", "", plan.title.lower())}
    turn = angle_index(brief.angle)
    heads, thread_form, example_form, own_pitfall = VOICES[turn % len(VOICES)]
    exercise = next(
        (
            ex
            for title, _, _, ex in outline_templates(brief)
            if title_case(fill(title, **t)) == plan.title
        ),
        None,
    )
    exercise = exercise or f"Write down one change from \u201c{plan.title}\u201d and schedule it."
    points = [one_line(k).rstrip(".") for k in plan.key_points] or [plan.title]
    thread = ""
    if len(points) >= 2:
        listed = "; ".join(p[:1].lower() + p[1:] for p in points[:-1])
        last = points[-1][:1].lower() + points[-1][1:]
        count = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}.get(len(points), str(len(points)))
        thread = thread_form.format(
            count=count, count_lower=count.lower(), listed=listed, last=last
        )
    opening = fill(CORE[0][number % len(CORE[0])], **t)
    extra = _once(CORE[1], brief, "core1", number)
    idea = _once(CORE[2], brief, "core2", number)
    first = points[0][:1].lower() + points[0][1:]
    example = _once(CORE[3], brief, "core3", number) or example_form.format(first=first)
    steps = [
        PRACTICE_FORMS[(i + number + 3 * turn) % len(PRACTICE_FORMS)].format(point=p)
        for i, p in enumerate(points[:3])
    ]
    pooled_step = _once(PRACTICE, brief, "practice", number)
    pitfalls = [p for p in [_once(PITFALLS, brief, "pitfalls", number)] if p]
    pitfalls.append(own_pitfall.format(chapter=t["chapter"]))
    out = [
        plan.summary.strip(),
        "",
        opening + (" " + fill(extra, **t) if extra else ""),
        "",
        f"## {heads[0]}",
        "",
        (thread + fill(idea, **t)) if idea else thread.strip() or plan.summary.strip(),
        "",
        fill(example, **t),
        "",
        f"## {heads[1]}",
        "",
        *(
            f"{i}. {step}"
            for i, step in enumerate(
                [*([fill(pooled_step, **t)] if pooled_step else []), *steps], 1
            )
        ),
        "",
        f"## {heads[2]}",
        "",
        *(f"- {fill(p, **t) if '{' in p else p}" for p in pitfalls),
        "",
        f"## {heads[3]}",
        "",
        *(f"- {k}" for k in points),
        "",
        f"> **Try this:** {fill(exercise, **t)}",
        "",
    ]
    return "\n".join(out)


def offline_book(brief: Brief, config: Config, now: datetime) -> tuple[str, str]:
    """The offline book's title and text without building it (for the duplicate check)."""
    outline = offline_outline(brief, config, now)
    parts = [f"# {outline.title}", outline.description]
    for number, plan in enumerate(outline.chapters, 1):
        parts += [f"## {chapter_heading(number, plan)}", offline_chapter(brief, outline, number)]
    return outline.title, "\n\n".join(parts)


def clean_chapter(text: str, title: str) -> str:
    """Model output made safe to assemble: no wrapping fence, no repeated title, no H1."""
    text = text.strip()
    fence = re.fullmatch(r"```[A-Za-z]*\n(.*)\n```", text, re.S)
    if fence:
        text = fence.group(1).strip()
    lines = text.splitlines()
    if lines and lines[0].startswith("#"):
        heading = lines[0].lstrip("#").strip().lower()
        if lines[0].startswith("# ") or title.lower() in heading or "chapter" in heading:
            lines = lines[1:]
    fixed = ["#" + ln if re.match(r"#\s", ln) else ln for ln in lines]
    return "\n".join(fixed).strip() + "\n"


def chapter_heading(number: int, plan: ChapterPlan) -> str:
    """``Chapter 3: Designing Your Environment``."""
    return f"Chapter {number}: {one_line(plan.title)}"


def _demote(text: str) -> str:
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("#" + line if not fenced and re.match(r"#{1,5}\s", line) else line)
    return "\n".join(out)


def render(
    outline: EbookOutline,
    chapters: list[str],
    brief: Brief,
    generated_by: str,
    now: datetime,
    imprint: Imprint | None = None,
    *,
    cover: bytes | None = None,
) -> Rendered:
    """book.md, book.epub and outline.json (and cover.png, embedded, when ``cover`` is given)."""
    author = author_of(brief, imprint)
    publisher = (imprint.publisher if imprint else None) or author
    language = language_of(brief, imprint)
    title = one_line(outline.title)
    headings = [chapter_heading(i, c) for i, c in enumerate(outline.chapters, 1)]
    md = [
        front_matter(
            {
                "title": title,
                "subtitle": one_line(outline.subtitle),
                "author": author,
                "publisher": publisher,
                "language": language,
                "description": one_line(outline.description),
                "date": now.date().isoformat(),
                "generated_by": generated_by,
            }
        ),
        f"# {title}\n",
        f"*{one_line(outline.subtitle)}*\n",
        f"by {author}\n",
        one_line(outline.description) + "\n",
        "## Contents\n",
        *(f"{i}. {h}" for i, h in enumerate(headings, 1)),
        "",
    ]
    for heading, text in zip(headings, chapters, strict=True):
        md += [f"## {heading}\n", _demote(text).strip(), ""]
    book_md = "\n".join(md)
    info = BookInfo(
        title=title,
        author=author,
        publisher=publisher,
        language=language,
        subtitle=one_line(outline.subtitle),
        description=one_line(outline.description),
        generated_by=f"Generated by {generated_by}",
        date=now.date().isoformat(),
        subjects=[brief.topic],
        cover=cover,
    )
    epub = build_epub(info, list(zip(headings, chapters, strict=True)))
    words = sum(len(c.split()) for c in chapters)
    data = {
        "generated_by": generated_by,
        "topic": brief.topic,
        "author": author,
        "publisher": publisher,
        "language": language,
        "words": words,
        "outline": outline.model_dump(),
    }
    return Rendered(
        title=title,
        files={
            "markdown": ("book.md", book_md),
            "epub": ("book.epub", epub),
            "json": ("outline.json", to_json(data)),
            **({"cover": ("cover.png", cover)} if cover else {}),
        },
        summary=f'ebook "{title}": {plural(len(chapters), "chapter")}, about {words} words, EPUB 3',
        meta={
            "generated_by": generated_by,
            "subtitle": one_line(outline.subtitle),
            "author": author,
            "publisher": publisher,
            "audience": brief.audience,
            "language": language,
            "description": one_line(outline.description),
            "words": words,
            "chapters": [one_line(c.title) for c in outline.chapters],
        },
    )
