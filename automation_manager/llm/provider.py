"""Which model provider a config selects, and where it points. Never imports ``openai``.

``auto`` picks a real OpenAI-compatible server when there is something to talk to: an API
key in the environment, or a base URL (local servers such as Ollama, vLLM or llama.cpp
need no key). Otherwise the built-in offline provider keeps every command working.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config.models import LLMConfig

OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
PLACEHOLDER_KEY = "not-needed"
"""Sent to keyless local servers: the ``openai`` client insists on some key."""


@dataclass(frozen=True)
class Endpoint:
    """Where a real client connects and with which credentials.

    :param base_url: the server's OpenAI-compatible root (ends in ``/v1`` usually).
    :param api_key: the key to send, or ``None`` when none is configured.
    :param key_env: the environment variable the key came from (or should come from).
    """

    base_url: str
    api_key: str | None
    key_env: str

    @property
    def custom_url(self) -> bool:
        """True when pointed at something other than api.openai.com."""
        return self.base_url.rstrip("/") != OPENAI_URL

    def __repr__(self) -> str:
        # The key stays out of reprs, tracebacks and logs.
        key = "set" if self.api_key else "none"
        return f"Endpoint(base_url={self.base_url!r}, api_key=<{key}>, key_env={self.key_env!r})"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_endpoint(config: LLMConfig) -> Endpoint:
    """The base URL and key a real client would use, from config and environment.

    The key is read from ``llm.api_key_env``, else ``OPENAI_API_KEY``; the URL from
    ``llm.base_url``, else ``OPENAI_BASE_URL``, else OpenAI's own.
    """
    key_env = config.api_key_env
    api_key = _env(key_env)
    if api_key is None and key_env != DEFAULT_KEY_ENV:
        api_key = _env(DEFAULT_KEY_ENV)
        if api_key is not None:
            key_env = DEFAULT_KEY_ENV
    base_url = config.base_url or _env(BASE_URL_ENV) or OPENAI_URL
    return Endpoint(base_url=base_url, api_key=api_key, key_env=key_env)


def resolve_provider(config: LLMConfig) -> str:
    """``"offline"`` or ``"openai"``: what ``llm.provider`` means in this environment."""
    if config.provider != "auto":
        return config.provider
    endpoint = resolve_endpoint(config)
    if endpoint.api_key is not None or endpoint.custom_url:
        return "openai"
    return "offline"


def uses_model(config: LLMConfig) -> bool:
    """Whether runs under ``config`` call a real model (and so cost money and need a budget)."""
    return resolve_provider(config) != "offline"


def _models(config: LLMConfig) -> str:
    if isinstance(config.model, str):
        return f"model {config.model}"
    default = config.model["default"]
    others = ", ".join(f"{k}: {v}" for k, v in sorted(config.model.items()) if k != "default")
    return f"model {default}" + (f" ({others})" if others else "")


def describe_provider(config: LLMConfig) -> str:
    """One line for ``amgr status`` and ``amgr check``: which provider, where, which model.

    Never contains the key; names the variable it comes from instead.
    """
    if resolve_provider(config) == "offline":
        if config.provider == "offline":
            return "offline (built-in templates; llm.provider is set to offline)"
        return "offline (built-in templates; set OPENAI_API_KEY or llm.base_url for a real model)"
    endpoint = resolve_endpoint(config)
    if endpoint.custom_url:
        where = f"openai-compatible at {endpoint.base_url}"
    else:
        where = f"openai at {endpoint.base_url}"
    if endpoint.api_key is not None:
        key = f"key from ${endpoint.key_env}"
    elif endpoint.custom_url:
        key = "no key"
    else:
        key = f"no key: set ${endpoint.key_env}"
    return f"{where}, {_models(config)} ({key})"
