"""Shorts: a vertical-video script (hook, beats, call to action), shot list and captions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ...config.models import Config
from ..angles import angle_named
from ..brief import Brief, int_param
from ..offline import Picker, fill, hashtag, title_case
from ..phrasing import Subject
from ..render import Rendered, caption_chunks, clip, front_matter, one_line, srt_time, to_json
from .shorts_templates import BODIES, HOOKS, TIPS

WORDS_PER_SECOND = 2.6
METHODS = {
    "story": "a first-person mini story: problem, turning point, change, result, lesson",
    "tips": "a countdown of concrete tips, one per beat, each usable today",
    "howto": "a step-by-step tutorial, one step per beat, ending with the common mistake",
    "myths": "myth-busting: state the myth, show why it fails, give the better approach",
}
ALIASES = {
    "listicle": "tips",
    "list": "tips",
    "tutorial": "howto",
    "how-to": "howto",
    "myth": "myths",
    "myth-busting": "myths",
}


class Beat(BaseModel):
    """One beat of the script: what is said, shown and seen."""

    voiceover: str = Field(description="What the narrator says in this beat (1-2 sentences).")
    on_screen_text: str = Field(description="Short caption overlay, at most 6 words.")
    visual: str = Field(description="What the camera shows: shot type and action.")
    duration_s: Annotated[float, Field(ge=0.5, le=60)] = Field(
        description="How long the beat lasts, in seconds."
    )


class ShortsScript(BaseModel):
    """A complete short-form video script."""

    title: str = Field(description="Video title, under 70 characters, no clickbait lies.")
    hook: str = Field(description="The first line, spoken in the first 2-3 seconds.")
    hook_visual: str = Field(description="What is on screen during the hook.")
    beats: list[Beat] = Field(min_length=1, description="The body of the video, in order.")
    call_to_action: str = Field(description="One closing line asking for a specific action.")
    description: str = Field(description="Platform description, 1-3 sentences.")
    hashtags: list[str] = Field(description="3-8 relevant hashtags.")


def method_of(brief: Brief) -> str:
    """The script's structure: one of :data:`METHODS` (``tips`` when not given)."""
    if brief.method:
        return ALIASES.get(brief.method, brief.method)
    known = angle_named(brief.angle)
    return known.shorts if known else "tips"


def seconds_of(brief: Brief) -> int:
    """Target running time in seconds (``length``, default 45)."""
    return int_param(brief.params, "length", 45, 10, 180)


def messages(brief: Brief, config: Config) -> list[dict[str, str]]:
    """The prompt for one short-form video script."""
    method = method_of(brief)
    structure = METHODS.get(method, f"the format the creator asked for: {method}")
    seconds = seconds_of(brief)
    platform = brief.platform or "YouTube Shorts, TikTok and Instagram Reels"
    system = (
        "You are a short-form video scriptwriter who has written hundreds of vertical "
        "videos that keep viewers past the first three seconds. You write for the ear: "
        "short spoken sentences, one idea per beat, concrete examples instead of "
        "abstractions, no filler such as 'in this video'. Every beat has a visual a solo "
        "creator can film with a phone. You never invent statistics or quotes."
    )
    user = (
        f"Write a script for a {seconds}-second vertical video for {platform}.\n"
        f"{brief.describe()}\n"
        f"Structure: {structure}.\n\n"
        "Requirements:\n"
        "- hook: one spoken sentence that creates curiosity or names a pain, under 15 words.\n"
        "- beats: 3 to 6 beats; voiceover at about 2.5 words per second; duration_s of "
        f"hook + beats + call to action adds up to about {seconds} seconds.\n"
        "- on_screen_text: at most 6 words, readable in one glance.\n"
        "- visual: a concrete shot (close-up, screen recording, B-roll of ...).\n"
        "- call_to_action: one specific action (follow, comment a word, save).\n"
        "- title under 70 characters; description 1-3 sentences; 3-8 hashtags."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _seconds(text: str) -> float:
    words = len(text.split())
    return max(2.0, round(words / WORDS_PER_SECOND * 2) / 2)


def _beat(voiceover: str, on_screen: str, visual: str) -> Beat:
    return Beat(
        voiceover=voiceover, on_screen_text=on_screen, visual=visual, duration_s=_seconds(voiceover)
    )


def _body(method: str, topic: str, count: int, pick: Picker) -> list[Beat]:
    if method == "tips":
        chosen = pick.some(TIPS, count)
        return [
            _beat(f"Tip {i}. " + fill(voice, topic=topic), f"{i}. {screen}", visual)
            for i, (screen, voice, visual) in enumerate(chosen, 1)
        ]
    lines = BODIES[method]
    if method == "howto":
        lines = lines[: max(3, count + 1)]
    return [_beat(fill(voice, topic=topic), screen, visual) for screen, voice, visual in lines]


def offline(brief: Brief, config: Config, now: datetime) -> ShortsScript:
    """A topic-specific script from templates, for the chosen method."""
    method = method_of(brief)
    if method not in METHODS:
        method = "tips"
    pick = Picker("shorts", brief.topic, method, brief.angle or "", brief.attempt)
    subject = Subject.of(brief.topic)
    topic = subject.phrase
    count = 2 if seconds_of(brief) < 35 else 3 if seconds_of(brief) < 60 else 4
    hook = fill(pick.one(HOOKS[method]), topic=topic, count=str(count))
    tags = [
        hashtag(subject.short),
        *(hashtag(k) for k in brief.keywords),
        "#Shorts",
        "#HowTo",
        pick.one(["#Productivity", "#SelfImprovement", "#LearnOnTikTok", "#Habits"]),
    ]
    return ShortsScript(
        title=title_case(hook.rstrip(".")),
        hook=hook,
        hook_visual=pick.one(
            [
                "Tight close-up, direct to camera",
                "Bold text on screen, quick zoom in",
                "Walking toward the camera, handheld",
            ]
        ),
        beats=_body(method, topic, count, pick),
        call_to_action=pick.one(
            [
                f"Follow for one idea a day on {topic}.",
                f"Save this for the next time you work on {topic}.",
                f"Comment 'more' and I'll share part two on {topic}.",
            ]
        ),
        description=fill(
            "A quick, practical take on {topic} for {audience}: "
            + {
                "story": "what changed when I stopped waiting.",
                "tips": "small changes you can try today.",
                "howto": "three steps and one mistake to avoid.",
                "myths": "the myth, why it fails, and what works instead.",
            }[method],
            topic=topic,
            audience=brief.audience,
        ),
        hashtags=[t for t in tags if t],
    )


def _hashtags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        clean = "#" + "".join(c for c in tag.lstrip("#") if c.isalnum() or c == "_")
        if len(clean) > 1 and clean.lower() not in {t.lower() for t in out}:
            out.append(clean)
    return out[:8]


def timeline(script: ShortsScript) -> list[tuple[float, float, str, str, str]]:
    """(start, end, label, spoken text, visual) for hook, each beat and the call to action."""
    parts = [("hook", script.hook, script.hook_visual, _seconds(script.hook))]
    parts += [
        (f"beat {i}", b.voiceover, b.visual, b.duration_s) for i, b in enumerate(script.beats, 1)
    ]
    parts.append(
        (
            "call to action",
            script.call_to_action,
            "End card with the ask on screen",
            _seconds(script.call_to_action),
        )
    )
    out, t = [], 0.0
    for label, text, visual, seconds in parts:
        out.append((t, t + seconds, label, one_line(text), one_line(visual)))
        t += seconds
    return out


def srt(script: ShortsScript) -> str:
    """SRT captions: the narration in blocks of two lines, timed within each segment."""
    blocks: list[str] = []
    for start, end, _, text, _ in timeline(script):
        chunks = caption_chunks(text)
        total = sum(len(c) for c in chunks) or 1
        t = start
        for chunk in chunks:
            span = (end - start) * len(chunk) / total
            blocks.append(f"{len(blocks) + 1}\n{srt_time(t)} --> {srt_time(t + span)}\n{chunk}\n")
            t += span
    return "\n".join(blocks)


def render(script: ShortsScript, brief: Brief, generated_by: str, now: datetime) -> Rendered:
    """script.md (script and shot list), captions.srt and shorts.json."""
    tags = _hashtags(script.hashtags)
    title = clip(one_line(script.title), 100)
    steps = timeline(script)
    length = steps[-1][1]
    md = [
        front_matter(
            {
                "title": title,
                "topic": brief.topic,
                "method": method_of(brief),
                "duration_s": round(length, 1),
                "generated_by": generated_by,
                "created": now.isoformat(timespec="seconds"),
            }
        ),
        f"# {title}\n",
        f"**Hook ({steps[0][1]:.1f} s):** {one_line(script.hook)}\n",
        "## Script\n",
    ]
    for i, beat in enumerate(script.beats, 1):
        md.append(
            f"{i}. **{one_line(beat.on_screen_text)}** ({beat.duration_s:g} s) — "
            f"{one_line(beat.voiceover)}"
        )
    md += [
        "",
        f"**Call to action:** {one_line(script.call_to_action)}\n",
        "## Shot list\n",
        "| # | time | segment | visual |",
        "|---|---|---|---|",
    ]
    for i, (start, end, label, _, visual) in enumerate(steps, 1):
        md.append(f"| {i} | {start:.1f}-{end:.1f} s | {label} | {visual.replace('|', '/')} |")
    md += ["", "## Description\n", one_line(script.description), "", " ".join(tags), ""]
    data = {
        "generated_by": generated_by,
        "topic": brief.topic,
        "method": method_of(brief),
        "duration_s": round(length, 1),
        **script.model_dump(),
        "title": title,
        "hashtags": tags,
    }
    return Rendered(
        title=title,
        files={
            "markdown": ("script.md", "\n".join(md)),
            "srt": ("captions.srt", srt(script)),
            "json": ("shorts.json", to_json(data)),
        },
        summary=f'shorts script "{title}": {len(script.beats)} beats, {length:.0f} s, '
        f"{len(tags)} hashtags",
        meta={
            "generated_by": generated_by,
            "duration_s": round(length, 1),
            "hashtags": tags,
            "description": one_line(script.description),
            "angle": brief.angle,
        },
    )
