"""``amgr exec-now`` with a real model server: usage in the record, clear failures, no key leaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openai_server import FakeOpenAI, unauthorized

from automation_manager.cli import cli

KEY = "sk-planted-e2e-0123456789abcdefXYZ"


@pytest.fixture
def home(tmp_path: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("AMGR_HOME", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "config.json").read_text())
    config["llm"]["base_url"] = server.url
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path


def exec_blog(home: Path, *extra: str) -> tuple[int, str]:
    args = ["--home", str(home), "exec-now", "content_creation", "blog", "-p", "topic=focus"]
    result = CliRunner().invoke(cli, [*args, *extra])
    return result.exit_code, result.output


def assert_key_nowhere(home: Path, *outputs: str) -> None:
    for output in outputs:
        assert KEY not in output
    for path in home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"the key leaked into {path}"


def test_exec_now_records_usage_and_cost_of_the_model_calls(home: Path, server: FakeOpenAI) -> None:
    server.usage = (1000, 500)
    code, output = exec_blog(home, "--json")
    assert code == 0, output
    record = json.loads(output)
    calls = len(server.chat_requests())
    assert record["provider"] == "openai"
    assert record["usage"]["calls"] == calls >= 1
    assert record["usage"]["prompt_tokens"] == 1000 * calls
    assert record["usage"]["cost_usd"] == pytest.approx(calls * 0.00045)
    assert server.chat_requests()[0].headers["authorization"] == f"Bearer {KEY}"
    assert_key_nowhere(home, output)


def test_refused_key_fails_the_run_naming_the_setting_and_leaks_nothing(
    home: Path, server: FakeOpenAI
) -> None:
    server.push(unauthorized(echo_key=KEY))
    code, output = exec_blog(home)
    assert code == 1
    assert "refused the API key (401)" in output and "llm.api_key_env" in output
    assert len(server.chat_requests()) == 1
    assert_key_nowhere(home, output)
