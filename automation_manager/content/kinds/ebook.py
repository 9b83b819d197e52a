"""Ebook: an outline, then one model call per chapter, assembled into Markdown and EPUB 3.

The executor drives the calls (so each chapter is saved as it arrives); this module
holds the prompts, the offline templates and the assembly.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field

from ...config.models import Config
from ...text import plural
from ..brief import Brief, int_param, str_param
from ..epub import BookInfo, build_epub
from ..offline import Picker, fill, title_case
from ..render import Rendered, front_matter, one_line, to_json
from .ebook_templates import CHAPTERS, CORE, PITFALLS, PRACTICE, SCENARIOS


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


def author_of(brief: Brief) -> str:
    """The author named in the EPUB (``author``, default "Anonymous")."""
    return str_param(brief.params, "author", "Anonymous") or "Anonymous"


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


def offline_outline(brief: Brief, config: Config, now: datetime) -> EbookOutline:
    """A topic-specific outline from the chapter templates."""
    n = chapters_of(brief)
    pick = Picker("ebook", brief.topic, n)
    t = {"topic": brief.topic, "audience": brief.audience}
    first, middle, last = CHAPTERS[0], CHAPTERS[1:-1], CHAPTERS[-1]
    if n == 1:
        chosen = [first]
    else:
        count = n - 2
        inner = [middle[i] for i in sorted(pick.some(range(len(middle)), count))]
        for k in range(count - len(inner)):
            scenario = SCENARIOS[k % len(SCENARIOS)]
            inner.append(
                (
                    f"Case study {k + 1}: {{topic}} {scenario}",
                    f"{{topic}} applied {scenario}, step by step, with what to expect.",
                    [
                        "Context changes tactics, not principles",
                        "Start with the smallest useful step",
                        "Review after one week and adjust",
                    ],
                    f"Plan one session of {{topic}} {scenario} for this week.",
                )
            )
        chosen = [first, *inner, last]
    chapters = [
        ChapterPlan(
            title=title_case(fill(title, **t)),
            summary=fill(summary, **t),
            key_points=[fill(k, **t) for k in points],
        )
        for title, summary, points, _ in chosen
    ]
    return EbookOutline(
        title=title_case(
            fill(
                pick.one(
                    ["{topic}, made simple", "The {topic} handbook", "A field guide to {topic}"]
                ),
                **t,
            )
        ),
        subtitle=fill("A step-by-step guide for {audience}", **t),
        description=fill(
            "This book turns {topic} from a good intention into a routine that lasts. "
            "In {n} short chapters it covers why it matters, the principles that work, "
            "and a concrete plan you can start this week.",
            n=str(n),
            **t,
        ),
        chapters=chapters,
    )


def _rotate(pool: list[str], start: int, k: int) -> list[str]:
    return [pool[(start + i) % len(pool)] for i in range(min(k, len(pool)))]


def offline_chapter(brief: Brief, outline: EbookOutline, number: int) -> str:
    """One chapter's Markdown from templates (the title is added by the assembly).

    Pools are walked in rotation from a topic-seeded offset, so neighbouring chapters
    never share a paragraph.
    """
    plan = outline.chapters[number - 1]
    base = Picker("ebook-chapter", brief.topic).number(0, 1000) + number
    t = {"topic": brief.topic, "audience": brief.audience, "chapter": plan.title.lower()}
    exercise = next(
        (ex for title, _, _, ex in CHAPTERS if title_case(fill(title, **t)) == plan.title), None
    )
    exercise = exercise or "Write down one change from this chapter and schedule it."
    points = [one_line(k).rstrip(".") for k in plan.key_points]
    thread = ""
    if len(points) >= 2:
        listed = "; ".join(p[:1].lower() + p[1:] for p in points[:-1])
        last = points[-1][:1].lower() + points[-1][1:]
        thread = f"Three ideas carry this chapter: {listed}; and {last}. "
    out = [
        plan.summary.strip(),
        "",
        fill(CORE[0][base % len(CORE[0])], **t) + " " + fill(CORE[1][base % len(CORE[1])], **t),
        "",
        "## The core idea",
        "",
        thread + fill(CORE[2][base % len(CORE[2])], **t),
        "",
        fill(CORE[3][(base + 1) % len(CORE[3])], **t),
        "",
        "## Putting it into practice",
        "",
        *(f"{i}. {fill(step, **t)}" for i, step in enumerate(_rotate(PRACTICE, base * 3, 3), 1)),
        "",
        "## Common pitfalls",
        "",
        *(f"- {fill(p, **t)}" for p in _rotate(PITFALLS, base * 2, 2)),
        "",
        "## Key takeaways",
        "",
        *(f"- {k}" for k in points),
        "",
        f"> **Try this:** {fill(exercise, **t)}",
        "",
    ]
    return "\n".join(out)


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
    *,
    cover: bytes | None = None,
) -> Rendered:
    """book.md, book.epub and outline.json (and cover.png, embedded, when ``cover`` is given)."""
    author = author_of(brief)
    title = one_line(outline.title)
    headings = [chapter_heading(i, c) for i, c in enumerate(outline.chapters, 1)]
    md = [
        front_matter(
            {
                "title": title,
                "subtitle": one_line(outline.subtitle),
                "author": author,
                "language": brief.language,
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
        language=brief.language,
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
        "language": brief.language,
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
            "audience": brief.audience,
            "language": brief.language,
            "description": one_line(outline.description),
            "words": words,
            "chapters": [one_line(c.title) for c in outline.chapters],
        },
    )
