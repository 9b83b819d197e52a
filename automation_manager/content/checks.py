"""Model output checked against the request: counts, lengths and limits a reader notices.

A model may return valid JSON that ignores what was asked: one chapter of six, a
200-word "long" post, a social post over the platform limit. Each check here compares
one output with its brief and returns a :class:`Mismatch` (what was asked, what came
back) or ``None``. :func:`generate_checked` and :func:`text_checked` ask once more with
the reason when a check fails, and fail the run when the second answer fails too.
The offline provider's templates are not checked: they are sized by construction.

The bounds (documented in the README, "Model output checks"):

- ebook outline: exactly ``chapters`` chapters;
- ebook chapter: at least 60% of ``chapter_words``;
- blog: 60% to 160% of the requested words (``length``);
- social: every post within the platform's limit; ``length: short`` is one post;
- shorts: spoken words between 50% and 130% of the running time × 2.6 words a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from ..errors import TaskError
from .brief import Brief
from .kinds import blog, ebook, shorts, social

if TYPE_CHECKING:
    from ..llm import LLMClient

T = TypeVar("T", bound=BaseModel)

CHAPTER_MIN = 0.6
BLOG_RANGE = (0.6, 1.6)
SHORTS_RANGE = (0.5, 1.3)


@dataclass(frozen=True)
class Mismatch:
    """How an answer differs from the request."""

    asked: str
    got: str

    def reason(self) -> str:
        return f"the request asked for {self.asked}, and the answer had {self.got}"


def words(text: str) -> int:
    return len(text.split())


def outline(result: ebook.EbookOutline, brief: Brief) -> Mismatch | None:
    want = ebook.chapters_of(brief)
    got = len(result.chapters)
    if got != want:
        return Mismatch(f"{want} chapters", f"{got} chapter{'s' if got != 1 else ''}")
    return None


def chapter(text: str, brief: Brief, number: int) -> Mismatch | None:
    least = int(ebook.words_of(brief) * CHAPTER_MIN)
    got = words(text)
    if got < least:
        return Mismatch(
            f"chapter {number} of about {ebook.words_of(brief)} words (at least {least})",
            f"{got} words",
        )
    return None


def blog_words(post: blog.BlogPost) -> int:
    parts = [*post.intro, post.conclusion]
    for section in post.sections:
        parts += [*section.paragraphs, *section.bullets]
    for entry in post.faq or []:
        parts += [entry.question, entry.answer]
    return sum(words(p) for p in parts)


def blog_post(post: blog.BlogPost, brief: Brief) -> Mismatch | None:
    target, _ = blog.length_of(brief)
    lo, hi = int(target * BLOG_RANGE[0]), int(target * BLOG_RANGE[1])
    got = blog_words(post)
    if not lo <= got <= hi:
        return Mismatch(f"an article of about {target} words ({lo}-{hi})", f"{got} words")
    return None


def social_post(post: social.SocialPost, brief: Brief, limit: int) -> Mismatch | None:
    texts = [p.strip() for p in post.posts if p.strip()]
    if social.length_of(brief) == "short" and len(texts) != 1:
        return Mismatch("exactly one post", f"{len(texts)} posts")
    longest = max((len(p) for p in texts), default=0)
    if longest > limit:
        return Mismatch(f"posts of at most {limit} characters", f"a post of {longest} characters")
    return None


def shorts_script(script: shorts.ShortsScript, brief: Brief) -> Mismatch | None:
    seconds = shorts.seconds_of(brief)
    spoken = [script.hook, *(b.voiceover for b in script.beats), script.call_to_action]
    got = sum(words(s) for s in spoken)
    lo = int(seconds * shorts.WORDS_PER_SECOND * SHORTS_RANGE[0])
    hi = int(seconds * shorts.WORDS_PER_SECOND * SHORTS_RANGE[1])
    if not lo <= got <= hi:
        return Mismatch(
            f"a {seconds}-second script ({lo}-{hi} spoken words at "
            f"{shorts.WORDS_PER_SECOND:g} words a second)",
            f"{got} spoken words",
        )
    return None


def _failed(kind: str, first: Mismatch, second: Mismatch) -> TaskError:
    return TaskError(
        f"the model's {kind} did not match the request, also when asked again: asked for "
        f"{second.asked}, got {second.got} (first answer: {first.got})"
    )


def generate_checked(
    llm: LLMClient,
    kind: str,
    messages: list[dict[str, str]],
    output: type[T],
    *,
    offline: Callable[[], T],
    check: Callable[[T], Mismatch | None],
    max_tokens: int | None = None,
) -> T:
    """``llm.generate`` whose answer must pass ``check``: asked again once with the reason,
    then :class:`TaskError` saying what was asked and what came back."""
    from ..llm.structured import reask

    result = llm.generate(kind, messages, output, offline=offline, max_tokens=max_tokens)
    if llm.offline:
        return result
    first = check(result)
    if first is None:
        return result
    again = llm.generate(
        kind, reask(messages, first.reason()), output, offline=offline, max_tokens=max_tokens
    )
    second = check(again)
    if second is not None:
        raise _failed(kind, first, second)
    return again


def text_checked(
    llm: LLMClient,
    kind: str,
    messages: list[dict[str, str]],
    *,
    offline: Callable[[], str],
    check: Callable[[str], Mismatch | None],
    max_tokens: int | None = None,
    on_delta: Callable[[str], None] | None = None,
) -> str:
    """``llm.text`` with the same check, re-ask and failure as :func:`generate_checked`.

    :param on_delta: streams a model's reply piece by piece (progress display); only
        passed to clients that are not offline.
    """
    from ..llm.structured import reask

    if on_delta is not None and not llm.offline:
        streaming: Callable[[list[dict[str, str]]], str] = lambda m: llm.text(  # noqa: E731
            kind, m, offline=offline, max_tokens=max_tokens, on_delta=on_delta
        )
    else:
        streaming = lambda m: llm.text(kind, m, offline=offline, max_tokens=max_tokens)  # noqa: E731
    result = streaming(messages)
    if llm.offline:
        return result
    first = check(result)
    if first is None:
        return result
    again = streaming(reask(messages, first.reason()))
    second = check(again)
    if second is not None:
        raise _failed(kind, first, second)
    return again
