"""Ebook promotion: blurb, launch email, social posts and landing-page bullets for one ebook."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ...errors import ConfigError, Problem
from ..catalog import EbookFacts
from ..offline import Picker, hashtag
from ..phrasing import Subject
from ..render import Rendered, front_matter, one_line, to_json

SOCIAL_LIMIT = 280


class Promotion(BaseModel):
    """Promotion copy for one ebook."""

    headline: str = Field(description="Landing-page headline, under 70 characters.")
    blurb: str = Field(description="Store blurb, 80-150 words.")
    email_subject: str = Field(description="Launch email subject, under 60 characters.")
    email_body: str = Field(description="Launch email body, 120-200 words, plain text.")
    social_posts: list[str] = Field(description="3-5 posts, each under 260 characters.")
    landing_bullets: list[str] = Field(description="4-6 benefit bullets for a landing page.")
    call_to_action: str = Field(description="Button or closing line, a few words.")


def messages(ebook: EbookFacts) -> list[dict[str, str]]:
    """The prompt for promotion copy of ``ebook``."""
    system = (
        "You are a direct-response copywriter for independent authors. You sell with "
        "specific benefits drawn from the book's actual contents, a clear reader, and "
        "honest promises. No hype words (ultimate, revolutionary, game-changing), no fake "
        "scarcity, no invented reviews, numbers or testimonials."
    )
    user = (
        f"Write promotion copy for this ebook.\n{ebook.describe()}\n\nRequirements:\n"
        "- headline under 70 characters.\n- blurb 80-150 words for a store page.\n"
        "- email_subject under 60 characters; email_body 120-200 words, plain text, one "
        "link placeholder written as {link}.\n"
        f"- social_posts: 3-5 posts, each under {SOCIAL_LIMIT - 20} characters, each with "
        "a different angle (a problem, a chapter insight, who it is for).\n"
        "- landing_bullets: 4-6 benefits, each tied to a chapter.\n"
        "- call_to_action: a few words for a button."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


LINK = "{link}"
"""The placeholder the prompt asks the model to write where the store link goes."""


def product_link(links: dict[str, str], ebook: EbookFacts) -> str | None:
    """The ebook's store link from config.json ``product_links``: by id, else by title
    (case and spacing ignored)."""
    if ebook.id in links:
        return links[ebook.id]
    want = " ".join(ebook.title.lower().split())
    return next(
        (url for name, url in links.items() if " ".join(name.lower().split()) == want), None
    )


def missing_links(links: dict[str, str], ebooks: list[EbookFacts]) -> ConfigError | None:
    """A validation error naming every ebook without a link (``None`` when all have one)."""
    missing = [e for e in ebooks if product_link(links, e) is None]
    if not missing:
        return None
    named = ", ".join(f'"{e.title}" ({e.id})' for e in missing)
    example = f'"product_links": {{"{missing[0].id}": "https://example.com/your-ebook"}}'
    return ConfigError(
        Problem(
            "config.json",
            "product_links",
            f"no store link for {named}, which promotion copy links to",
            f"add the ebook's id or title with its URL, e.g. {example}",
        )
    )


def with_link(promo: Promotion, url: str) -> Promotion:
    """``promo`` with every ``{link}`` replaced by ``url``, and the link in the email and
    the first social post when the copy left it out."""

    def put(text: str) -> str:
        return text.replace(LINK, url)

    email = put(promo.email_body)
    if url not in email:
        email = email.rstrip() + f"\n\nGet your copy: {url}"
    posts = [put(p) for p in promo.social_posts]
    if posts and not any(url in p for p in posts):
        posts[0] = f"{posts[0].rstrip()} {url}"
    return promo.model_copy(
        update={
            "headline": put(promo.headline),
            "blurb": put(promo.blurb),
            "email_subject": put(promo.email_subject),
            "email_body": email,
            "social_posts": posts,
            "landing_bullets": [put(b) for b in promo.landing_bullets],
            "call_to_action": put(promo.call_to_action),
        }
    )


def offline(ebook: EbookFacts, now: datetime) -> Promotion:
    """Promotion copy from templates, built from the ebook's title, topic and chapters."""
    pick = Picker("promotion", ebook.id)
    subject = Subject.of(ebook.topic)
    topic = subject.phrase
    chapters = list(ebook.chapters) or [subject.heading]
    first = chapters[0]
    tag = hashtag(subject.short)
    return Promotion(
        headline=pick.one(
            [
                f"{ebook.title}: a calm, practical guide",
                f"Finally make progress with {topic}",
                f"The practical guide to {topic}",
            ]
        ),
        blurb=" ".join(
            part
            for part in (
                f"{ebook.title} is a practical guide to {topic} for {ebook.audience}.",
                ebook.description,
                f'Its {len(chapters)} chapters run from "{first}" to "{chapters[-1]}", '
                "each ending with key takeaways and an exercise you can do the same day."
                if len(chapters) > 1
                else "It ends with key takeaways and an exercise you can do the same day.",
            )
            if part
        ),
        email_subject=f"New: {ebook.title}"[:60],
        email_body=(
            f"Hi,\n\nI've just released {ebook.title}, a short, practical ebook about "
            f"{topic}.\n\nIt's written for {ebook.audience}. Inside you'll find "
            f'{len(chapters)} chapters, including "{first}", each ending with key '
            "takeaways and an exercise you can do in minutes.\n\n"
            f"It costs ${ebook.price_usd:.2f}, and you can read it in an evening.\n\n"
            "Get your copy here: {link}\n\nThanks for reading,\n" + ebook.author
        ),
        social_posts=[
            f"New ebook: {ebook.title}. A practical guide to {topic} in "
            f"{len(chapters)} short chapters. {tag}".strip(),
            f'Struggling with {topic}? Chapter 1, "{first}", starts with why it '
            f"matters and what to do first. {tag}".strip(),
            f"Written for {ebook.audience}: {ebook.title}, with an exercise at the end of "
            "every chapter.",
        ],
        landing_bullets=[f"{c}: clear explanations and one exercise" for c in chapters[:6]],
        call_to_action=pick.one(
            ["Get the ebook", "Start reading today", f"Buy now for ${ebook.price_usd:.2f}"]
        ),
    )


def render(
    promo: Promotion, ebook: EbookFacts, generated_by: str, now: datetime, link: str = ""
) -> Rendered:
    """promotion.md (every piece, ready to paste) and promotion.json, with ``link`` (the
    ebook's store URL) in place of every ``{link}``."""
    if link:
        promo = with_link(promo, link)
    posts = [one_line(p) for p in promo.social_posts if p.strip()]
    md = [
        front_matter(
            {
                "title": one_line(promo.headline),
                "ebook_id": ebook.id,
                "ebook": ebook.title,
                "link": link or None,
                "date": now.isoformat(timespec="seconds"),
                "generated_by": generated_by,
            }
        ),
        f"# Promotion: {ebook.title}\n",
        f"## Headline\n\n{one_line(promo.headline)}\n",
        f"## Blurb\n\n{promo.blurb.strip()}\n",
        f"## Launch email\n\n**Subject:** {one_line(promo.email_subject)}\n",
        promo.email_body.strip() + "\n",
        "## Social posts\n",
    ]
    for i, post in enumerate(posts, 1):
        flag = "" if len(post) <= SOCIAL_LIMIT else f" — over {SOCIAL_LIMIT}, shorten for X"
        md.append(f"{i}. {post} ({len(post)} characters{flag})")
    md += [
        "",
        "## Landing page\n",
        *(f"- {one_line(b)}" for b in promo.landing_bullets),
        "",
        f"**Call to action:** {one_line(promo.call_to_action)}",
        "",
    ]
    data = {
        "generated_by": generated_by,
        "ebook_id": ebook.id,
        "ebook": ebook.title,
        **promo.model_dump(),
        "social_posts": posts,
    }
    return Rendered(
        title=f"Promotion: {ebook.title}",
        files={
            "markdown": ("promotion.md", "\n".join(md)),
            "json": ("promotion.json", to_json(data)),
        },
        summary=f'promotion copy for "{ebook.title}": blurb, email, {len(posts)} posts, '
        f"{len(promo.landing_bullets)} landing bullets",
        meta={"generated_by": generated_by, "ebook_id": ebook.id},
    )
