"""The client for OpenAI and any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio).

Importing this module imports ``openai``; :func:`automation_manager.llm.get_client` does so
only when a real provider is selected. Retries are ours (the ``openai`` client's own are
off) so that every wait is visible, injectable and bounded by ``llm.max_retries``.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import openai
from pydantic import BaseModel

from ..errors import TaskError, TransientError
from ..logs.records import Usage
from .failures import Failure, classify, not_json, scrub
from .provider import PLACEHOLDER_KEY, Endpoint, resolve_endpoint
from .retry import Backoff
from .structured import MODES, Mode, OutputInvalid, parse, response_format, with_instruction

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

    from ..config.models import LLMConfig

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")

_modes_lock = threading.Lock()
_working_mode: dict[tuple[str, str], Mode] = {}
"""The strongest structured-output mode each (server, model) accepted, for this process."""


_clients_lock = threading.Lock()
_clients: dict[tuple[str, str, float], openai.OpenAI] = {}


def _shared_client(endpoint: Endpoint, timeout_s: float) -> openai.OpenAI:
    """One ``openai.OpenAI`` (one connection pool) per server, key and timeout.

    Runs create a client each; building an ``openai.OpenAI`` costs ~25 ms (TLS context)
    and a fresh pool reconnects, so concurrent runs share one. It is thread-safe.
    """
    key = endpoint.api_key or PLACEHOLDER_KEY
    with _clients_lock:
        client = _clients.get((endpoint.base_url, key, timeout_s))
        if client is None:
            client = openai.OpenAI(
                base_url=endpoint.base_url, api_key=key, timeout=timeout_s, max_retries=0
            )
            _clients[(endpoint.base_url, key, timeout_s)] = client
        return client


def prewarm(endpoint: Endpoint, timeout_s: float) -> None:
    """Build the shared client for ``endpoint`` now (``openai`` is imported by then),
    and load the chat-completions resource, which ``openai`` imports on first use
    (~0.1 s that the first runs would otherwise all wait on)."""
    _ = _shared_client(endpoint, timeout_s).chat.completions


class _FormatRefused(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(str(failure.error))
        self.failure = failure


class OpenAIClient:
    """A real model behind the OpenAI chat-completions API.

    :param config: the ``llm`` section.
    :param usage: tokens and cost of every response are added to this object.
    :param endpoint: where to connect (default: from config and environment).
    :param sleep: how to wait between retries (tests pass a recorder).
    :param rng: jitter source, ``[0, 1)``.
    """

    provider = "openai"

    def __init__(
        self,
        config: LLMConfig,
        *,
        usage: Usage | None = None,
        endpoint: Endpoint | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        backoff: Backoff | None = None,
        on_usage: Callable[[Usage], None] | None = None,
    ) -> None:
        self.config = config
        self.usage = usage if usage is not None else Usage()
        self._on_usage = on_usage
        self.endpoint = endpoint or resolve_endpoint(config)
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self._rng = rng
        self._lock = threading.Lock()
        self._max_tokens_field = "max_tokens"
        self._client = _shared_client(self.endpoint, config.timeout_s)

    def __repr__(self) -> str:
        return f"OpenAIClient({self.endpoint!r})"

    @property
    def offline(self) -> bool:
        """Always False: this client calls a model."""
        return False

    # -- the LLMClient protocol ------------------------------------------------------

    def generate(
        self,
        kind: str,
        messages: list[dict[str, str]],
        output: type[T],
        *,
        offline: Callable[[], T],
        max_tokens: int | None = None,
    ) -> T:
        """Ask the model for an ``output`` object, in the strongest JSON mode the server takes.

        Raises :class:`~automation_manager.errors.TaskError` when the reply is still invalid
        after one corrective retry, or when the server refuses every mode.
        """
        model = self.config.model_for(kind)
        modes = self._modes(model)
        refused: list[str] = []
        for mode in modes:
            try:
                result = self._generate_in(mode, kind, model, messages, output, max_tokens)
            except _FormatRefused as exc:
                refused.append(f"{mode}: {exc.failure.error}")
                continue
            if self.config.structured_output == "auto":
                with _modes_lock:
                    _working_mode[(self.endpoint.base_url, model)] = mode
            return result
        raise TaskError(
            f"the LLM server at {self.endpoint.base_url} refused structured output for model "
            f"{model!r} (llm.structured_output is {self.config.structured_output!r}; try "
            f'"text"): ' + " | ".join(refused)
        )

    def text(
        self,
        kind: str,
        messages: list[dict[str, str]],
        *,
        offline: Callable[[], str],
        max_tokens: int | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> str:
        """A plain completion. With ``on_delta`` the reply is streamed and each piece of
        text is passed to it as it arrives (for a progress display)."""
        model = self.config.model_for(kind)
        if on_delta is not None:
            return self._with_retries(
                model, lambda: self._stream(model, messages, max_tokens, on_delta)
            )
        completion = self._complete(model, messages, max_tokens, None)
        content, _ = self._content(completion, kind, model)
        if not content.strip():
            raise TaskError(f"the model {model!r} returned an empty {kind}")
        return content.strip()

    # -- checks ----------------------------------------------------------------------

    def models(self) -> list[str]:
        """The model ids the server lists (a cheap authenticated read for ``amgr check``)."""
        model = self.config.model_for("default")
        page = self._with_retries(model, lambda: self._client.models.list())
        return sorted(m.id for m in page.data)

    # -- internals -------------------------------------------------------------------

    def _modes(self, model: str) -> tuple[Mode, ...]:
        if self.config.structured_output != "auto":
            return (self.config.structured_output,)
        with _modes_lock:
            known = _working_mode.get((self.endpoint.base_url, model))
        return MODES[MODES.index(known) :] if known else MODES

    def _generate_in(
        self,
        mode: Mode,
        kind: str,
        model: str,
        messages: list[dict[str, str]],
        output: type[T],
        max_tokens: int | None,
    ) -> T:
        prompt = with_instruction(messages, mode, output)
        fmt = response_format(mode, output)
        content, _ = self._content(self._complete(model, prompt, max_tokens, fmt), kind, model)
        try:
            return parse(content, output)
        except OutputInvalid as first:
            retry = [
                *prompt,
                {"role": "assistant", "content": content},
                {
                    "role": "user",
                    "content": f"That reply could not be used: {first}. Reply again with only "
                    "the corrected JSON object.",
                },
            ]
        content, finish = self._content(self._complete(model, retry, max_tokens, fmt), kind, model)
        try:
            return parse(content, output)
        except OutputInvalid as second:
            hint = ""
            if finish == "length":
                hint = " (the reply was cut off: the output limit was reached)"
            raise TaskError(
                f"the model {model!r} did not return a valid {kind} ({output.__name__}) after "
                f"2 attempts{hint}: {scrub(str(second), self.endpoint)}"
            ) from None

    def _complete(
        self,
        model: str,
        messages: list[dict[str, str]],
        max_tokens: int | None,
        fmt: dict[str, Any] | None,
    ) -> ChatCompletion:
        def send() -> ChatCompletion:
            kwargs = self._request(model, messages, max_tokens)
            if fmt is not None:
                kwargs["response_format"] = fmt
            create: Callable[..., ChatCompletion] = self._client.chat.completions.create
            return create(**kwargs)

        completion = self._with_retries(model, send, refusable=fmt is not None)
        usage = completion.usage
        self._add_usage(
            model,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )
        return completion

    def _stream(
        self,
        model: str,
        messages: list[dict[str, str]],
        max_tokens: int | None,
        on_delta: Callable[[str], None],
    ) -> str:
        kwargs = self._request(model, messages, max_tokens)
        kwargs.update(stream=True, stream_options={"include_usage": True})
        create: Callable[..., Iterator[Any]] = self._client.chat.completions.create
        parts: list[str] = []
        prompt_tokens = completion_tokens = 0
        for chunk in create(**kwargs):
            if chunk.usage is not None:
                prompt_tokens = chunk.usage.prompt_tokens
                completion_tokens = chunk.usage.completion_tokens
            for choice in chunk.choices:
                piece = choice.delta.content
                if piece:
                    parts.append(piece)
                    on_delta(piece)
        self._add_usage(model, prompt_tokens, completion_tokens)
        return "".join(parts).strip()

    def _request(
        self, model: str, messages: list[dict[str, str]], max_tokens: int | None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": model, "messages": messages}
        if max_tokens is not None:
            kwargs[self._max_tokens_field] = max_tokens
        if self.config.temperature is not None:
            kwargs["temperature"] = self.config.temperature
        return kwargs

    def _with_retries(self, model: str, send: Callable[[], R], *, refusable: bool = False) -> R:
        attempt = 0
        while True:
            try:
                return send()
            except openai.OpenAIError as exc:
                failure = classify(
                    exc, endpoint=self.endpoint, model=model, timeout_s=self.config.timeout_s
                )
            except json.JSONDecodeError:
                failure = not_json(self.endpoint)
            if self._switch_max_tokens(failure):
                continue
            if refusable and failure.format_refusal:
                raise _FormatRefused(failure)
            attempt += 1
            if not failure.retryable or attempt > self.config.max_retries:
                if failure.retryable and self.config.max_retries:
                    raise TransientError(
                        f"{failure.error} (gave up after {attempt} attempts; llm.max_retries "
                        f"is {self.config.max_retries})",
                        failure.retry_after,
                    ) from None
                raise failure.error from None
            delay = failure.retry_after
            if delay is None:
                delay = self.backoff.delay(attempt, self._rng)
            elif delay > self.backoff.retry_after_cap_s:
                raise failure.error from None
            self._sleep(delay)

    def _switch_max_tokens(self, failure: Failure) -> bool:
        # Newer OpenAI models refuse "max_tokens" and want "max_completion_tokens".
        if (
            failure.status == 400
            and self._max_tokens_field == "max_tokens"
            and "max_completion_tokens" in str(failure.error)
        ):
            self._max_tokens_field = "max_completion_tokens"
            return True
        return False

    def _content(self, completion: ChatCompletion, kind: str, model: str) -> tuple[str, str]:
        if not completion.choices:
            return "", "empty"
        choice = completion.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise TaskError(
                f"the model {model!r} declined to write the {kind}: "
                f"{scrub(str(refusal), self.endpoint)}"
            )
        return choice.message.content or "", str(choice.finish_reason or "")

    def _add_usage(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        price = self.config.price_for(model)
        cost = 0.0
        if price is not None:
            cost = (prompt_tokens * price.input + completion_tokens * price.output) / 1_000_000
        with self._lock:
            self.usage.prompt_tokens += prompt_tokens
            self.usage.completion_tokens += completion_tokens
            self.usage.calls += 1
            self.usage.cost_usd = round(self.usage.cost_usd + cost, 8)
            snapshot = self.usage.copy()
        if self._on_usage is not None:
            self._on_usage(snapshot)
