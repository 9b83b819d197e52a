"""Secrets come from the environment only; this finds their values so output can mask them."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .errors import AmgrError, AuthError

if TYPE_CHECKING:
    from .config.models import Config


def env_names(config: Config) -> list[str]:
    """Every environment variable that the config names as holding a secret."""
    names = [config.llm.api_key_env, "OPENAI_API_KEY"]
    for platform in config.platforms.values():
        for key, value in platform.model_dump().items():
            if key.endswith("_env") and isinstance(value, str):
                names.append(value)
    if config.smtp and config.smtp.password_env:
        names.append(config.smtp.password_env)
    if config.notification_webhook and config.notification_webhook.secret_env:
        names.append(config.notification_webhook.secret_env)
    return names


def secret_values(config: Config) -> tuple[str, ...]:
    """The current values of those variables (non-empty ones), longest first."""
    values = {os.environ.get(n, "") for n in env_names(config)}
    return tuple(sorted((v for v in values if len(v) >= 4), key=len, reverse=True))


def mask(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every secret value inside ``text`` by ``***``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def secret_from_env(
    env_name: str, setting: str, what: str, *, error: type[AmgrError] = AuthError
) -> str:
    """The secret in environment variable ``env_name``, or ``error`` saying which variable
    to export (``setting`` is the config.json field that names it; the value is never shown).
    """
    value = os.environ.get(env_name, "").strip()
    if not value:
        raise error(
            f"{setting} names the environment variable {env_name}, which is not set: "
            f"export {env_name}=<{what}> before running amgr"
        )
    return value
