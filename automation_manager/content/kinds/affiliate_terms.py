"""Affiliate program: commission, cookie window and terms for one ebook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ..catalog import EbookFacts
from ..render import one_line


class AffiliateTerms(BaseModel):
    """The terms affiliates get for promoting one ebook."""

    commission_percent: Annotated[float, Field(ge=1, le=90)] = Field(
        description="Share of each sale paid to the affiliate, in percent."
    )
    cookie_days: Annotated[int, Field(ge=1, le=365)] = Field(
        description="How long after a click a sale still counts, in days."
    )
    payout_schedule: str = Field(description="When and how affiliates are paid.")
    minimum_payout_usd: Annotated[float, Field(ge=0)] = Field(
        description="Smallest balance that is paid out, in USD."
    )
    pitch: str = Field(description="2-3 sentences telling affiliates why the book sells.")
    allowed: list[str] = Field(description="3-5 promotion methods that are welcome.")
    not_allowed: list[str] = Field(description="3-5 practices that end the partnership.")


def messages(ebook: EbookFacts) -> list[dict[str, str]]:
    """The prompt for affiliate terms of ``ebook``."""
    system = (
        "You design affiliate programs for independent digital products. You pick terms "
        "that are competitive for ebooks (typically 30-50% commission, 30-60 day cookies) "
        "yet sustainable for a solo author, and you write rules that are short, fair and "
        "enforceable, including disclosure duties."
    )
    user = (
        f"Propose affiliate program terms for this ebook.\n{ebook.describe()}\n\n"
        "Give commission_percent, cookie_days, payout_schedule, minimum_payout_usd, a "
        "short pitch to affiliates, and the allowed and not_allowed promotion practices "
        "(spam, misleading claims and bidding on the book's title are not allowed)."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def offline(ebook: EbookFacts, now: datetime) -> AffiliateTerms:
    """Sensible default terms: cheaper books pay a larger share so each sale is worth it."""
    commission = 50.0 if ebook.price_usd < 7 else 40.0 if ebook.price_usd < 12 else 30.0
    return AffiliateTerms(
        commission_percent=commission,
        cookie_days=30,
        payout_schedule="Monthly, 30 days after the end of the month (refund window), "
        "by PayPal or bank transfer",
        minimum_payout_usd=25.0,
        pitch=f"{ebook.title} is a practical guide to {ebook.topic} for {ebook.audience}. "
        "Readers get short chapters with exercises, which makes it an easy "
        "recommendation for audiences interested in the topic.",
        allowed=[
            "Reviews and recommendations on your blog, newsletter or channel",
            "Social posts that mention the book with your link",
            "Including the book in resource lists and guides",
        ],
        not_allowed=[
            "Spam, unsolicited email or comment spam",
            "Misleading claims about results or discounts that do not exist",
            f'Bidding on "{ebook.title}" or the author\'s name in search ads',
            "Using your own link for your own purchases",
        ],
    )


def render_terms(terms: AffiliateTerms, ebook: EbookFacts, generated_by: str, now: datetime) -> str:
    """The terms as Markdown, for affiliates to read (``affiliate-terms.md``)."""
    per_sale = ebook.price_usd * terms.commission_percent / 100
    lines = [
        f"# Affiliate program: {ebook.title}\n",
        f"<!-- generated_by: {generated_by}; {now.isoformat(timespec='seconds')} -->\n",
        one_line(terms.pitch) + "\n",
        "## Terms\n",
        f"- **Commission:** {terms.commission_percent:g}% of each sale "
        f"(about ${per_sale:.2f} at ${ebook.price_usd:.2f})",
        f"- **Cookie window:** {terms.cookie_days} days from the click",
        f"- **Payout:** {one_line(terms.payout_schedule)}",
        f"- **Minimum payout:** ${terms.minimum_payout_usd:.2f}",
        "- **Refunds:** commission on a refunded sale is reversed",
        "",
        "## Welcome\n",
        *(f"- {one_line(a)}" for a in terms.allowed),
        "",
        "## Not allowed\n",
        *(f"- {one_line(n)}" for n in terms.not_allowed),
        "",
        "## Disclosure\n",
        "Affiliates must disclose the affiliate relationship clearly, before the link, "
        "as required by the FTC and comparable rules elsewhere.",
        "",
    ]
    return "\n".join(lines)
