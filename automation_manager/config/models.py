"""pydantic models of config.json.

Unknown keys are refused (a misspelt limit silently ignored is worse than an error).
Secrets are never inline: a field ending in ``_env`` names the environment variable.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import limits as L
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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class Price(Strict):
    """USD per million tokens."""

    input: Annotated[float, Field(ge=0, le=L.MAX_PRICE_USD)]
    output: Annotated[float, Field(ge=0, le=L.MAX_PRICE_USD)]


class LLMConfig(Strict):
    """The ``llm`` section: which OpenAI-compatible server, which models, what it may cost."""

    provider: Literal["auto", "offline", "openai"] = "auto"
    base_url: Url | None = None
    api_key_env: str = "OPENAI_API_KEY"
    model: Name | dict[Name, Name] = "gpt-4o-mini"
    timeout_s: Annotated[float, Field(gt=0, le=L.MAX_LLM_TIMEOUT_S)] = 120.0
    max_retries: Annotated[int, Field(ge=0, le=20)] = 3
    prices: dict[Name, Price] = Field(default_factory=dict)
    daily_budget_usd: Annotated[float, Field(ge=0, le=L.MAX_BUDGET_USD)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    structured_output: Literal["auto", "json_schema", "json_object", "text"] = "auto"

    _check_env = field_validator("api_key_env")(check_env_name)

    @field_validator("model")
    @classmethod
    def _model_default(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(value, dict) and "default" not in value:
            raise ValueError('a per-type model map needs a "default" entry')
        return value

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


class AffiliateLink(Strict):
    name: Annotated[str, line(200)]
    url: Url
    description: Description = ""
    keywords: list[Name] = Field(default_factory=list)


class SmtpConfig(Strict):
    host: Annotated[str, line(253)]
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: Name | None = None
    password_env: str | None = None
    from_: Annotated[str, line(320)] = Field(alias="from")
    timeout_s: Annotated[float, Field(gt=0, le=L.MAX_HTTP_TIMEOUT_S)] = 30.0

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    _check_env = field_validator("password_env")(check_env_name)

    @model_validator(mode="before")
    @classmethod
    def _flags(cls, data: Any) -> Any:
        # Accept the boolean spellings "starttls": true / "ssl": true as well.
        if isinstance(data, dict):
            data = dict(data)
            if data.pop("ssl", False) is True:
                data.setdefault("security", "ssl")
            if data.pop("starttls", None) is False:
                data.setdefault("security", "none")
        return data


class NotifyWebhook(Strict):
    url: Url
    secret_env: str | None = None
    timeout_s: Annotated[float, Field(gt=0, le=L.MAX_HTTP_TIMEOUT_S)] = 10.0

    _check_env = field_validator("secret_env")(check_env_name)


class Config(Strict):
    """config.json."""

    enabled: bool = True
    max_daily_content: Annotated[int, Field(ge=0, le=L.MAX_DAILY_CONTENT)] = 5
    max_daily_ebooks: Annotated[int, Field(ge=0, le=L.MAX_DAILY_EBOOKS)] = 2
    content_types: list[ContentKind] = Field(default_factory=lambda: list(CONTENT_KINDS))
    platforms: Platforms = Field(default_factory=dict)
    monetization_methods: list[Name] = Field(
        default_factory=lambda: ["affiliate", "digital_product", "ebook_sales"]
    )
    notification_email: Annotated[str, line(320)] = ""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    timezone: Name | None = None
    default_time: str = "09:00"
    max_concurrent_tasks: Annotated[int, Field(ge=1, le=64)] = 3
    max_retries: Annotated[int, Field(ge=0, le=20)] = 3
    retry_base_delay_s: Annotated[float, Field(ge=0, le=L.MAX_RETRY_BASE_DELAY_S)] = 30.0
    retry_max_delay_s: Annotated[float, Field(ge=0, le=L.MAX_RETRY_MAX_DELAY_S)] = 900.0
    log_retention_days: Annotated[int, Field(ge=1, le=L.MAX_LOG_RETENTION_DAYS)] = 30
    shutdown_grace_s: Annotated[float, Field(ge=0, le=L.MAX_SHUTDOWN_GRACE_S)] = 30.0
    auto_approve: bool = True
    auto_approve_offline: bool = False
    """Let ``auto_approve`` also send offline-provider content to publishing (for tests)."""
    max_items_per_run: Annotated[int, Field(ge=1, le=L.MAX_ITEMS_PER_RUN)] | None = None
    bundle_min_ebooks: Annotated[int, Field(ge=2, le=L.MAX_BUNDLE_MIN_EBOOKS)] = 2
    affiliate_links: list[AffiliateLink] = Field(default_factory=list)
    affiliate_disclosure: Annotated[str, line(600)] | None = None
    """The disclosure line every affiliate article carries (default: a standard one)."""
    product_links: dict[Annotated[str, line(200)], Url] = Field(default_factory=dict)
    """Where each product (an ebook's id or title, a bundle's name) is sold: promotion
    copy links to it; a product without a link is refused when its copy is made."""
    author: Annotated[str, line(200)] | None = None
    """The author ebooks name (EPUB, Markdown); a task's ``author`` overrides it."""
    publisher: Annotated[str, line(200)] | None = None
    """The publisher ebooks name (EPUB ``dc:publisher``); default: the author."""
    language: Annotated[str, line(35)] | None = None
    """The language tag content is written in (e.g. "en", "de-AT"); a task's
    ``language`` overrides it."""
    llm: LLMConfig = Field(default_factory=LLMConfig)
    smtp: SmtpConfig | None = None
    notification_webhook: NotifyWebhook | None = None
    allow_commands: bool = False
    metrics: MetricsConfig | None = None
    brand: BrandConfig = Field(default_factory=BrandConfig)
    images: ImagesConfig = Field(default_factory=ImagesConfig)
    tts: TtsConfig = Field(default_factory=TtsConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
            raise ValueError('must be a language tag such as "en", "de" or "pt-BR"')
        return value

    @field_validator("default_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not HHMM.match(value):
            raise ValueError("must be HH:MM in 24-hour time, e.g. 09:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from ..scheduling.zones import is_zone

        if not is_zone(value):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as "
                '"Europe/Berlin", "America/New_York" or "UTC"'
            )
        return value

    @field_validator("platforms", mode="before")
    @classmethod
    def _platforms(cls, value: Any) -> Any:
        return normalize_platforms(value)
