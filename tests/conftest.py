"""Shared fixtures: a fresh amgr home in a temporary folder, platform servers and secrets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_platforms import (
    HOOK_SECRET,
    MASTODON_TOKEN,
    WP_PASSWORD,
    FakeWebhook,
    FakeWordPress,
    running,
)
from openai_server import FakeOpenAI, openai_server

__all__ = ["openai_server"]  # registered here: every test module may use it

from automation_manager.cli import cli


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home written by `amgr init`, using the offline provider (no key, no base URL)."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("AMGR_HOME", raising=False)
    monkeypatch.setenv("AMGR_VISUALS", "none")  # tests/test_visuals*.py turn them on
    path = tmp_path / "home"
    result = CliRunner().invoke(cli, ["init", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def wp_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """WP_APP_PASSWORD holds the password the ``wp`` server accepts."""
    monkeypatch.setenv("WP_APP_PASSWORD", WP_PASSWORD)


@pytest.fixture
def mastodon_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """MASTODON_TOKEN holds the token a FakeMastodon accepts by default."""
    monkeypatch.setenv("MASTODON_TOKEN", MASTODON_TOKEN)


@pytest.fixture
def hook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMGR_HOOK_SECRET holds the secret the ``hook`` server verifies."""
    monkeypatch.setenv("AMGR_HOOK_SECRET", HOOK_SECRET)


@pytest.fixture
def wp() -> Iterator[FakeWordPress]:
    """A running FakeWordPress accepting ``editor`` / WP_PASSWORD."""
    with running(FakeWordPress(password=WP_PASSWORD)) as server:
        yield server


@pytest.fixture
def hook() -> Iterator[FakeWebhook]:
    """A running FakeWebhook verifying signatures made with HOOK_SECRET."""
    with running(FakeWebhook(secret=HOOK_SECRET)) as server:
        yield server


@pytest.fixture
def server(openai_server: FakeOpenAI) -> FakeOpenAI:
    """A started FakeOpenAI (the ``openai_server`` fixture), stopped after the test."""
    return openai_server
