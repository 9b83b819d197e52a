"""Language-model clients: the built-in offline provider and any OpenAI-compatible server.

Executors call :meth:`LLMClient.generate` with an ``offline`` builder; the offline client
returns that builder's result, a real client asks the model for the same output model.
``openai`` is imported only when a real client is created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from pydantic import BaseModel

from ..logs.records import Usage

if TYPE_CHECKING:
    from ..config.models import LLMConfig

T = TypeVar("T", bound=BaseModel)


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
    ) -> str:
        return offline()


def get_client(config: LLMConfig, *, usage: Usage | None = None) -> LLMClient:
    """The client the config asks for. (The OpenAI-compatible client arrives with issue 5.)"""
    return OfflineClient(usage)


__all__ = ["LLMClient", "OfflineClient", "get_client"]
