"""Blog: a Markdown article with front matter (title, slug, meta description, tags)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ...config.models import Config
from ...errors import TaskError
from ..brief import Brief, bool_param, str_param
from ..offline import Picker, fill, title_case
from ..phrasing import Subject
from ..render import Rendered, clip, front_matter, one_line, to_json
from ..store import slugify
from . import blog_templates as T

META_LIMIT = 155
SEO_TITLE_LIMIT = 60
LENGTHS = {"short": (600, 3), "medium": (1200, 4), "long": (2000, 6)}


class Section(BaseModel):
    """One H2 section of an article."""

    heading: str = Field(description="The H2 heading, specific and scannable.")
    paragraphs: list[str] = Field(min_length=1, description="Body paragraphs, plain text.")
    bullets: list[str] = Field(default_factory=list, description="Optional bullet list.")


class FaqEntry(BaseModel):
    """One question and its answer, for the FAQ section and its FAQPage JSON-LD."""

    question: str = Field(description="A question readers ask, ending with '?'.")
    answer: str = Field(description="A direct answer in 1-3 sentences.")


class BlogPost(BaseModel):
    """A complete article."""

    title: str = Field(description="Headline, under 70 characters.")
    seo_title: str | None = Field(
        default=None, description="Title for search results, at most 60 characters."
    )
    meta_description: str = Field(description="Search snippet, at most 155 characters.")
    tags: list[str] = Field(description="3-6 lowercase tags.")
    intro: list[str] = Field(min_length=1, description="1-2 opening paragraphs.")
    sections: list[Section] = Field(min_length=1, description="The body, in reading order.")
    conclusion: str = Field(description="A closing paragraph with one next step.")
    faq: list[FaqEntry] | None = Field(
        default=None, description="Questions and answers, only when the request asks for an FAQ."
    )


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
        f"- title: under 70 characters, specific to the topic; seo_title: at most 60.\n"
        f"- meta_description: at most 155 characters, names only what the article covers.\n"
        f"- tags: 3-6 lowercase tags.\n"
        f"- intro: 1-2 paragraphs that name the reader's problem and what the article gives.\n"
        f"- sections: {sections} sections with clear H2 headings; 1-3 paragraphs each; add "
        f"bullets where a list reads better (steps, checklists).\n"
        f"- conclusion: one paragraph ending with a concrete next step.\n"
        f"- Plain text inside fields: no Markdown headings, no HTML."
        + (
            "\n- faq: 3-5 questions readers ask about the topic, each with a 1-3 sentence answer."
            if bool_param(brief.params, "faq")
            else "\n- faq: leave it out."
        )
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _values(brief: Brief) -> dict[str, str]:
    subject = Subject.of(brief.topic)
    return {"s": subject.phrase, "S": subject.heading, "audience": brief.audience}


def _section(template: tuple[str, list[str], list[str]], t: dict[str, str]) -> Section:
    heading, paragraphs, bullets = template
    return Section(
        heading=fill(heading, **t),
        paragraphs=[fill(p, **t) for p in paragraphs],
        bullets=[fill(b, **t) for b in bullets],
    )


def meta_for(subject: str, headings: list[str]) -> str:
    """A meta description (≤ 155) naming sections the post really has, in order."""
    for count in range(len(headings), 0, -1):
        shown = "; ".join(h.rstrip(".?") for h in headings[:count])
        more = "" if count == len(headings) else "; and more"
        text = f"{subject}, in {len(headings)} parts: {shown}{more}."
        if len(text) <= META_LIMIT:
            return text
    return clip(f"{subject}: {headings[0]}", META_LIMIT)


def seo_clip(text: str) -> str:
    """A title of at most 60 characters, cut at a word, without an ellipsis."""
    text = one_line(text)
    if len(text) <= SEO_TITLE_LIMIT:
        return text
    head = text.split(":")[0].strip()
    if 20 <= len(head) <= SEO_TITLE_LIMIT:
        return head
    return clip(text, SEO_TITLE_LIMIT + 1).rstrip("…").rstrip(" ,;:-")


def offline(brief: Brief, config: Config, now: datetime) -> BlogPost:
    """An article from templates, written from the brief's angle, sized by ``length``."""
    _, count = length_of(brief)
    angle = brief.angle if brief.angle in T.SPECIFIC else "how-to"
    pick = Picker("blog", brief.topic, brief.audience, angle, brief.attempt)
    t = _values(brief)
    own = [_section(x, t) for x in T.SPECIFIC[angle]]
    rest = [_section(T.GENERAL[i], t) for i in sorted(pick.some(range(len(T.GENERAL)), count))]
    sections = [own[0], *rest[: max(0, count - len(own))], *own[1:]][: max(count, len(own))]
    title = title_case(fill(pick.one(T.TITLES[angle]), **t))
    faq = None
    if bool_param(brief.params, "faq"):
        faq = [FaqEntry(question=fill(q, **t), answer=fill(a, **t)) for q, a in T.FAQ]
    headings = [s.heading for s in sections] + (["answers to common questions"] if faq else [])
    tags = [*brief.keywords, _tag(brief), angle.replace("-", " "), "guide"]
    return BlogPost(
        title=title,
        meta_description=meta_for(t["S"], headings),
        tags=list(dict.fromkeys(tags))[:6],
        intro=[
            fill(T.INTROS[angle], **t)
            + f" This guide is written for {brief.audience}: it skips the theory and "
            "focuses on what to do, in what order, and how to tell whether it works."
        ],
        sections=sections,
        conclusion=fill(pick.one(T.CONCLUSIONS), **t),
        faq=faq,
    )


def _tag(brief: Brief) -> str:
    """The topic as a tag: whole when it fits (a cut phrase reads badly), else its short
    form."""
    whole = " ".join(Subject.of(brief.topic).phrase.lower().split())
    if len(whole) <= 30:
        return whole
    short = Subject.of(brief.topic).short.lower()
    return short if len(short) <= 30 else slugify(short, 30)


def markdown_body(post: BlogPost) -> list[str]:
    """H1, intro, H2 sections and conclusion as Markdown lines."""
    out = [f"# {one_line(post.title)}\n"]
    out += [p.strip() + "\n" for p in post.intro]
    for section in post.sections:
        out.append(f"## {one_line(section.heading)}\n")
        out += [p.strip() + "\n" for p in section.paragraphs]
        if section.bullets:
            out += [f"- {one_line(b)}" for b in section.bullets] + [""]
    if post.faq:
        out.append("## Frequently asked questions\n")
        for entry in post.faq:
            out += [f"### {one_line(entry.question)}\n", entry.answer.strip() + "\n"]
    out += ["## Conclusion\n", post.conclusion.strip(), ""]
    return out


def faq_jsonld(post: BlogPost) -> dict[str, Any] | None:
    """The schema.org ``FAQPage`` for the post's FAQ (``None`` without one)."""
    if not post.faq:
        return None
    return {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": one_line(e.question),
                "acceptedAnswer": {"@type": "Answer", "text": one_line(e.answer)},
            }
            for e in post.faq
        ],
    }


def tags_of(post: BlogPost) -> list[str]:
    """Lowercase, deduplicated tags."""
    return list(dict.fromkeys(one_line(t).lower().lstrip("#") for t in post.tags if t.strip()))


def render(post: BlogPost, brief: Brief, generated_by: str, now: datetime) -> Rendered:
    """post.md (front matter + article) and post.json."""
    title = clip(one_line(post.title), 120)
    seo_title = seo_clip(post.seo_title or title)
    slug = slugify(str_param(brief.params, "slug") or title, 80)
    description = clip(post.meta_description, META_LIMIT)
    tags = tags_of(post)
    head = {
        "title": title,
        "seo_title": seo_title,
        "slug": slug,
        "description": description,
        "tags": tags,
        "date": now.isoformat(timespec="seconds"),
        "generated_by": generated_by,
    }
    body = markdown_body(post)
    words = len(" ".join(body).split())
    ld = faq_jsonld(post)
    if ld is not None:
        script = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
        body += [f'<script type="application/ld+json">{script}</script>', ""]
    text = front_matter(head) + "\n" + "\n".join(body)
    data: dict[str, Any] = {**head, "topic": brief.topic, "angle": brief.angle, "words": words}
    data |= {"faq_jsonld": ld, "post": post.model_dump()}
    return Rendered(
        title=title,
        files={"markdown": ("post.md", text), "json": ("post.json", to_json(data))},
        summary=f'blog post "{title}": {len(post.sections)} sections, about {words} words',
        meta={
            "generated_by": generated_by,
            "seo_title": seo_title,
            "slug": slug,
            "description": description,
            "tags": tags,
            "words": words,
            "angle": brief.angle,
            "faq": bool(post.faq),
        },
    )
