"""Bundle: several ebooks sold together, with copy from the model and a computed price.

The price is arithmetic, not copywriting, so it is computed here: the sum of the
ebooks' prices less 30%, rounded to the nearest .99 price point.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..catalog import EbookFacts
from ..offline import title_case
from ..phrasing import Subject
from ..render import Rendered, front_matter, one_line, to_json

DISCOUNT = 0.30


class BundleCopy(BaseModel):
    """Name and sales copy for a bundle."""

    name: str = Field(description="Bundle name, under 60 characters.")
    tagline: str = Field(description="One sentence on what the set gives the reader.")
    description: str = Field(description="60-120 words on why these books belong together.")
    highlights: list[str] = Field(description="3-6 bullets, one benefit each.")


def price_suggestion(ebooks: list[EbookFacts]) -> tuple[float, float]:
    """(sum of single prices, suggested bundle price) in USD."""
    total = round(sum(e.price_usd for e in ebooks), 2)
    target = total * (1 - DISCOUNT)
    price = max(0.99, round(target) - 0.01)
    return total, round(price, 2)


def messages(ebooks: list[EbookFacts]) -> list[dict[str, str]]:
    """The prompt for naming and describing a bundle of ``ebooks``."""
    books = "\n\n".join(e.describe() for e in ebooks)
    system = (
        "You are a product marketer for independent authors. You name bundles so the "
        "combined promise is obvious, and describe how the books build on each other. "
        "You never invent content the books do not have."
    )
    user = (
        f"Name and describe a bundle of these {len(ebooks)} ebooks.\n\n{books}\n\n"
        "Requirements: name under 60 characters; tagline one sentence; description 60-120 "
        "words on why they belong together and in which order to read them; 3-6 highlights."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _name(topics: list[str], count: int) -> str:
    named = f"The {' & '.join(title_case(Subject.of(t).heading) for t in topics)} Collection"
    if len(topics) <= 3 and len(named) <= 60:
        return named
    return f"The Complete {count}-Book Collection"


def offline(ebooks: list[EbookFacts], now: datetime) -> BundleCopy:
    """Copy from templates, naming the topics the bundle covers."""
    topics = list(dict.fromkeys(e.topic for e in ebooks))
    phrases = [Subject.of(t).phrase for t in topics]
    joined = ", ".join(phrases[:-1]) + f" and {phrases[-1]}" if len(phrases) > 1 else phrases[0]
    return BundleCopy(
        name=_name(topics, len(ebooks)),
        tagline=f"Everything in one place for {joined}.",
        description=(
            f"This bundle collects {len(ebooks)} practical ebooks on {joined}. "
            "Each one stands alone, and together they take you from the first step "
            "to a routine that lasts. Start with "
            f'"{ebooks[0].title}" and read the others in any order.'
        ),
        highlights=[f'"{e.title}": {e.subtitle or e.topic}' for e in ebooks[:6]],
    )


def render(
    copy: BundleCopy, ebooks: list[EbookFacts], generated_by: str, now: datetime
) -> Rendered:
    """bundle.md and bundle.json with the included ebook ids and the price suggestion."""
    total, price = price_suggestion(ebooks)
    name = one_line(copy.name)
    ids = [e.id for e in ebooks]
    md = [
        front_matter(
            {
                "title": name,
                "ebook_ids": ids,
                "price_usd": price,
                "date": now.isoformat(timespec="seconds"),
                "generated_by": generated_by,
            }
        ),
        f"# {name}\n",
        f"*{one_line(copy.tagline)}*\n",
        copy.description.strip() + "\n",
        "## Highlights\n",
        *(f"- {one_line(h)}" for h in copy.highlights),
        "",
        "## Included ebooks\n",
        *(f"- {e.title} (`{e.id}`), ${e.price_usd:.2f}" for e in ebooks),
        "",
        "## Price suggestion\n",
        f"${price:.2f} for the bundle instead of ${total:.2f} separately "
        f"(about {round((1 - price / total) * 100) if total else 0}% off).",
        "",
    ]
    data = {
        "generated_by": generated_by,
        **copy.model_dump(),
        "ebook_ids": ids,
        "price_usd": price,
        "separate_total_usd": total,
    }
    return Rendered(
        title=name,
        files={"markdown": ("bundle.md", "\n".join(md)), "json": ("bundle.json", to_json(data))},
        summary=f'bundle "{name}" of {len(ebooks)} ebooks at ${price:.2f} '
        f"(separately ${total:.2f})",
        meta={
            "generated_by": generated_by,
            "ebook_ids": ids,
            "price_usd": price,
            "separate_total_usd": total,
        },
    )
