"""Which provider a config selects, how it is described, and that choosing one stays cheap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from automation_manager.config.models import LLMConfig
from automation_manager.errors import AuthError
from automation_manager.llm import OfflineClient, describe_provider, get_client, resolve_provider
from automation_manager.logs.records import Usage

KEY = "sk-test-planted-key-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MY_LLM_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_auto_without_key_or_url_is_offline() -> None:
    config = LLMConfig()
    assert resolve_provider(config) == "offline"
    client = get_client(config, usage=Usage())
    assert isinstance(client, OfflineClient)
    assert client.offline
    assert "offline" in describe_provider(config)
    assert "OPENAI_API_KEY" in describe_provider(config)


def test_auto_with_openai_api_key_uses_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    config = LLMConfig()
    assert resolve_provider(config) == "openai"
    client = get_client(config)
    assert client.provider == "openai"
    assert not client.offline
    described = describe_provider(config)
    assert described.startswith("openai at https://api.openai.com/v1")
    assert "gpt-4o-mini" in described
    assert "$OPENAI_API_KEY" in described
    assert KEY not in described
    assert KEY not in repr(client)


def test_auto_reads_the_key_from_api_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM_KEY", KEY)
    config = LLMConfig(api_key_env="MY_LLM_KEY")
    assert resolve_provider(config) == "openai"
    assert "$MY_LLM_KEY" in describe_provider(config)


def test_blank_key_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    assert resolve_provider(LLMConfig()) == "offline"


def test_base_url_from_environment_selects_a_keyless_local_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    config = LLMConfig(model="llama3.1")
    assert resolve_provider(config) == "openai"
    assert describe_provider(config) == (
        "openai-compatible at http://127.0.0.1:11434/v1, model llama3.1 (no key)"
    )


def test_base_url_in_config_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://elsewhere:1/v1")
    config = LLMConfig(base_url="http://127.0.0.1:8000/v1", model={"default": "a", "ebook": "b"})
    assert describe_provider(config).startswith(
        "openai-compatible at http://127.0.0.1:8000/v1, model a (ebook: b)"
    )


def test_provider_offline_ignores_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    config = LLMConfig(provider="offline")
    assert isinstance(get_client(config), OfflineClient)
    assert "llm.provider is set to offline" in describe_provider(config)


def test_provider_openai_without_key_fails_naming_the_variable() -> None:
    with pytest.raises(AuthError) as info:
        get_client(LLMConfig(provider="openai", api_key_env="MY_LLM_KEY"))
    assert "MY_LLM_KEY" in str(info.value)
    assert "llm.api_key_env" in str(info.value)


def test_importing_the_llm_package_does_not_import_openai() -> None:
    code = (
        "import sys\n"
        "import automation_manager.llm as llm\n"
        "from automation_manager.config.models import LLMConfig\n"
        "config = LLMConfig()\n"
        "llm.describe_provider(config)\n"
        "llm.check_budget(config, 'blog', 0.0)\n"
        "llm.estimate_cost(config, 'ebook')\n"
        "llm.get_client(LLMConfig(provider='offline'))\n"
        "assert 'openai' not in sys.modules, 'openai was imported'\n"
    )
    env = {**os.environ, "OPENAI_API_KEY": KEY}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_prewarm_imports_openai_only_for_a_real_provider() -> None:
    code = (
        "import sys\n"
        "import automation_manager.llm as llm\n"
        "from automation_manager.config.models import LLMConfig\n"
        "llm.prewarm(LLMConfig())\n"
        "assert 'openai' not in sys.modules, 'offline prewarm imported openai'\n"
        "llm.prewarm(LLMConfig(base_url='http://127.0.0.1:9/v1'))\n"
        "assert 'openai' in sys.modules\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
