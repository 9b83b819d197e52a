"""The brief: what a task asks content to be about, read from its fields.

Task fields arrive as JSON values from tasks.json or as strings from ``exec-now -p``.
Every reader here accepts both and raises :class:`TaskError` naming the field and the
fix, so ``-p chapters=abc`` fails with one clear line instead of a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import TaskError

OFFLINE_LABEL = "amgr offline provider (templates, no LLM)"
"""What content made without a model says about itself (front matter, meta, EPUB)."""

DEFAULT_AUDIENCE = "newcomers who want practical advice"
DEFAULT_TONE = "friendly, clear and practical"
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _fix(name: str, example: str) -> str:
    return f'set "{name}" in the task in tasks.json, or pass -p {name}={example}'


def str_param(params: dict[str, Any], name: str, default: str | None = None) -> str | None:
    """A text field: strings and numbers are accepted; blank means ``default``."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TaskError(f"{name}={value!r} must be text: {_fix(name, 'TEXT')}")
    text = str(value).strip()
    return text or default


def int_param(params: dict[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    """A whole number in ``lo..hi``; ``"5"`` and ``5`` both work, ``"abc"`` and ``0`` do not."""
    value = params.get(name)
    if value is None or value == "":
        return default
    problem = f"{name}={value!r} is not a whole number from {lo} to {hi}"
    if isinstance(value, bool):
        raise TaskError(f"{problem}: {_fix(name, str(default))}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        value = int(value)
    if not isinstance(value, int) or not lo <= value <= hi:
        raise TaskError(f"{problem}: {_fix(name, str(default))}")
    return value


def bool_param(params: dict[str, Any], name: str, default: bool = False) -> bool:
    """A yes/no field: JSON ``true``/``false``, or ``true``/``yes``/``1`` (``-p faq=true``)."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise TaskError(f"{name}={value!r} must be true or false: {_fix(name, 'true')}")


def list_param(params: dict[str, Any], name: str) -> list[str]:
    """A list of short strings: a JSON list, or one comma-separated string."""
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        items = [str(v) for v in value]
    else:
        raise TaskError(f"{name}={value!r} must be a list of words: {_fix(name, 'one,two,three')}")
    return [s.strip() for s in items if s.strip()]


def require_topic(params: dict[str, Any], kind: str) -> str:
    """The task's ``topic``, which every written kind needs."""
    topic = str_param(params, "topic")
    if not topic:
        raise TaskError(
            f'a {kind} task needs a topic: set "topic" in the task in tasks.json, '
            f'or pass -p topic="your topic"'
        )
    if len(topic) > 300:
        raise TaskError(f"topic is {len(topic)} characters long: keep it under 300")
    return topic


@dataclass(frozen=True)
class Brief:
    """The fields every written kind understands; kind-specific ones stay in ``params``.

    :param topic: what the content is about (required).
    :param audience: who it is for.
    :param tone: how it should sound.
    :param method: the shape of the piece (``story``, ``listicle``, ``how-to``, ...).
    :param platform: where it will be posted, when the task names one.
    :param language: a BCP 47 tag such as ``en`` or ``de-AT``.
    :param keywords: words the piece should use (SEO, hashtags).
    :param params: every field of the task, for kind-specific readers.
    """

    topic: str
    audience: str = DEFAULT_AUDIENCE
    tone: str = DEFAULT_TONE
    method: str | None = None
    platform: str | None = None
    language: str = "en"
    keywords: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    angle: str | None = None
    """The angle this run writes from (``how-to``, ``mistakes``, ...: :mod:`..angles`)."""
    avoid: tuple[str, ...] = ()
    """Titles of the task's recent items, which a model is asked not to repeat."""
    attempt: int = 0
    """How many near-duplicates this run already made (varies the offline choices)."""

    @classmethod
    def from_params(cls, params: dict[str, Any], kind: str) -> Brief:
        """Read and check the common fields of a task of ``kind``."""
        language = str_param(params, "language", "en") or "en"
        if not LANGUAGE.match(language):
            raise TaskError(
                f"language={language!r} is not a language tag: use a code such as "
                f'"en", "de" or "pt-BR" ({_fix("language", "en")})'
            )
        method = str_param(params, "method")
        return cls(
            topic=require_topic(params, kind),
            audience=str_param(params, "audience", DEFAULT_AUDIENCE) or DEFAULT_AUDIENCE,
            tone=str_param(params, "tone", DEFAULT_TONE) or DEFAULT_TONE,
            method=method.lower() if method else None,
            platform=str_param(params, "platform"),
            language=language,
            keywords=tuple(list_param(params, "keywords")),
            params=dict(params),
        )

    def describe(self) -> str:
        """The brief as prompt lines, shared by every kind's user message."""
        lines = [
            f"Topic: {self.topic}",
            f"Audience: {self.audience}",
            f"Tone: {self.tone}",
            f"Language: {self.language} (write everything in this language)",
        ]
        if self.keywords:
            lines.append(f"Keywords to use naturally: {', '.join(self.keywords)}")
        if self.angle:
            from .angles import angle_named

            known = angle_named(self.angle)
            lines.append(f"Angle: {known.prompt if known else self.angle}")
        if self.avoid:
            shown = "; ".join(f'"{t}"' for t in self.avoid[:10])
            lines.append(
                f"Earlier pieces of this series (do not repeat their titles or content): {shown}"
            )
        return "\n".join(lines)
