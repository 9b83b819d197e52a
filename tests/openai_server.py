"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benches.

It speaks just enough of the API for the real ``openai`` client: ``POST
/v1/chat/completions`` (plain and streaming SSE), ``GET /v1/models``, and ``POST
/v1/images/generations`` (a small real PNG, base64) and ``/v1/audio/speech`` (a real WAV
of about 2.5 words a second), scripted with :meth:`FakeOpenAI.push_media`
(:func:`image_refused`, :func:`image_bad_size`, :func:`rate_limited`). Answers are
scripted: queue replies with :meth:`FakeOpenAI.push` (429 with ``Retry-After``, 5xx, 401,
404 ``model_not_found``, slow, malformed, a refused ``response_format``); anything not
scripted gets a valid answer, built from the requested JSON schema when there is one.
Every request is recorded for assertions.

    with FakeOpenAI(delay=1.0) as server:
        config = LLMConfig(base_url=server.url)
        ...
        assert server.requests[0].body["model"] == "gpt-4o-mini"
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import struct
import threading
import time
import wave
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Responder = Callable[[dict[str, Any]], str]
"""Builds the reply text for a request body."""

SCHEMA_MARKER = "JSON schema:"  # what automation_manager.llm.structured puts before a schema


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names in lower case."""
    body: dict[str, Any] | None
    at: float = field(default_factory=time.time)
    """When it arrived (``time.time()``)."""

    @property
    def response_format(self) -> str | None:
        fmt = (self.body or {}).get("response_format")
        return fmt.get("type") if isinstance(fmt, dict) else None


@dataclass
class Reply:
    """One scripted answer: a non-200 ``status`` sends ``body`` (an OpenAI-style error)
    with ``headers``; a 200 sends ``raw`` bytes as they are, else a completion with
    ``content`` (or the default answer when ``content`` is None), after ``delay`` s."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content: str | None = None
    finish_reason: str = "stop"
    raw: bytes | None = None


def _error(status: int, message: str, code: str | None = None, param: str | None = None) -> Reply:
    err = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return Reply(status=status, body={"error": err})


def rate_limited(retry_after: float | str | None = 1) -> Reply:
    """429 with an optional ``Retry-After`` header (seconds)."""
    reply = _error(429, "Rate limit reached for requests", "rate_limit_exceeded")
    if retry_after is not None:
        reply.headers["Retry-After"] = str(retry_after)
    return reply


def server_error(status: int = 500) -> Reply:
    """A 5xx answer."""
    return _error(status, "The server had an error while processing your request.")


def unauthorized(echo_key: str | None = None) -> Reply:
    """401 like OpenAI's; ``echo_key`` puts a (leaky) copy of the key in the message."""
    shown = echo_key or "sk-abc***xyz"
    return _error(401, f"Incorrect API key provided: {shown}.", "invalid_api_key")


def forbidden() -> Reply:
    """403: the key may not use this model or project."""
    return _error(403, "You are not allowed to sample from this model", "model_not_allowed")


def model_not_found(model: str = "no-such-model") -> Reply:
    """404 ``model_not_found``."""
    return _error(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        "model_not_found",
    )


def refuse_response_format(kind: str = "json_schema") -> Reply:
    """400 refusing a ``response_format`` type, as servers without support answer."""
    return _error(
        400,
        f"response_format type '{kind}' is not supported by this server",
        None,
        "response_format",
    )


def content(text: str, *, delay: float = 0.0, finish_reason: str = "stop") -> Reply:
    """A successful completion with exactly ``text``."""
    return Reply(content=text, delay=delay, finish_reason=finish_reason)


def slow(delay: float, text: str | None = None) -> Reply:
    """A successful answer after ``delay`` seconds (the default answer when ``text`` is None)."""
    return Reply(content=text, delay=delay)


def malformed(text: str = '{"title": "unfinished') -> Reply:
    """A completion whose content is not the requested JSON."""
    return content(text)


# -- building valid JSON from a schema ------------------------------------------------


def sample(schema: dict[str, Any], defs: dict[str, Any] | None = None, name: str = "x") -> Any:
    """A value that validates against ``schema`` (the subset pydantic emits)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return sample(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return sample(options[0], defs, name)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: sample(sub, defs, key) for key, sub in props.items()}
    if kind == "array":
        count = max(schema.get("minItems", 1), 1)
        count = min(count, schema.get("maxItems", count))
        return [sample(schema.get("items", {}), defs, name) for _ in range(count)]
    if kind == "string":
        text = f"Sample {name} text"
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        while len(text) < low:
            text += " more words"
        return text[:high] if high else text
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), int(schema.get("exclusiveMinimum", 0)) + 1)
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    return None


def schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    """The schema a request asks for: ``response_format`` or the prompt's schema marker."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema: dict[str, Any] = fmt["json_schema"]["schema"]
        return schema
    for message in body.get("messages", []):
        text = message.get("content") or ""
        at = text.find(SCHEMA_MARKER) if isinstance(text, str) else -1
        if at >= 0:
            found = text[at + len(SCHEMA_MARKER) :].strip()
            try:
                parsed, _ = json.JSONDecoder().raw_decode(found)
            except ValueError:
                continue
            return parsed if isinstance(parsed, dict) else None
    return None


def default_responder(body: dict[str, Any]) -> str:
    """Valid JSON for the requested schema, or a short plain-text answer. amgr's content
    requests get an answer that meets the request (:func:`fitting_answer`)."""
    fitting = fitting_answer(body)
    if fitting is not None:
        return fitting
    schema = schema_of(body)
    if schema is not None:
        return json.dumps(sample(schema))
    return "A plain answer from the fake OpenAI server."


# -- content answers: ones that meet the request, and the bad-answer modes -------------


def _prompt(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content") or "") for m in body.get("messages", []))


def _number(pattern: str, text: str, default: int) -> int:
    found = re.search(pattern, text, re.IGNORECASE)
    return int(found.group(1)) if found else default


VOCABULARY = [
    "river",
    "garden",
    "lamp",
    "window",
    "morning",
    "letter",
    "engine",
    "harbor",
    "pencil",
    "meadow",
    "kitchen",
    "ladder",
    "compass",
    "lantern",
    "orchard",
    "bridge",
    "candle",
    "valley",
    "anchor",
    "blanket",
    "market",
    "mirror",
    "saddle",
    "thunder",
    "velvet",
    "whistle",
    "basket",
    "castle",
    "feather",
    "island",
    "jacket",
    "kettle",
    "marble",
    "needle",
    "pepper",
    "quilt",
    "rocket",
    "silver",
    "tunnel",
    "umbrella",
    "violin",
    "wagon",
    "yarn",
    "zipper",
]


def prose(words: int, seed: str = "point") -> str:
    """About ``words`` words of plain sentences (eight words each), different for each
    ``seed``, so two answers to different prompts are not near-duplicates."""
    import hashlib
    import random

    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    out = []
    for _ in range(max(1, words // 8)):
        a, b, c, d = (rng.choice(VOCABULARY) for _ in range(4))
        out.append(f"The {a} and the {b} meet {c} {d}.")
    return " ".join(out)


def outline_json(chapters: int) -> str:
    """An ebook outline with ``chapters`` chapters."""
    return json.dumps(
        {
            "title": "A Model-Written Book",
            "subtitle": "For the fake server's readers",
            "description": "A book from the fake server.",
            "chapters": [
                {"title": f"Part {i}", "summary": f"What part {i} covers.", "key_points": ["a"]}
                for i in range(1, chapters + 1)
            ],
        }
    )


def blog_json(words: int, sections: int = 3, seed: str = "") -> str:
    """A blog post of about ``words`` words in ``sections`` sections."""
    each = max(8, words // (sections + 2))
    return json.dumps(
        {
            "title": "A model-written post",
            "meta_description": "What the post covers.",
            "tags": ["model", "post"],
            "intro": [prose(each, seed + "intro")],
            "sections": [
                {"heading": f"Section {i}", "paragraphs": [prose(each, f"{seed}section {i}")]}
                for i in range(1, sections + 1)
            ],
            "conclusion": prose(each, seed + "conclusion"),
        }
    )


def social_json(length: int, posts: int = 1) -> str:
    """A social answer of ``posts`` posts of ``length`` characters each."""
    text = ("Useful idea. " * (length // 13 + 1))[:length].strip()
    return json.dumps({"posts": [text] * posts, "hashtags": ["#model"]})


def shorts_json(words: int, seed: str = "") -> str:
    """A shorts script whose spoken words add up to about ``words``."""
    beat = max(4, (words - 12) // 3)
    return json.dumps(
        {
            "title": "A model-written short",
            "hook": "Here is the one thing you need to know.",
            "hook_visual": "Close-up",
            "beats": [
                {
                    "voiceover": prose(beat, f"{seed}beat {i}"),
                    "on_screen_text": f"Beat {i}",
                    "visual": "B-roll",
                    "duration_s": 5,
                }
                for i in range(1, 4)
            ],
            "call_to_action": "Follow for more.",
            "description": "A short from the fake server.",
            "hashtags": ["#model"],
        }
    )


def fitting_answer(body: dict[str, Any]) -> str | None:
    """An answer that meets one of amgr's content requests, or ``None`` for other requests."""
    schema = schema_of(body) or {}
    title = schema.get("title")
    text = _prompt(body)
    if title == "EbookOutline":
        return outline_json(_number(r"exactly (\d+) chapters", text, 5))
    if title == "BlogPost":
        return blog_json(_number(r"article of about (\d+) words", text, 1200), seed=text)
    if title == "SocialPost":
        return social_json(_number(r"at most (\d+) characters", text, 200) // 2)
    if title == "ShortsScript":
        return shorts_json(int(_number(r"(\d+)-second", text, 45) * 2.6), seed=text)
    if not schema and "Write chapter" in text:
        return prose(_number(r"About (\d+) words", text, 1200), text)
    return None


def _tokens(text: str) -> int:
    return max(1, len(re.findall(r"\S+", text)))


# -- the server -----------------------------------------------------------------------


class FakeOpenAI:
    """The server. Start with ``with FakeOpenAI() as s:`` or :meth:`start`/:meth:`stop`.

    :param delay: seconds every chat completion waits before answering.
    :param models: ids listed by ``GET /v1/models``.
    :param supports: ``response_format`` types accepted; others get a 400 refusal.
    """

    def __init__(
        self,
        *,
        delay: float = 0.0,
        models: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "llama3.1"),
        supports: tuple[str, ...] = ("json_schema", "json_object", "text"),
    ) -> None:
        self.delay = delay
        self.models = list(models)
        self.supports = set(supports)
        self.responders: dict[str, Responder] = {}
        self.usage: tuple[int, int] | None = None
        self.requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self._media_script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # control

    @property
    def url(self) -> str:
        """The base URL to give the client (ends in ``/v1``)."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def push(self, *replies: Reply) -> None:
        """Queue scripted replies; each chat completion takes the next one, if any."""
        with self._lock:
            self._script.extend(replies)

    def push_media(self, *replies: Reply) -> None:
        """Queue scripted replies for ``/images/generations`` and ``/audio/speech``."""
        with self._lock:
            self._media_script.extend(replies)

    def media_requests(self, kind: str = "") -> list[Recorded]:
        """The images and speech requests received so far (``kind``: a path part)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.endswith(("/images/generations", "/audio/speech")) and kind in r.path
            ]

    def chat_requests(self) -> list[Recorded]:
        """The chat-completion requests received so far."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        """Listen on 127.0.0.1 on a free port, serving from a background thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut any delayed answers short."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # answering

    def _next(self) -> Reply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _completion_text(self, body: dict[str, Any]) -> str:
        responder = self.responders.get(str(body.get("model")), default_responder)
        return responder(body)

    def _usage(self, body: dict[str, Any], text: str) -> dict[str, int]:
        if self.usage is not None:
            prompt, completion = self.usage
        else:
            prompt = sum(_tokens(str(m.get("content") or "")) for m in body.get("messages", []))
            completion = _tokens(text)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs of a burst: a 1 s client stall


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers + body cost a 40 ms delayed ACK

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self._send(status, data, "application/json", headers)

    def _send(
        self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _read_body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def do_GET(self) -> None:
        self.fake._record(Recorded("GET", self.path, self._headers(), None))
        if self.path.rstrip("/").endswith("/models"):
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                for m in self.fake.models
            ]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        body = self._read_body()
        self.fake._record(Recorded("POST", self.path, self._headers(), body))
        if self.path.rstrip("/").endswith(("/images/generations", "/audio/speech")):
            self._media(body or {})
            return
        if not self.path.rstrip("/").endswith("/chat/completions") or body is None:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        reply = self.fake._next()
        self.fake._wait(self.fake.delay + (reply.delay if reply else 0.0))
        if reply is not None and reply.status != 200:
            self._send_json(reply.status, reply.body, reply.headers)
            return
        fmt = (body.get("response_format") or {}).get("type")
        if fmt and fmt not in self.fake.supports:
            bad = refuse_response_format(fmt)
            self._send_json(bad.status, bad.body)
            return
        if reply is not None and reply.raw is not None:
            self._send(200, reply.raw, "application/json")
            return
        text = reply.content if reply and reply.content is not None else None
        if text is None:
            text = self.fake._completion_text(body)
        finish = reply.finish_reason if reply else "stop"
        if body.get("stream"):
            self._stream(body, text, finish)
        else:
            self._send_json(200, _completion(body, text, finish, self.fake._usage(body, text)))

    def _media(self, body: dict[str, Any]) -> None:
        with self.fake._lock:
            reply = self.fake._media_script.popleft() if self.fake._media_script else None
        if reply is not None and reply.status != 200:
            self._send_json(reply.status, reply.body, reply.headers)
            return
        if self.path.rstrip("/").endswith("/audio/speech"):
            words = len(str(body.get("input", "")).split())
            self._send(200, wav_tone(max(0.5, words / 2.5)), "audio/wav")
            return
        png = base64.b64encode(small_png(96, 64, _color(str(body.get("prompt", ""))))).decode()
        payload = {
            "created": int(time.time()),
            "data": [{"b64_json": png, "revised_prompt": body.get("prompt")}],
            "usage": {"input_tokens": 20, "output_tokens": 1000, "total_tokens": 1020},
        }
        self._send_json(200, payload)

    def _stream(self, body: dict[str, Any], text: str, finish: str) -> None:
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in _chunks(body, text, finish, self.fake._usage(body, text)):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


def _completion(
    body: dict[str, Any], text: str, finish: str, usage: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": usage,
    }


def _chunks(
    body: dict[str, Any], text: str, finish: str, usage: dict[str, int]
) -> Iterator[dict[str, Any]]:
    base = {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model"),
    }

    def choice(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}

    yield choice({"role": "assistant", "content": ""})
    for piece in re.findall(r"\S+\s*", text) or [text]:
        yield choice({"content": piece})
    yield choice({}, finish)
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": usage}


def image_refused() -> Reply:
    """400 ``content_policy_violation``: the images model refuses the prompt."""
    return _error(
        400,
        "Your request was rejected as a result of our safety system.",
        "content_policy_violation",
    )


def image_bad_size(size: str = "999x999") -> Reply:
    """400 on ``size``: the images model does not make this size."""
    return _error(400, f"Invalid size '{size}'. Supported: 1024x1024, 1536x1024", None, "size")


def _color(text: str) -> tuple[int, int, int]:
    digest = zlib.crc32(text.encode())
    return (digest & 0xFF, (digest >> 8) & 0xFF, (digest >> 16) & 0xFF)


def small_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour, made without Pillow."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        raw = tag + data
        return struct.pack(">I", len(data)) + raw + struct.pack(">I", zlib.crc32(raw))

    row = b"\0" + bytes(rgb) * width
    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def wav_tone(seconds: float, rate: int = 16000) -> bytes:
    """A real mono 16-bit WAV: a quiet 220 Hz tone of ``seconds``."""
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 220 * n / rate)))
        for n in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """A started :class:`FakeOpenAI`, stopped after the test."""
    with FakeOpenAI() as server:
        yield server
