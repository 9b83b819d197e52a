"""The real ``openai`` client against a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from openai_server import (
    FakeOpenAI,
    Reply,
    content,
    forbidden,
    malformed,
    model_not_found,
    rate_limited,
    server_error,
    slow,
    unauthorized,
)
from pydantic import BaseModel, Field

from automation_manager.config.base import validate
from automation_manager.config.models import LLMConfig
from automation_manager.errors import AuthError, TaskError, TransientError
from automation_manager.llm import check_provider, get_client
from automation_manager.llm import openai_client as oc
from automation_manager.logs.records import Usage

KEY = "sk-test-planted-key-0123456789abcdef"
MESSAGES = [
    {"role": "system", "content": "You write blog posts."},
    {"role": "user", "content": "Write about deep work."},
]


class Post(BaseModel):
    title: str = Field(min_length=3)
    body: str
    tags: list[str]


def never() -> Post:
    raise AssertionError("the offline builder must not be used by a real client")


def never_text() -> str:
    raise AssertionError("the offline builder must not be used by a real client")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    oc._working_mode.clear()
    yield
    oc._working_mode.clear()


class Client:
    """A client on the fake server with a recorded (never real) sleep."""

    def __init__(self, server: FakeOpenAI, **llm: object) -> None:
        self.config = validate(LLMConfig, {"base_url": server.url, **llm})
        self.usage = Usage()
        self.sleeps: list[float] = []
        self.llm = get_client(self.config, usage=self.usage, sleep=self.sleeps.append)

    def post(self) -> Post:
        return self.llm.generate("blog", MESSAGES, Post, offline=never)


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def formats(server: FakeOpenAI) -> list[str | None]:
    return [r.response_format for r in server.chat_requests()]


# -- structured output ----------------------------------------------------------------


def test_structured_output_uses_json_schema_and_validates(server: FakeOpenAI) -> None:
    c = Client(server)
    post = c.post()
    assert isinstance(post, Post)
    (request,) = server.chat_requests()
    fmt = request.body["response_format"] if request.body else {}
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Post"
    assert fmt["json_schema"]["schema"] == Post.model_json_schema()
    assert request.body and request.body["model"] == "gpt-4o-mini"
    assert request.headers["authorization"] == "Bearer not-needed"


def test_falls_back_to_json_object_when_json_schema_is_refused(server: FakeOpenAI) -> None:
    server.supports = {"json_object"}
    c = Client(server)
    c.post()
    assert formats(server) == ["json_schema", "json_object"]
    json_object_request = server.chat_requests()[1].body or {}
    system = json_object_request["messages"][0]["content"]
    assert "JSON schema:" in system and '"title"' in system
    c.post()
    assert formats(server) == ["json_schema", "json_object", "json_object"]


def test_falls_back_to_plain_text_and_remembers_it(server: FakeOpenAI) -> None:
    server.supports = set()
    c = Client(server)
    c.post()
    assert formats(server) == ["json_schema", "json_object", None]
    # a new client (a new run) on the same server and model does not pay the refusals again
    Client(server).post()
    assert formats(server) == ["json_schema", "json_object", None, None]


def test_text_mode_finds_the_json_inside_prose_and_fences(server: FakeOpenAI) -> None:
    body = json.dumps({"title": "Deep work", "body": "Focus.", "tags": ["focus"]})
    server.push(content(f"Sure! Here it is:\n```json\n{body}\n```\nEnjoy."))
    post = Client(server, structured_output="text").post()
    assert post.title == "Deep work"
    assert formats(server) == [None]


def test_forced_json_schema_refused_fails_naming_the_setting(server: FakeOpenAI) -> None:
    server.supports = set()
    with pytest.raises(TaskError, match=r"llm\.structured_output"):
        Client(server, structured_output="json_schema").post()
    assert formats(server) == ["json_schema"]


def test_invalid_output_is_asked_for_again_once_with_the_error(server: FakeOpenAI) -> None:
    server.push(malformed('{"title": "ok title", "body": "b"}'))  # tags missing
    c = Client(server)
    assert isinstance(c.post(), Post)
    _, second = server.chat_requests()
    retry = (second.body or {})["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"title": "ok title", "body": "b"}'}
    assert "tags" in retry[-1]["content"] and "Field required" in retry[-1]["content"]
    assert c.usage.calls == 2


def test_output_invalid_twice_fails_with_a_clear_message(server: FakeOpenAI) -> None:
    server.push(malformed(), malformed('{"title": "no"}'))
    with pytest.raises(TaskError) as info:
        Client(server).post()
    message = str(info.value)
    assert not isinstance(info.value, TransientError)
    assert "did not return a valid blog (Post) after 2 attempts" in message
    assert "title" in message
    assert len(server.chat_requests()) == 2


def test_truncated_output_says_the_limit_was_reached(server: FakeOpenAI) -> None:
    server.push(content('{"title": "abc', finish_reason="length"))
    server.push(content('{"title": "abc', finish_reason="length"))
    with pytest.raises(TaskError, match="output limit was reached"):
        Client(server).llm.generate("blog", MESSAGES, Post, offline=never, max_tokens=5)
    assert (server.chat_requests()[0].body or {})["max_tokens"] == 5


def test_text_returns_the_completion(server: FakeOpenAI) -> None:
    server.push(content("  A short caption.  "))
    c = Client(server, temperature=0.3)
    assert c.llm.text("social", MESSAGES, offline=never_text, max_tokens=50) == "A short caption."
    body = server.chat_requests()[0].body or {}
    assert "response_format" not in body
    assert body["temperature"] == 0.3 and body["max_tokens"] == 50


def test_streamed_text_reports_pieces_and_counts_usage(server: FakeOpenAI) -> None:
    server.usage = (40, 12)
    server.push(content("one two three four"))
    c = Client(server)
    assert isinstance(c.llm, oc.OpenAIClient)
    pieces: list[str] = []
    text = c.llm.text("blog", MESSAGES, offline=never_text, on_delta=pieces.append)
    assert text == "one two three four"
    assert len(pieces) == 4
    body = server.chat_requests()[0].body or {}
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.calls) == (40, 12, 1)


def test_max_tokens_becomes_max_completion_tokens_when_the_model_asks(server: FakeOpenAI) -> None:
    message = "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead."
    server.push(Reply(status=400, body={"error": {"message": message, "param": "max_tokens"}}))
    Client(server).llm.text("blog", MESSAGES, offline=never_text, max_tokens=99)
    first, second = (r.body or {} for r in server.chat_requests())
    assert first["max_tokens"] == 99
    assert second["max_completion_tokens"] == 99 and "max_tokens" not in second


# -- usage and cost -------------------------------------------------------------------


def test_usage_and_cost_are_summed_over_calls(server: FakeOpenAI) -> None:
    server.usage = (1000, 500)
    c = Client(server)
    c.post()
    c.llm.text("blog", MESSAGES, offline=never_text)
    assert c.usage.prompt_tokens == 2000
    assert c.usage.completion_tokens == 1000
    assert c.usage.calls == 2
    # gpt-4o-mini: $0.15 in, $0.60 out per million
    assert c.usage.cost_usd == pytest.approx(2 * (1000 * 0.15 + 500 * 0.60) / 1e6)


def test_configured_prices_win_and_unknown_models_cost_nothing(server: FakeOpenAI) -> None:
    server.usage = (1_000_000, 1_000_000)
    priced = Client(server, prices={"gpt-4o-mini": {"input": 1.0, "output": 2.0}})
    priced.post()
    assert priced.usage.cost_usd == pytest.approx(3.0)
    local = Client(server, model="llama3.1")
    local.post()
    assert local.usage.cost_usd == 0.0 and local.usage.prompt_tokens == 1_000_000


# -- errors and retries ---------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(server: FakeOpenAI) -> None:
    server.push(rate_limited(retry_after=2), rate_limited(retry_after=0.5))
    c = Client(server)
    assert isinstance(c.post(), Post)
    assert c.sleeps == [2.0, 0.5]
    assert len(server.chat_requests()) == 3


def test_429_with_a_long_retry_after_is_handed_to_the_engine(server: FakeOpenAI) -> None:
    server.push(rate_limited(retry_after=3600))
    c = Client(server)
    with pytest.raises(TransientError) as info:
        c.post()
    assert info.value.retry_after == 3600
    assert c.sleeps == [] and len(server.chat_requests()) == 1


def test_429_without_quota_is_not_retried(server: FakeOpenAI) -> None:
    quota = {"message": "You exceeded your current quota", "code": "insufficient_quota"}
    server.push(Reply(status=429, body={"error": quota}))
    with pytest.raises(TaskError) as info:
        Client(server).post()
    assert not isinstance(info.value, TransientError)
    assert "no quota left" in str(info.value)


def test_5xx_is_retried_with_backoff_then_raises_transient(server: FakeOpenAI) -> None:
    server.push(server_error(500), server_error(502), server_error(503))
    c = Client(server, max_retries=2)
    with pytest.raises(TransientError) as info:
        c.post()
    assert len(server.chat_requests()) == 3
    assert len(c.sleeps) == 2 and 0.5 <= c.sleeps[0] <= 1.0 and 1.0 <= c.sleeps[1] <= 2.0
    assert "(503)" in str(info.value)
    assert "gave up after 3 attempts; llm.max_retries is 2" in str(info.value)


def test_5xx_then_success_recovers(server: FakeOpenAI) -> None:
    server.push(server_error(500))
    c = Client(server)
    assert isinstance(c.post(), Post)
    assert len(c.sleeps) == 1 and c.usage.calls == 1


def test_timeout_is_retried_then_names_the_setting(server: FakeOpenAI) -> None:
    server.push(slow(2.0), slow(2.0))
    c = Client(server, timeout_s=0.2, max_retries=1)
    with pytest.raises(TransientError, match=r"within 0.2 s \(llm.timeout_s\)"):
        c.post()
    assert len(server.chat_requests()) == 2


def test_unreachable_server_is_a_transient_error_naming_base_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", max_retries=1)
    sleeps: list[float] = []
    client = get_client(config, sleep=sleeps.append)
    with pytest.raises(TransientError, match=r"llm\.base_url"):
        client.generate("blog", MESSAGES, Post, offline=never)
    assert len(sleeps) == 1


def test_a_web_page_instead_of_the_api_names_base_url(server: FakeOpenAI) -> None:
    server.push(Reply(raw=b"<html><body>Welcome to nginx!</body></html>"))
    with pytest.raises(TaskError, match=r"did not answer with JSON: is llm\.base_url"):
        Client(server).post()
    assert len(server.chat_requests()) == 1


def test_concurrent_runs_are_not_serialized(server: FakeOpenAI) -> None:
    server.delay = 0.3
    clients = [Client(server) for _ in range(6)]
    started = time.perf_counter()
    with ThreadPoolExecutor(6) as pool:
        posts = list(pool.map(lambda c: c.post(), clients))
    elapsed = time.perf_counter() - started
    assert len(posts) == 6 and all(c.usage.calls == 1 for c in clients)
    assert elapsed < 0.3 * 2, f"6 concurrent 0.3 s calls took {elapsed:.2f} s"


def test_401_is_not_retried_and_names_the_setting_not_the_key(
    server: FakeOpenAI, keyed: None
) -> None:
    server.push(unauthorized(echo_key=KEY))
    c = Client(server)
    with pytest.raises(AuthError) as info:
        c.post()
    message = str(info.value)
    assert "refused the API key (401)" in message
    assert "OPENAI_API_KEY" in message and "llm.api_key_env" in message
    assert KEY not in message
    assert c.sleeps == [] and len(server.chat_requests()) == 1
    assert server.chat_requests()[0].headers["authorization"] == f"Bearer {KEY}"


def test_401_from_a_keyless_local_server_asks_for_a_key(server: FakeOpenAI) -> None:
    server.push(unauthorized())
    with pytest.raises(AuthError, match=r"requires an API key .*OPENAI_API_KEY"):
        Client(server).post()


def test_403_is_an_auth_error_naming_the_model(server: FakeOpenAI, keyed: None) -> None:
    server.push(forbidden())
    with pytest.raises(AuthError, match=r"'gpt-4o-mini' \(403\).*llm\.model"):
        Client(server).post()


def test_unknown_model_is_not_retried_and_names_llm_model(server: FakeOpenAI) -> None:
    server.push(model_not_found("gpt-9"))
    c = Client(server, model="gpt-9")
    with pytest.raises(TaskError) as info:
        c.post()
    assert not isinstance(info.value, TransientError | AuthError)
    assert "no model 'gpt-9' (404)" in str(info.value) and "llm.model" in str(info.value)
    assert len(server.chat_requests()) == 1


@pytest.mark.parametrize(
    "reply",
    [
        unauthorized(echo_key=KEY),
        Reply(status=500, body={"error": {"message": f"upstream said {KEY}"}}),
        Reply(status=400, body={"error": {"message": f"bad request from {KEY}"}}),
        Reply(status=404, body={"error": {"message": f"no model for key {KEY}"}}),
        malformed(f"not json {KEY}"),
    ],
    ids=["401", "500", "400", "404", "malformed"],
)
def test_the_key_never_appears_in_an_error(server: FakeOpenAI, keyed: None, reply: Reply) -> None:
    server.push(reply, reply, reply, reply, reply)
    c = Client(server, max_retries=0)
    with pytest.raises(TaskError) as info:
        c.post()
    shown = "".join(traceback.format_exception(info.value))
    assert KEY not in shown
    assert KEY[:12] not in shown
    assert KEY not in repr(c.llm)


# -- amgr check -----------------------------------------------------------------------


def test_check_lists_models_and_accepts_the_configured_one(server: FakeOpenAI) -> None:
    result = check_provider(LLMConfig(base_url=server.url, model="llama3.1"))
    assert result.startswith(f"openai-compatible at {server.url}, model llama3.1")
    assert "ok, 3 models listed" in result
    assert server.requests[-1].path == "/v1/models"


def test_check_names_a_model_the_server_does_not_serve(server: FakeOpenAI) -> None:
    with pytest.raises(TaskError, match=r"does not serve 'nope': set llm\.model to one of: "):
        check_provider(LLMConfig(base_url=server.url, model={"default": "gpt-4o", "x": "nope"}))
