"""Secrets come from the environment only; this module is the one place that knows them.

Every secret value amgr reads (each ``*_env`` the config names, ``OPENAI_API_KEY``, the
SMTP password, webhook secrets, platform tokens) is registered once in :data:`REGISTRY`,
in every form it can travel in: as read, stripped, URL-encoded (``quote`` and
``quote_plus``), JSON-escaped, base64 of the value, the ``Bearer <value>`` form and, where a
user goes with it (WordPress, SMTP), the Basic-auth base64 of ``user:password`` and the
SMTP ``AUTH PLAIN`` form. Everything amgr writes passes through :meth:`SecretRegistry.mask`
(text) or :meth:`SecretRegistry.scrub` (JSON-shaped data): run records, run files, check
files, incidents, the publish ledger, content items, notifications and the CLI's
stdout/stderr.

Whitespace: a value with surrounding whitespace or ``\\r`` (a CRLF ``EnvironmentFile``) is
stripped before use, and both the value as read and the stripped value are masked, in
every form. A value shorter than :data:`MIN_SECRET_LEN` characters (after stripping)
cannot be masked without masking ordinary words, so it is refused where it is used, with
an error naming the variable; it is not registered. A variable that never holds a secret
(``HOME``, ``PATH``, ``USER``, ... see :data:`NOT_SECRETS`) is refused the same way, so
that naming it by mistake neither sends it as a password nor masks every path in the output.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from .errors import AmgrError, AuthError

if TYPE_CHECKING:
    from .config.models import Config

MASKED = "***"
MIN_SECRET_LEN = 4
"""Shorter values are refused at use: masking them would mask ordinary text."""

NOT_SECRETS = frozenset(
    {
        "HOME", "PATH", "USER", "USERNAME", "LOGNAME", "SHELL", "PWD", "OLDPWD", "LANG",
        "LANGUAGE", "TERM", "TMPDIR", "TMP", "TEMP", "HOSTNAME", "HOST", "MAIL", "EDITOR",
        "VISUAL", "PAGER", "DISPLAY", "TZ", "SHLVL", "UID", "EUID", "IFS", "PS1", "PS2",
        "COLUMNS", "LINES", "_", "AMGR_HOME", "AMGR_DEBUG", "OPENAI_BASE_URL", "NO_COLOR",
        "SSL_CERT_FILE", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
        "PYTHONUNBUFFERED", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE", "SSH_AUTH_SOCK",
        "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "DBUS_SESSION_BUS_ADDRESS",
        "INVOCATION_ID", "JOURNAL_STREAM", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
        "RUNTIME_DIRECTORY", "STATE_DIRECTORY", "CACHE_DIRECTORY", "LOGS_DIRECTORY",
        "CONFIGURATION_DIRECTORY",
    }
)  # fmt: skip
"""Variables every process has or that hold paths and settings, never a secret."""
NOT_SECRET_PREFIXES = ("LC_", "XDG_", "LD_")


def is_secret_name(name: str) -> bool:
    """False for a variable that holds a system setting (``HOME``, ``LC_ALL``, ...).

    Names are compared upper-cased: ``Path`` is ``PATH`` on Windows, and a lower-case
    ``home`` is a mistake worth the same message. The validator (config) and the reader
    (:func:`secret_from_env`) both ask this.
    """
    upper = name.upper()
    return upper not in NOT_SECRETS and not upper.startswith(NOT_SECRET_PREFIXES)


def _variants(value: str) -> set[str]:
    """The forms ``value`` itself travels in (encoded, escaped, as a bearer token)."""
    raw = value.encode("utf-8", "surrogateescape")
    found = {value, quote(value), quote(value, safe=""), quote_plus(value)}
    found |= {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    b64 = base64.b64encode(raw).decode()
    found |= {b64, b64.rstrip("="), base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    found.add(f"Bearer {value}")
    return found


def _with_user(user: str, value: str) -> set[str]:
    """Basic auth (``user:password``) and SMTP ``AUTH PLAIN`` (``\\0user\\0password``)."""
    found = set()
    for joined in (f"{user}:{value}", f"\0{user}\0{value}"):
        b64 = base64.b64encode(joined.encode("utf-8", "surrogateescape")).decode()
        found |= {b64, b64.rstrip("="), f"Basic {b64}"}
    return found


class SecretRegistry:
    """Every secret value this process has read, and the forms to mask them in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str | None]] = set()
        self._forms: set[str] = set()
        self._sorted: tuple[str, ...] = ()
        self._cover: tuple[str, ...] = ()
        self._bytes: tuple[bytes, ...] = ()
        self._names: tuple[weakref.ref[Config], list[tuple[str, str | None]]] | None = None

    def register(self, value: str, *, user: str | None = None) -> None:
        """Remember ``value`` (as read; its stripped form too) and, with ``user``, the
        credentials it makes together with that user. Too-short values are ignored."""
        if (value, user) in self._seen:
            return
        forms: set[str] = set()
        for form in {value, value.strip()}:
            if len(form.strip()) >= MIN_SECRET_LEN:
                forms |= _variants(form)
                if user:
                    forms |= _with_user(user, form)
        with self._lock:
            self._seen.add((value, user))
            if forms - self._forms:
                self._forms |= {f for f in forms if len(f) >= MIN_SECRET_LEN}
                self._sorted = tuple(sorted(self._forms, key=lambda f: (-len(f), f)))
                self._cover = _cover(self._sorted)
                self._bytes = tuple(
                    f.encode("utf-8", "surrogateescape")
                    for f in _cover(self._sorted, json_safe=True)
                )

    def register_config(self, config: Config) -> None:
        """Register the current value of every variable ``config`` names as a secret.

        The names a configuration holds are found once per configuration object (each
        run's start asks again; a reload makes a new object); the values are read anew."""
        last = self._names
        if last is not None and last[0]() is config:
            names = last[1]
        else:
            names = env_names_with_users(config)
            self._names = (weakref.ref(config), names)
        self.register_names(names)

    def register_names(self, names: Iterable[tuple[str, str | None]]) -> None:
        """Register the current value of each variable in ``names`` (with the user it
        logs in as, or None) as a secret: what :func:`env_names_with_users` returns, or
        the same pairs kept by :mod:`~automation_manager.config.facts`. Unset, empty and
        system variables (``HOME``, ...) are skipped."""
        for name, user in names:
            value = os.environ.get(name, "")
            if value and is_secret_name(name):
                self.register(value, user=user)

    @property
    def forms(self) -> tuple[str, ...]:
        """Every registered form, longest first (so a long form is masked whole)."""
        return self._sorted

    def mask(self, text: str, extra: Iterable[str] = ()) -> str:
        """``text`` with every registered form (and each of ``extra``) replaced by ``***``."""
        forms = self._sorted
        more = tuple(e for e in extra if len(e) >= MIN_SECRET_LEN and e not in self._forms)
        if more:
            forms = tuple(sorted({*forms, *more}, key=lambda f: (-len(f), f)))
        elif not any(form in text for form in self._cover):
            return text  # the common case, in a few scans instead of one per form
        for form in forms:
            if form in text:
                text = text.replace(form, MASKED)
        return text

    def mask_bytes(self, data: bytes) -> bytes:
        """``data`` (UTF-8) with every registered form masked; the cheap minimal set of
        forms is used, so an echoed longer form may keep a harmless prefix (``Bearer ***``)."""
        if any(form in data for form in self._bytes):
            for form in self._bytes:
                data = data.replace(form, MASKED.encode())
        return data

    def scrub(self, data: Any, extra: Iterable[str] = ()) -> Any:
        """A copy of JSON-shaped ``data`` with every string (keys too) masked."""
        extra = tuple(extra)
        if isinstance(data, str):
            return self.mask(data, extra)
        if isinstance(data, dict):
            return {self.scrub(k, extra): self.scrub(v, extra) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return [self.scrub(v, extra) for v in data]
        return data


def _cover(forms: tuple[str, ...], *, json_safe: bool = False) -> tuple[str, ...]:
    """The forms that contain no other form: finding none of them means finding no form.

    :param json_safe: for JSON bytes (``history --json``), leave a form ending in an odd
        number of backslashes to its JSON-escaped form: masking it would cut an escape in
        two. (That mask is the last line of defence: records are scrubbed before they are
        serialized, so it only meets a secret that slipped through.)
    """
    kept: list[str] = []
    for form in sorted(forms, key=len):
        odd = (len(form) - len(form.rstrip("\\"))) % 2 == 1
        if not (json_safe and odd) and not any(k in form for k in kept):
            kept.append(form)
    return tuple(kept)


REGISTRY = SecretRegistry()
"""The process's one registry: a daemon has one environment."""


def env_names_with_users(config: Config) -> list[tuple[str, str | None]]:
    """Every variable ``config`` names as holding a secret, with the user it logs in as."""
    names: list[tuple[str, str | None]] = [(config.llm.api_key_env, None)]
    names.append(("OPENAI_API_KEY", None))
    for platform in config.platforms.values():
        user = getattr(platform, "user", None)
        for f in dataclasses.fields(platform):
            key, value = f.name, getattr(platform, f.name)
            if key.endswith("_env") and isinstance(value, str):
                names.append((value, user if isinstance(user, str) else None))
    if config.smtp and config.smtp.password_env:
        names.append((config.smtp.password_env, config.smtp.user))
    if config.notification_webhook and config.notification_webhook.secret_env:
        names.append((config.notification_webhook.secret_env, None))
    return names


def env_names(config: Config) -> list[str]:
    """Every environment variable that the config names as holding a secret."""
    return [name for name, _ in env_names_with_users(config)]


def secret_values(config: Config) -> tuple[str, ...]:
    """Register ``config``'s secrets; every registered form, longest first.

    Kept for the engine's call sites: ``mask(text, secret_values(config))`` and
    ``redact(value, secret_values(config))`` mask every form of every secret.
    """
    REGISTRY.register_config(config)
    return REGISTRY.forms


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every registered secret form (and each of ``secrets``) in ``text`` by ``***``."""
    return REGISTRY.mask(text, secrets)


def secret_from_env(
    env_name: str,
    setting: str,
    what: str,
    *,
    error: type[AmgrError] = AuthError,
    user: str | None = None,
) -> str:
    """The secret in environment variable ``env_name``, stripped and registered (with
    ``user``, its Basic-auth forms too); else ``error`` saying which variable to export
    (``setting`` is the config.json field that names it; the value is never shown).
    """
    if not is_secret_name(env_name):
        raise error(
            f"{setting} names {env_name}, which is not a secret but a system setting: "
            f"name the variable that holds {what}, e.g. export AMGR_SECRET=<{what}>"
        )
    raw = os.environ.get(env_name, "")
    value = raw.strip()
    if not value:
        raise error(
            f"{setting} names the environment variable {env_name}, which is not set: "
            f"export {env_name}=<{what}> before running amgr"
        )
    if len(value) < MIN_SECRET_LEN:
        raise error(
            f"{setting} names {env_name}, whose value is too short to be a secret "
            f"({len(value)} characters; amgr masks secrets in everything it writes and needs "
            f"at least {MIN_SECRET_LEN}): export {env_name}=<{what}>"
        )
    REGISTRY.register(raw, user=user)
    return value
