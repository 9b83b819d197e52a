"""Language-model clients: the built-in offline provider and any OpenAI-compatible server.

Executors call :meth:`LLMClient.generate` with an ``offline`` builder; the offline client
returns that builder's result, a real client asks the model for the same output model.
``openai`` is imported only when a real client is created: importing this package,
describing the provider or checking the budget never pays for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..errors import AuthError, TaskError
from ..logs.records import Usage
from .budget import calls_model, check_budget, estimate_cost, spent_today
from .provider import describe_provider, resolve_endpoint, resolve_provider, uses_model

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..config.models import LLMConfig

T = TypeVar("T", bound="BaseModel")


class LLMClient(Protocol):
    """What executors use. ``provider`` is ``"offline"`` or ``"openai"``."""

    provider: str

    @property
    def offline(self) -> bool: ...

    def generate(
        self,
        kind: str,
        messages: list[dict[str, str]],
        output: type[T],
        *,
        offline: Callable[[], T],
        max_tokens: int | None = None,
    ) -> T: ...

    def text(
        self,
        kind: str,
        messages: list[dict[str, str]],
        *,
        offline: Callable[[], str],
        max_tokens: int | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> str: ...


class OfflineClient:
    """The built-in provider: structured content from templates, no network, no cost."""

    provider = "offline"

    def __init__(self, usage: Usage | None = None) -> None:
        self.usage = usage if usage is not None else Usage()

    @property
    def offline(self) -> bool:
        return True

    def generate(
        self,
        kind: str,
        messages: list[dict[str, str]],
        output: type[T],
        *,
        offline: Callable[[], T],
        max_tokens: int | None = None,
    ) -> T:
        return offline()

    def text(
        self,
        kind: str,
        messages: list[dict[str, str]],
        *,
        offline: Callable[[], str],
        max_tokens: int | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> str:
        return offline()


def get_client(
    config: LLMConfig,
    *,
    usage: Usage | None = None,
    sleep: Callable[[float], None] | None = None,
    on_usage: Callable[[Usage], None] | None = None,
) -> LLMClient:
    """The client ``config`` selects (see :func:`resolve_provider`).

    ``auto`` means a real OpenAI-compatible server when ``llm.api_key_env`` (or
    ``OPENAI_API_KEY``) holds a key or a base URL is set (``llm.base_url`` or
    ``OPENAI_BASE_URL``); the offline provider otherwise. The real client adds every
    response's tokens and cost to ``usage`` and then calls ``on_usage`` with the new totals
    (so a run killed mid-way has its spend on record); ``sleep`` replaces the wait between
    retries.
    Raises :class:`~automation_manager.errors.AuthError` when ``llm.provider`` is
    ``"openai"`` but there is neither a key nor a base URL.
    """
    if resolve_provider(config) == "offline":
        return OfflineClient(usage)
    endpoint = resolve_endpoint(config)
    if endpoint.api_key is None and not endpoint.custom_url:
        raise AuthError(
            f'llm.provider is "openai" but no API key is set: set the environment variable '
            f"{endpoint.key_env} (named by llm.api_key_env), or llm.base_url for a local server"
        )
    from .openai_client import OpenAIClient

    if sleep is None:
        return OpenAIClient(config, usage=usage, endpoint=endpoint, on_usage=on_usage)
    return OpenAIClient(config, usage=usage, endpoint=endpoint, sleep=sleep, on_usage=on_usage)


def prewarm(config: LLMConfig) -> None:
    """Pay a real provider's start-up cost now: import ``openai`` (~0.5 s) and open its pool.

    For a daemon to call once at start (a background thread is fine), so that the first
    runs do not all wait on the import. Does nothing for the offline provider.
    """
    if not uses_model(config):
        return
    from .openai_client import prewarm as warm

    warm(resolve_endpoint(config), config.timeout_s)


def check_provider(config: LLMConfig) -> str:
    """A cheap authenticated read for ``amgr check``: list the server's models.

    Returns a one-line description; raises :class:`~automation_manager.errors.AuthError`,
    :class:`~automation_manager.errors.TaskError` (unknown model, wrong URL) or
    :class:`~automation_manager.errors.TransientError` (server down) otherwise.
    """
    described = describe_provider(config)
    client = get_client(config)
    if client.offline:
        return f"{described}: nothing to check"
    from .openai_client import OpenAIClient

    assert isinstance(client, OpenAIClient)
    available = client.models()
    models = config.model.values() if isinstance(config.model, dict) else [config.model]
    wanted = sorted(set(models))
    missing = [m for m in wanted if available and m not in available]
    if missing:
        shown = ", ".join(available[:10]) + (", ..." if len(available) > 10 else "")
        raise TaskError(
            f"the LLM server at {client.endpoint.base_url} does not serve "
            f"{', '.join(repr(m) for m in missing)}: set llm.model to one of: {shown}"
        )
    return f"{described}: ok, {len(available)} models listed"


__all__ = [
    "LLMClient",
    "OfflineClient",
    "calls_model",
    "check_budget",
    "check_provider",
    "describe_provider",
    "estimate_cost",
    "get_client",
    "prewarm",
    "resolve_provider",
    "spent_today",
    "uses_model",
]
