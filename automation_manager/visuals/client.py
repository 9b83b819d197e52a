"""The ``openai`` client for the images and speech endpoints, and what their errors mean.

The server and key default to the ``llm`` section's (``llm.base_url``, ``OPENAI_API_KEY``);
``images.base_url`` / ``tts.base_url`` and ``*.api_key_env`` point elsewhere. Retries
are ours (the client's own are off), with the one backoff.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ..errors import AmgrError, TaskError, TransientError
from .errors import VisualsError

if TYPE_CHECKING:
    import openai

    from ..config.models import Config
    from ..llm.provider import Endpoint

R = TypeVar("R")
_REFUSAL_CODES = ("content_policy_violation", "moderation_blocked", "safety")


def endpoint_for(config: Config, base_url: str | None, key_env: str | None) -> Endpoint:
    """Where the images or speech calls go, and with which key."""
    from ..llm.provider import Endpoint, resolve_endpoint

    base = resolve_endpoint(config.llm)
    if key_env:
        from ..secrets import REGISTRY

        key = os.environ.get(key_env, "").strip() or None
        if key:
            REGISTRY.register(key)
        base = Endpoint(base.base_url, key, key_env)
    return Endpoint(base_url or base.base_url, base.api_key, base.key_env)


def openai_client(
    config: Config, base_url: str | None, key_env: str | None, timeout_s: float
) -> openai.OpenAI:
    import openai

    from ..llm.provider import PLACEHOLDER_KEY

    where = endpoint_for(config, base_url, key_env)
    return openai.OpenAI(
        base_url=where.base_url,
        api_key=where.api_key or PLACEHOLDER_KEY,
        timeout=timeout_s,
        max_retries=0,
    )


def translate(exc: Exception, section: str, model: str, where: Endpoint) -> AmgrError:
    """An ``openai`` exception as our error: a refusal or bad size names the setting."""
    import openai

    if isinstance(exc, openai.APIStatusError) and exc.status_code == 400:
        body = exc.body if isinstance(exc.body, dict) else {}
        inner = body.get("error", body) if isinstance(body, dict) else {}
        code = str((inner or {}).get("code") or "").lower()
        param = str((inner or {}).get("param") or "").lower()
        message = str((inner or {}).get("message") or exc.message)[:300]
        from ..secrets import REGISTRY

        message = REGISTRY.mask(message)
        if any(c in code for c in _REFUSAL_CODES) or "safety" in message.lower():
            return VisualsError(
                f"config.json: {section}.model",
                f"{model} refused the prompt ({message})",
                "the item keeps its text; edit its title or run "
                "`amgr content regenerate ID` with another model",
            )
        if param == "size" or "size" in message.lower():
            return VisualsError(
                f"config.json: {section}.size",
                f"{model} does not support this size ({message})",
                "use a size the model lists, e.g. 1024x1024, 1536x1024 or auto",
            )
        return VisualsError(f"config.json: {section}.model", message, "check the model and options")
    if isinstance(exc, openai.OpenAIError):
        from ..llm.failures import classify

        return classify(exc, endpoint=where, model=model, timeout_s=0).error
    return TaskError(f"{section}: {exc}")


def with_retries(
    send: Callable[[], R],
    *,
    section: str,
    model: str,
    where: Endpoint,
    retries: int,
    sleep: Callable[[float], None] = time.sleep,
) -> R:
    """``send()``, retried on 429/5xx/timeouts with the one backoff; others raise at once."""
    from ..llm.retry import Backoff

    backoff = Backoff()
    attempt = 0
    while True:
        try:
            return send()
        except Exception as exc:
            error = translate(exc, section, model, where)
            if not isinstance(error, TransientError) or attempt >= retries:
                raise error from None
            attempt += 1
            wait = backoff.delay(attempt, retry_after=error.retry_after)
            if wait > backoff.retry_after_cap_s:
                raise error from None
            sleep(wait)
