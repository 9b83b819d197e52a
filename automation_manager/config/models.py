"""The models of config.json (dataclasses pydantic checks: see :mod:`.base`).

Unknown keys are refused (a misspelt limit silently ignored is worse than an error).
Secrets are never inline: a field ending in ``_env`` names the environment variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import annotated_types as at

from . import limits as L
from .base import After, Before, Model
from .executor import ExecutorConfig
from .limits import Description, Name, Url, line
from .operations import MetricsConfig
from .platforms import (
    CONTENT_KINDS,
    HHMM,
    ContentKind,
    Platforms,
    check_env_name,
    normalize_platforms,
)
from .visuals import BrandConfig, ImagesConfig, TtsConfig

DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    # USD per million tokens (input, output), public list prices.
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
    "gpt-3.5-turbo": (0.50, 1.50),
}


@dataclass(kw_only=True)
class Price(Model):
    """USD per million tokens."""

    input: Annotated[float, at.Ge(0), at.Le(L.MAX_PRICE_USD)]
    output: Annotated[float, at.Ge(0), at.Le(L.MAX_PRICE_USD)]


def _model_default(value: str | dict[str, str]) -> str | dict[str, str]:
    if isinstance(value, dict) and "default" not in value:
        raise ValueError('a per-type model map needs a "default" entry')
    return value


@dataclass(kw_only=True)
class LLMConfig(Model):
    """The ``llm`` section: which OpenAI-compatible server, which models, what it may cost."""

    provider: Literal["auto", "offline", "openai"] = "auto"
    base_url: Url | None = None
    api_key_env: Annotated[str, After(check_env_name)] = "OPENAI_API_KEY"
    model: Annotated[Name | dict[Name, Name], After(_model_default)] = "gpt-4o-mini"
    timeout_s: Annotated[float, at.Gt(0), at.Le(L.MAX_LLM_TIMEOUT_S)] = 120.0
    max_retries: Annotated[int, at.Ge(0), at.Le(20)] = 3
    prices: dict[Name, Price] = field(default_factory=dict)
    daily_budget_usd: Annotated[float, at.Ge(0), at.Le(L.MAX_BUDGET_USD)] | None = None
    temperature: Annotated[float, at.Ge(0), at.Le(2)] | None = None
    structured_output: Literal["auto", "json_schema", "json_object", "text"] = "auto"

    def model_for(self, kind: str) -> str:
        """The model for a content kind: its own entry, else the default."""
        if isinstance(self.model, str):
            return self.model
        return self.model.get(kind, self.model["default"])

    def price_for(self, model: str) -> Price | None:
        """Price of ``model``: config first, then built-in defaults; None when unknown."""
        if model in self.prices:
            return self.prices[model]
        if model in DEFAULT_PRICES:
            i, o = DEFAULT_PRICES[model]
            return Price(input=i, output=o)
        return None


@dataclass(kw_only=True)
class AffiliateLink(Model):
    name: Annotated[str, line(200)]
    url: Url
    description: Description = ""
    keywords: list[Name] = field(default_factory=list)


@dataclass(kw_only=True)
class SmtpConfig(Model):
    host: Annotated[str, line(253)]
    port: Annotated[int, at.Ge(1), at.Le(65535)] = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: Name | None = None
    password_env: Annotated[str | None, After(check_env_name)] = None
    from_: Annotated[str, line(320)]
    """The sender, ``"from"`` in the file (``from`` is a Python keyword)."""
    timeout_s: Annotated[float, at.Gt(0), at.Le(L.MAX_HTTP_TIMEOUT_S)] = 30.0

    @classmethod
    def before(cls, data: Any) -> Any:
        # Accept the boolean spellings "starttls": true / "ssl": true as well.
        if isinstance(data, dict):
            data = dict(data)
            if data.pop("ssl", False) is True:
                data.setdefault("security", "ssl")
            if data.pop("starttls", None) is False:
                data.setdefault("security", "none")
            if "from" in data:
                data["from_"] = data.pop("from")
        return data


@dataclass(kw_only=True)
class NotifyWebhook(Model):
    url: Url
    secret_env: Annotated[str | None, After(check_env_name)] = None
    timeout_s: Annotated[float, at.Gt(0), at.Le(L.MAX_HTTP_TIMEOUT_S)] = 10.0


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _language(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        raise ValueError('must be a language tag such as "en", "de" or "pt-BR"')
    return value


def _hhmm(value: str) -> str:
    if not HHMM.match(value):
        raise ValueError("must be HH:MM in 24-hour time, e.g. 09:00")
    return value


def _tz(value: str | None) -> str | None:
    if value is None:
        return None
    from ..scheduling.zones import is_zone

    if not is_zone(value):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as "
            '"Europe/Berlin", "America/New_York" or "UTC"'
        )
    return value


@dataclass(kw_only=True)
class Config(Model):
    """config.json."""

    enabled: bool = True
    max_daily_content: Annotated[int, at.Ge(0), at.Le(L.MAX_DAILY_CONTENT)] = 5
    max_daily_ebooks: Annotated[int, at.Ge(0), at.Le(L.MAX_DAILY_EBOOKS)] = 2
    content_types: list[ContentKind] = field(default_factory=lambda: list(CONTENT_KINDS))
    platforms: Annotated[Platforms, Before(normalize_platforms)] = field(default_factory=dict)
    monetization_methods: list[Name] = field(
        default_factory=lambda: ["affiliate", "digital_product", "ebook_sales"]
    )
    notification_email: Annotated[str, line(320)] = ""
    log_level: Annotated[Literal["debug", "info", "warning", "error"], Before(_lower)] = "info"
    timezone: Annotated[Name | None, After(_tz)] = None
    default_time: Annotated[str, After(_hhmm)] = "09:00"
    max_concurrent_tasks: Annotated[int, at.Ge(1), at.Le(64)] = 3
    max_retries: Annotated[int, at.Ge(0), at.Le(20)] = 3
    retry_base_delay_s: Annotated[float, at.Ge(0), at.Le(L.MAX_RETRY_BASE_DELAY_S)] = 30.0
    retry_max_delay_s: Annotated[float, at.Ge(0), at.Le(L.MAX_RETRY_MAX_DELAY_S)] = 900.0
    log_retention_days: Annotated[int, at.Ge(1), at.Le(L.MAX_LOG_RETENTION_DAYS)] = 30
    shutdown_grace_s: Annotated[float, at.Ge(0), at.Le(L.MAX_SHUTDOWN_GRACE_S)] = 30.0
    auto_approve: bool = True
    auto_approve_offline: bool = False
    """Let ``auto_approve`` also send offline-provider content to publishing (for tests)."""
    max_items_per_run: Annotated[int, at.Ge(1), at.Le(L.MAX_ITEMS_PER_RUN)] | None = None
    bundle_min_ebooks: Annotated[int, at.Ge(2), at.Le(L.MAX_BUNDLE_MIN_EBOOKS)] = 2
    affiliate_links: list[AffiliateLink] = field(default_factory=list)
    affiliate_disclosure: Annotated[str, line(600)] | None = None
    """The disclosure line every affiliate article carries (default: a standard one)."""
    product_links: dict[Annotated[str, line(200)], Url] = field(default_factory=dict)
    """Where each product (an ebook's id or title, a bundle's name) is sold: promotion
    copy links to it; a product without a link is refused when its copy is made."""
    author: Annotated[str, line(200)] | None = None
    """The author ebooks name (EPUB, Markdown); a task's ``author`` overrides it."""
    publisher: Annotated[str, line(200)] | None = None
    """The publisher ebooks name (EPUB ``dc:publisher``); default: the author."""
    language: Annotated[Annotated[str, line(35)] | None, After(_language)] = None
    """The language tag content is written in (e.g. "en", "de-AT"); a task's
    ``language`` overrides it."""
    llm: LLMConfig = field(default_factory=LLMConfig)
    smtp: SmtpConfig | None = None
    notification_webhook: NotifyWebhook | None = None
    allow_commands: bool = False
    metrics: MetricsConfig | None = None
    brand: BrandConfig = field(default_factory=BrandConfig)
    images: ImagesConfig = field(default_factory=ImagesConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
