"""Structured output: asking for JSON in the strongest way a server accepts, and reading it back.

Three modes, strongest first: ``json_schema`` (the server constrains output to the
schema), ``json_object`` (the server guarantees JSON; the schema travels in the prompt),
``text`` (nothing guaranteed; the schema is in the prompt and the first JSON object in
the reply is taken). Whatever the mode, the result is validated with pydantic.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)
Mode = Literal["json_schema", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "text")

SCHEMA_MARKER = "JSON schema:"
"""Precedes the schema in prompts (the test server reads it back to answer in kind)."""

_REFUSAL_WORDS = ("response_format", "json_schema", "json_object", "structured", "schema")
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)


def schema_name(output: type[BaseModel]) -> str:
    """A ``json_schema.name`` the API accepts: ``[A-Za-z0-9_-]{1,64}``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", output.__name__)[:64] or "output"


@lru_cache(maxsize=64)
def _schema_text(output: type[BaseModel]) -> str:
    return json.dumps(output.model_json_schema())


def json_schema(output: type[BaseModel]) -> dict[str, Any]:
    """``output``'s JSON schema, made once per model (a few ms each time otherwise); a
    fresh copy each call, so a caller may change it."""
    schema: dict[str, Any] = json.loads(_schema_text(output))
    return schema


def response_format(mode: Mode, output: type[BaseModel]) -> dict[str, Any] | None:
    """The ``response_format`` request field for ``mode`` (``None`` for plain text)."""
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {
                "name": schema_name(output),
                "schema": json_schema(output),
                "strict": False,
            },
        }
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def instruction(mode: Mode, output: type[BaseModel]) -> str:
    """What the system prompt adds so the model answers with the right JSON object."""
    if mode == "json_schema":
        return "Reply with a single JSON object that follows the response schema."
    schema = json.dumps(json_schema(output), separators=(",", ":"))
    return (
        "Reply with a single JSON object and nothing else: no prose, no Markdown fences. "
        f"It must follow this {SCHEMA_MARKER}\n{schema}"
    )


def with_instruction(
    messages: list[dict[str, str]], mode: Mode, output: type[BaseModel]
) -> list[dict[str, str]]:
    """``messages`` with the JSON instruction appended to the system message (or a new one)."""
    extra = instruction(mode, output)
    out = [dict(m) for m in messages]
    for message in out:
        if message.get("role") == "system":
            message["content"] = f"{message.get('content', '')}\n\n{extra}".strip()
            return out
    return [{"role": "system", "content": extra}, *out]


def is_format_refusal(status: int, message: str) -> bool:
    """Whether an error answer means "this server does not do that response_format"."""
    if status not in (400, 404, 415, 422, 500, 501):
        return False
    text = message.lower()
    return any(word in text for word in _REFUSAL_WORDS)


def extract_json(text: str) -> str:
    """The JSON object inside a reply: the whole text, a fenced block, or the outermost
    ``{...}``. Returns the text unchanged when nothing better is found (so the parse
    error names what came back)."""
    stripped = text.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        return stripped
    fenced = _FENCE.search(stripped)
    if fenced and fenced.group(1).strip().startswith("{"):
        return fenced.group(1).strip()
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        return stripped[start : end + 1]
    return stripped


def parse(text: str, output: type[T]) -> T:
    """Validate a reply as ``output``; raises :class:`OutputInvalid` with a short reason."""
    candidate = extract_json(text)
    if not candidate:
        raise OutputInvalid("the reply was empty")
    try:
        return output.model_validate_json(candidate)
    except ValidationError as exc:
        raise OutputInvalid(summarize(exc)) from None


def summarize(exc: ValidationError, limit: int = 5) -> str:
    """A compact, model-readable account of what failed validation."""
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


class OutputInvalid(ValueError):
    """The model's reply is not valid JSON for the requested output model."""


def reask(messages: list[dict[str, str]], reason: str) -> list[dict[str, str]]:
    """``messages`` plus a user turn saying why the last answer missed the request.

    Used once per call when an answer is valid JSON but ignores a count or a length
    (:mod:`automation_manager.content.checks`).
    """
    note = (
        f"Your previous answer did not meet the request: {reason}. Write the whole answer "
        "again so that it meets every requirement above."
    )
    return [*[dict(m) for m in messages], {"role": "user", "content": note}]
