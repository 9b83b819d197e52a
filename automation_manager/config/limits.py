"""The upper bounds of everything a person writes in the three files, in one place.

A value past these bounds is refused by ``amgr validate`` (and by every command that
loads the home) with ``FILE: field: what — fix`` and exit 2, so a configuration that
validates cannot crash a running daemon later: no date overflow from a 99999999-day
interval, no recursion from a 5000-deep list, no digits limit from a 5000-digit number,
no NUL in an EPUB or a header. README.md "Limits" lists the same numbers; a test keeps
them in step.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated

from .base import After

# --- any JSON document ------------------------------------------------------------------
MAX_FILE_BYTES = 4 * 1024 * 1024
"""A config, tasks or schedules file larger than this is refused before it is parsed."""
MAX_DEPTH = 32
"""Objects and lists nest at most this deep (the default files use 5)."""
MAX_NUMBER = 2**53
"""Numbers lie within ±2^53: every JSON reader keeps them exact, no date math overflows."""
MAX_INT_DIGITS = len(str(MAX_NUMBER))
MAX_ITEMS = 10_000
"""Entries in one list or object."""
MAX_KEY = 128
"""Characters in an object key."""
MAX_TEXT = 10_000
"""Characters in any string not bounded more tightly below."""

# --- text fields ------------------------------------------------------------------------
MAX_TOPIC = 300
MAX_DESCRIPTION = 2_000
MAX_NAME = 128
"""Ids, types, platform names, env names, model names, users, tags."""
MAX_URL = 2_048
MAX_PATH = 4_096

# --- counts and seconds (config.json, tasks.json) ---------------------------------------
MAX_PRIORITY = 10_000
"""A task's priority lies in ``-MAX_PRIORITY..MAX_PRIORITY``."""
MAX_TASK_TIMEOUT_S = 7 * 86_400
MAX_RETRY_BASE_DELAY_S = 86_400
MAX_RETRY_MAX_DELAY_S = 7 * 86_400
MAX_SHUTDOWN_GRACE_S = 3_600
MAX_LOG_RETENTION_DAYS = 3_660
MAX_DAILY_CONTENT = 1_000_000
MAX_DAILY_EBOOKS = 10_000
MAX_ITEMS_PER_RUN = 10_000
MAX_BUNDLE_MIN_EBOOKS = 1_000
MAX_DAILY_LIMIT = 10_000
"""A platform's ``daily_limit``."""
MAX_PLATFORM_CONCURRENT = 64
MAX_HTTP_TIMEOUT_S = 600
"""smtp, notification webhook and platform ``timeout_s``."""
MAX_LLM_TIMEOUT_S = 3_600
MAX_BUDGET_USD = 1_000_000
MAX_PRICE_USD = 100_000
"""USD per million tokens."""

# Characters no output amgr writes can hold: C0 controls (XML 1.0, the EPUB, refuses
# them; a CR or LF in a header splits it) and lone surrogates (not encodable as UTF-8).
NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
NOT_IN_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _char_name(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if 0xD800 <= ord(char) <= 0xDFFF:
        return f"{code} (a lone surrogate)"
    name = {"\x00": "NUL", "\t": "tab", "\n": "line feed", "\r": "carriage return"}.get(char)
    return f"{code} ({name or unicodedata.name(char, 'control')})"


def text_problem(value: str, limit: int, *, single_line: bool) -> str | None:
    """What is wrong with ``value`` as text of at most ``limit`` characters, or None.

    :param single_line: also refuse tab, CR, LF and DEL (ids, names, topics, URLs).
    """
    if len(value) > limit:
        return (
            f"is {len(value)} characters long, more than the limit of {limit} — "
            f"shorten it to {limit} characters or fewer"
        )
    bad = (NOT_IN_LINE if single_line else NOT_IN_TEXT).search(value)
    if bad is None:
        return None
    found = f"holds the control character {_char_name(bad.group())} at position {bad.start()}"
    if single_line:
        return f"{found}; it must be one line of plain text — remove it"
    return f"{found}, which no output format can hold — remove it (tab and newline are fine)"


def _checker(limit: int, single_line: bool) -> Callable[[str], str]:
    refused = NOT_IN_LINE if single_line else NOT_IN_TEXT

    def check(value: str) -> str:
        if len(value) <= limit and not refused.search(value):
            return value  # the common case, without building a message
        problem = text_problem(value, limit, single_line=single_line)
        if problem is not None:
            raise ValueError(problem)
        return value

    return check


def line(limit: int) -> After:
    """A check: one line of at most ``limit`` characters, no control chars."""
    return After(_checker(limit, True))


def text(limit: int) -> After:
    """A check: at most ``limit`` characters; tab, CR and LF allowed."""
    return After(_checker(limit, False))


Name = Annotated[str, line(MAX_NAME)]
Url = Annotated[str, line(MAX_URL)]
Topic = Annotated[str, line(MAX_TOPIC)]
Description = Annotated[str, text(MAX_DESCRIPTION)]
