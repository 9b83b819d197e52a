"""Affiliate content: an article that recommends the configured affiliate links, disclosed.

The links themselves never come from the model: it writes about products by name, and
rendering puts each configured URL in as a Markdown link, so a model cannot invent or
mangle a tracking URL. Every chosen link appears at least once.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field

from ...config.models import AffiliateLink, Config
from ...errors import TaskError
from ..brief import Brief, list_param
from ..offline import Picker, fill, title_case
from ..phrasing import Subject
from ..render import Rendered, clip, front_matter, md_link, one_line, to_json
from ..store import slugify
from .blog import META_LIMIT, Section

DISCLOSURE = (
    "Disclosure: this article contains affiliate links. If you buy through them, "
    "we may earn a commission at no extra cost to you."
)
LINKS_FIX = (
    'add at least one entry to "affiliate_links" in config.json, e.g. '
    '{"name": "Notion", "url": "https://example.com/go/notion?ref=you", '
    '"description": "notes and planning", "keywords": ["notes", "productivity"]}'
)


class Pick(BaseModel):
    """One recommended product."""

    name: str = Field(description="The product name exactly as given in the brief.")
    pitch: str = Field(description="2-3 sentences: what it does and why it fits the topic.")
    best_for: str = Field(description="Who it suits best, in a few words.")


class AffiliateArticle(BaseModel):
    """A recommendation article built around the affiliate products."""

    title: str = Field(description="Headline, under 70 characters.")
    meta_description: str = Field(description="Search snippet, at most 155 characters.")
    intro: list[str] = Field(min_length=1, description="1-2 opening paragraphs.")
    picks: list[Pick] = Field(description="One entry per product, best fit first.")
    sections: list[Section] = Field(default_factory=list, description="2-3 advice sections.")
    conclusion: str = Field(description="Closing paragraph with a clear recommendation.")


STOP_WORDS = re.compile(r"^(the|and|for|with|best|top|your|you|how|what|from|that|this|are)$")


def _words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w for w in words if len(w) > 2 and not STOP_WORDS.match(w)}


def select_links(config: Config, brief: Brief) -> list[AffiliateLink]:
    """The links for this article: those named in ``links``, else those whose keywords,
    name or description match the topic, else all of them."""
    links = config.affiliate_links
    if not links:
        raise TaskError(f"affiliate_content needs affiliate links and there are none: {LINKS_FIX}")
    wanted = list_param(brief.params, "links")
    if wanted:
        by_name = {link.name.lower(): link for link in links}
        unknown = [w for w in wanted if w.lower() not in by_name]
        if unknown:
            raise TaskError(
                f"links names {', '.join(unknown)}, which affiliate_links in config.json does "
                f"not have: use some of {', '.join(link.name for link in links)}"
            )
        return [by_name[w.lower()] for w in wanted]
    topic = _words(" ".join([brief.topic, *brief.keywords]))

    def score(link: AffiliateLink) -> int:
        keys = {k.lower() for k in link.keywords}
        return (
            3 * len(topic & keys)
            + 2 * len(topic & _words(link.name))
            + len(topic & _words(link.description))
        )

    matching = [link for link in links if score(link) > 0]
    return sorted(matching, key=score, reverse=True) if matching else list(links)


def messages(brief: Brief, links: list[AffiliateLink]) -> list[dict[str, str]]:
    """The prompt for a recommendation article about ``links``."""
    products = "\n".join(
        f"- {link.name}: {link.description or 'no description given'}" for link in links
    )
    system = (
        "You write honest product recommendation articles. You explain who each product "
        "is for and who should skip it, compare on concrete criteria, and never claim "
        "features, prices or test results you were not given. You do not write URLs; "
        "links are inserted by the publisher."
    )
    user = (
        f"Write a recommendation article.\n{brief.describe()}\n\nProducts to feature "
        f"(use these names exactly):\n{products}\n\nRequirements:\n"
        "- title under 70 characters; meta_description at most 155 characters.\n"
        "- intro: the reader's problem and how to choose.\n"
        "- picks: one per product above, best fit for the topic first; pitch in 2-3 "
        "sentences based only on the description; best_for in a few words.\n"
        "- sections: 2-3 short sections of practical advice on the topic (how to choose, "
        "how to get value quickly).\n- conclusion: a clear recommendation.\n"
        "- Plain text in fields: no Markdown, no URLs."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def subject_of(topic: str) -> str:
    """``"best productivity tools"`` → ``"productivity tools"`` (titles add their own "best")."""
    return re.sub(r"^(the\s+)?(best|top)(\s+\d+)?\s+", "", topic.strip(), flags=re.I) or topic


PITCHES = [
    "Its strength is that you can start in minutes.",
    "It stays out of your way once it is set up.",
    "It keeps the essentials in one place.",
    "It does one job well instead of everything halfway.",
]


def offline(brief: Brief, links: list[AffiliateLink], now: datetime) -> AffiliateArticle:
    """An article from templates around the chosen links."""
    pick = Picker("affiliate", brief.topic, *(link.name for link in links))
    subject = Subject.of(subject_of(brief.topic))
    t = {
        "topic": brief.topic,
        "subject": subject.phrase,
        "Subject": subject.heading,
        "audience": brief.audience,
    }
    pitches = pick.shuffled(PITCHES)
    picks = [
        Pick(
            name=link.name,
            pitch=(f"{link.name}: {link.description.rstrip('.')}. " if link.description else "")
            + pitches[i % len(pitches)],
            best_for=pick.one(
                [
                    "anyone who wants a simple setup",
                    brief.audience,
                    "people starting out",
                    "people who like to customise",
                ]
            ),
        )
        for i, link in enumerate(links)
    ]
    title = pick.one(
        [
            "{Subject}: an honest comparison",
            "{Subject}: our picks and who they suit",
            "{Subject}, honestly compared",
        ]
    )
    return AffiliateArticle(
        title=title_case(fill(title, **t)),
        meta_description=fill(
            "Honest picks for {subject}: what each option does, who it suits, and how to "
            "choose without overspending.",
            **t,
        ),
        intro=[
            fill(
                "Picking the right option for {subject} is harder than it should be: every "
                "product claims to do everything. This short guide for {audience} looks at "
                "what each one is actually good at and who it suits, so you can choose one "
                "and get started.",
                **t,
            )
        ],
        picks=picks,
        sections=[
            Section(
                heading="How to choose",
                paragraphs=["Start from the job you need done, not from the feature list."],
                bullets=[
                    "Try the free tier or trial before paying",
                    "Prefer the option you will use every day over the most powerful one",
                    "Check how easy it is to take your data with you",
                ],
            ),
            Section(
                heading="Getting value in the first week",
                paragraphs=[
                    "Set up only what you need for one real task, use it daily for a week, "
                    "then decide whether to keep it."
                ],
            ),
        ],
        conclusion=f"If you only try one, start with {links[0].name}: it is the closest match "
        f"for {t['subject']}. Whatever you choose, give it a week of real use before you "
        "judge it.",
    )


def render(
    article: AffiliateArticle,
    brief: Brief,
    links: list[AffiliateLink],
    generated_by: str,
    now: datetime,
    *,
    disclosure: str = "",
) -> Rendered:
    """post.md (front matter, disclosure, linked picks, advice) and post.json.

    :param disclosure: config.json ``affiliate_disclosure`` (default :data:`DISCLOSURE`),
        shown at the top and the end of the article.
    """
    disclosure = one_line(disclosure) or DISCLOSURE
    by_name = {link.name.lower(): link for link in links}
    picks = [p for p in article.picks if p.name.lower() in by_name]
    named = {p.name.lower() for p in picks}
    picks += [
        Pick(name=link.name, pitch=link.description or link.name, best_for="")
        for link in links
        if link.name.lower() not in named
    ]
    title = clip(one_line(article.title), 120)
    slug = slugify(title, 80)
    description = clip(article.meta_description, META_LIMIT)
    head = {
        "title": title,
        "slug": slug,
        "description": description,
        "tags": list(
            dict.fromkeys(
                [
                    subject_of(brief.topic).lower()[:40],
                    "affiliate",
                    *(w.lower() for w in brief.keywords),
                ]
            )
        ),
        "date": now.isoformat(timespec="seconds"),
        "affiliate": True,
        "generated_by": generated_by,
    }
    md = [
        front_matter(head),
        f"# {title}\n",
        f"> **{disclosure}**\n",
        *(p.strip() + "\n" for p in article.intro),
        "## Our picks\n",
    ]
    for p in picks:
        link = by_name[p.name.lower()]
        md.append(f"### {md_link(link.name, link.url)}\n")
        md.append(one_line(p.pitch) + "\n")
        if p.best_for.strip():
            md.append(f"*Best for:* {one_line(p.best_for)}\n")
    for section in article.sections:
        md.append(f"## {one_line(section.heading)}\n")
        md += [p.strip() + "\n" for p in section.paragraphs]
        if section.bullets:
            md += [f"- {one_line(b)}" for b in section.bullets] + [""]
    md += [
        "## Conclusion\n",
        article.conclusion.strip() + "\n",
        "---\n",
        "Links in this article: "
        + ", ".join(
            md_link(by_name[p.name.lower()].name, by_name[p.name.lower()].url) for p in picks
        ),
        "",
        f"*{disclosure}*",
        "",
    ]
    text = "\n".join(md)
    data = {
        **head,
        "topic": brief.topic,
        "links": [{"name": link.name, "url": link.url} for link in links],
        "article": article.model_dump(),
    }
    return Rendered(
        title=title,
        files={"markdown": ("post.md", text), "json": ("post.json", to_json(data))},
        summary=f'affiliate article "{title}" with {len(links)} links: '
        + ", ".join(link.name for link in links),
        meta={
            "generated_by": generated_by,
            "slug": slug,
            "description": description,
            "affiliate": True,
            "disclosure": disclosure,
            "links": [link.name for link in links],
        },
    )
