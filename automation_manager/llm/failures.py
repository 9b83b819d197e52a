"""What an ``openai`` exception means for a run: retry it, fix a setting, or give up.

Every message names the setting to change and never carries the key: server messages
are masked before they are quoted, and the original exception (whose request holds the
``Authorization`` header) is not chained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import openai

from ..errors import AmgrError, AuthError, TaskError, TransientError
from .provider import PLACEHOLDER_KEY, Endpoint
from .retry import parse_retry_after
from .structured import is_format_refusal

_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_*\-]{3})[A-Za-z0-9_*\-]+")


@dataclass(frozen=True)
class Failure:
    """One failed call, classified.

    :param error: what to raise if this is the last word.
    :param retryable: worth another attempt (429, 5xx, timeout, connection).
    :param retry_after: seconds the server asked for, when it said.
    :param format_refusal: a 4xx that refuses the requested ``response_format``.
    :param status: the HTTP status, when there was an answer.
    """

    error: AmgrError
    retryable: bool = False
    retry_after: float | None = None
    format_refusal: bool = False
    status: int | None = None


def scrub(text: str, endpoint: Endpoint) -> str:
    """``text`` with the key, and anything that looks like an OpenAI key, masked."""
    if endpoint.api_key and len(endpoint.api_key) >= 4:
        text = text.replace(endpoint.api_key, "***")
    return _KEYLIKE.sub(r"\1***", text)


def server_message(exc: openai.APIError, endpoint: Endpoint, limit: int = 300) -> str:
    """The server's own explanation (``error.message`` of the body), masked and shortened."""
    message: object = None
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    text = str(message) if message else exc.message
    text = " ".join(scrub(text, endpoint).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _auth(status: int, endpoint: Endpoint, model: str) -> AuthError:
    where = f"the LLM server at {endpoint.base_url}"
    env = endpoint.key_env
    if endpoint.api_key in (None, PLACEHOLDER_KEY):
        return AuthError(
            f"{where} requires an API key ({status}): set the environment variable {env} "
            "(its name is llm.api_key_env)"
        )
    if status == 403:
        return AuthError(
            f"{where} refused the API key for model {model!r} (403): check that the key in "
            f"the environment variable {env} (named by llm.api_key_env) may use llm.model"
        )
    return AuthError(
        f"{where} refused the API key ({status}): check the environment variable {env} "
        "named by llm.api_key_env"
    )


def not_json(endpoint: Endpoint) -> Failure:
    """A 200 answer that is not JSON: usually a base URL that points at a web page."""
    return Failure(
        TaskError(
            f"the LLM server at {endpoint.base_url} did not answer with JSON: is llm.base_url "
            "the root of its OpenAI-compatible API (usually ending in /v1)?"
        )
    )


def classify(
    exc: openai.OpenAIError, *, endpoint: Endpoint, model: str, timeout_s: float
) -> Failure:
    """Turn an ``openai`` exception into a :class:`Failure` with a user-facing error."""
    where = f"the LLM server at {endpoint.base_url}"
    if isinstance(exc, openai.APITimeoutError):
        return Failure(
            TransientError(
                f"{where} did not answer within {timeout_s:g} s (llm.timeout_s); "
                "a slow local model may need a larger llm.timeout_s"
            ),
            retryable=True,
        )
    if isinstance(exc, openai.APIConnectionError):
        return Failure(
            TransientError(
                f"could not connect to {where}: is it running, and is llm.base_url "
                "(or OPENAI_BASE_URL) right?"
            ),
            retryable=True,
        )
    if not isinstance(exc, openai.APIStatusError):
        detail = scrub(str(exc), endpoint)
        return Failure(TaskError(f"{where} gave an unusable answer: {detail}"))
    status = exc.status_code
    detail = server_message(exc, endpoint)
    code = (exc.code or "").lower()
    if status in (401, 403):
        return Failure(_auth(status, endpoint, model), status=status)
    if status == 429:
        if code == "insufficient_quota" or "quota" in detail.lower():
            return Failure(
                TaskError(
                    f"{where} says the account has no quota left (429): check the plan and "
                    f"billing of the key in {endpoint.key_env}; {detail}"
                ),
                status=status,
            )
        retry_after = parse_retry_after(exc.response.headers.get("retry-after"))
        return Failure(
            TransientError(f"{where} is rate limiting requests (429): {detail}", retry_after),
            retryable=True,
            retry_after=retry_after,
            status=status,
        )
    if status >= 500 or status in (408, 409):
        if is_format_refusal(status, detail):
            return Failure(
                TaskError(f"{where} failed ({status}): {detail}"),
                format_refusal=True,
                status=status,
            )
        return Failure(
            TransientError(f"{where} failed ({status}): {detail}"),
            retryable=True,
            status=status,
        )
    if status == 404:
        if code == "model_not_found" or "model" in detail.lower():
            return Failure(
                TaskError(
                    f"{where} has no model {model!r} (404): set llm.model to a model it serves "
                    f"(`amgr check` lists them); {detail}"
                ),
                status=status,
            )
        return Failure(
            TaskError(
                f"{where} answered 404 for /chat/completions: check llm.base_url "
                "(OpenAI-compatible servers usually end in /v1)"
            ),
            status=status,
        )
    return Failure(
        TaskError(f"{where} rejected the request ({status}): {detail}"),
        format_refusal=is_format_refusal(status, detail),
        status=status,
    )
