"""Social: a post sized for its platform, or a numbered thread when it is too long."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ...config.models import Config
from ...errors import TaskError
from ..brief import Brief, int_param, str_param
from ..offline import Picker, fill, hashtag
from ..phrasing import Subject
from ..render import Rendered, clip, front_matter, one_line, to_json
from ..thread import limit_for, split_thread

LENGTHS = ("auto", "short", "thread")


class SocialPost(BaseModel):
    """A post or a thread, before it is fitted to the platform."""

    posts: list[str] = Field(
        min_length=1,
        description="One post, or the posts of a thread in order (no numbering).",
    )
    hashtags: list[str] = Field(default_factory=list, description="0-4 relevant hashtags.")


def platform_of(brief: Brief, config: Config) -> tuple[str, int]:
    """(platform name, character limit): the task's platform (twitter when none) and its
    limit, which a task's ``limit`` field overrides."""
    name = brief.platform or "twitter"
    target = config.platforms.get(name)
    kind = getattr(target, "kind", None) if target is not None else None
    limit = limit_for(name, kind if isinstance(kind, str) else None)
    return name, int_param(brief.params, "limit", limit, 50, 100_000)


def length_of(brief: Brief) -> str:
    """``auto`` (default), ``short`` (one post) or ``thread``."""
    raw = (str_param(brief.params, "length", "auto") or "auto").lower()
    if raw not in LENGTHS:
        raise TaskError(
            f"length={raw!r} is not a social length: use auto, short or thread "
            "(e.g. -p length=thread)"
        )
    return raw


def messages(brief: Brief, config: Config) -> list[dict[str, str]]:
    """The prompt for one post or thread."""
    platform, limit = platform_of(brief, config)
    shape = {
        "auto": "a single post if the idea fits; otherwise a short thread of 2-5 posts",
        "short": "exactly one post",
        "thread": "a thread of 3-6 posts, each able to stand on its own",
    }[length_of(brief)]
    system = (
        "You are a social media writer who grows accounts with useful posts, not bait. "
        "The first line must stop the scroll with a specific promise or a surprising, "
        "true observation. Every post gives the reader something they can use. You match "
        "each platform's culture (concise on X and Bluesky, conversational on Mastodon "
        "and Threads, more professional context on LinkedIn) and never invent numbers."
    )
    user = (
        f"Write {shape} for {platform}.\n{brief.describe()}\n"
        + (f"Style: {brief.method}\n" if brief.method else "")
        + f"\nRules:\n- Each post at most {limit - 8} characters including spaces "
        f"(the platform limit is {limit}; room is kept for thread numbering).\n"
        "- No numbering like 1/5 in the text; it is added automatically.\n"
        "- Put hashtags in the hashtags list, not in the posts (0-4, only if the platform "
        "uses them).\n- Plain text, no Markdown."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


IDEAS = [
    "Start smaller than feels useful. Ten focused minutes on {topic} beat an hour you "
    "keep postponing.",
    "Give {topic} a fixed slot in your calendar, like a meeting. Protected time gets done.",
    "Track one number for {topic}, weekly. Daily numbers are mostly noise.",
    "Prepare the night before. Every bit of friction you remove is a decision you don't "
    "have to win tomorrow.",
    "Change one thing at a time, so you know what actually helped.",
    "Write one line after each session: what worked, what didn't. In a month it's your best guide.",
    "Copy a routine that works for someone else first, then adapt it to your life.",
]


def offline(brief: Brief, config: Config, now: datetime) -> SocialPost:
    """A hook, a few practical ideas and a question, on the task's topic."""
    pick = Picker("social", brief.topic, brief.platform or "", brief.angle or "", brief.attempt)
    subject = Subject.of(brief.topic)
    t = {"topic": subject.phrase, "audience": brief.audience}
    hook = fill(
        pick.one(
            [
                "What finally made {topic} stick for me:",
                "Most advice about {topic} is too complicated. Here's the short version:",
                "Progress with {topic} doesn't take more motivation. It takes a better setup.",
                "Three small changes that made {topic} easier for me:",
                "If you keep putting off {topic}, try this:",
            ]
        ),
        **t,
    )
    closing = fill(
        pick.one(
            [
                "What's the one thing that helped you most with {topic}?",
                "Which of these will you try this week?",
                "Save this for the next time you get stuck with {topic}.",
                "What would you add for someone new to {topic}?",
            ]
        ),
        **t,
    )
    length = length_of(brief)
    ideas = [fill(i, **t) for i in pick.some(IDEAS, 1 if length == "short" else 4)]
    posts = [f"{hook} {ideas[0]}"] if length == "short" else [hook, *ideas, closing]
    return SocialPost(posts=posts, hashtags=[h for h in [hashtag(subject.short)] if h])


def fit(post: SocialPost, limit: int) -> list[str]:
    """The final posts: the text plus hashtags, split into a numbered thread when needed."""
    tags = []
    for tag in post.hashtags:
        clean = "#" + "".join(c for c in tag.lstrip("#") if c.isalnum() or c == "_")
        if len(clean) > 1 and clean not in tags:
            tags.append(clean)
    paragraphs = [p.strip() for p in post.posts if p.strip()]
    if tags:
        paragraphs.append(" ".join(tags[:4]))
    return split_thread("\n\n".join(paragraphs), limit)


def render(
    post: SocialPost, brief: Brief, config: Config, generated_by: str, now: datetime
) -> Rendered:
    """posts.md (ready to copy) and posts.json (``parts`` in posting order)."""
    platform, limit = platform_of(brief, config)
    parts = fit(post, limit)
    title = clip(one_line(parts[0]), 80)
    shape = "a post" if len(parts) == 1 else f"a thread of {len(parts)} posts"
    md = [
        front_matter(
            {
                "title": title,
                "platform": platform,
                "topic": brief.topic,
                "date": now.isoformat(timespec="seconds"),
                "generated_by": generated_by,
            }
        ),
        f"<!-- generated_by: {generated_by} -->",
        f"# {platform}: {brief.topic}\n",
        f"{shape}, each at most {limit} characters\n",
    ]
    for i, part in enumerate(parts, 1):
        md += [f"## Post {i} ({len(part)}/{limit})\n", part, ""]
    data = {
        "generated_by": generated_by,
        "topic": brief.topic,
        "platform": platform,
        "limit": limit,
        "thread": len(parts) > 1,
        "parts": parts,
        "lengths": [len(p) for p in parts],
    }
    return Rendered(
        title=title,
        files={"markdown": ("posts.md", "\n".join(md)), "json": ("posts.json", to_json(data))},
        summary=f'{platform} {shape} on "{brief.topic}" (limit {limit})',
        meta={
            "generated_by": generated_by,
            "platform": platform,
            "limit": limit,
            "parts": len(parts),
            "angle": brief.angle,
        },
    )
