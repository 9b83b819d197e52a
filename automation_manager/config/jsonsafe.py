"""JSON that cannot hurt amgr: bounded on the way in, checked whole before any model sees it.

Python's ``json`` accepts what later breaks: a 5000-deep list (RecursionError), a
5000-digit integer (the int-digits ValueError), ``NaN`` and ``1e999``. :func:`parse_json`
refuses those while parsing, :func:`check_json_value` walks a parsed value (from a file
or from an edit on the command line) without recursion and reports every string, number,
key, list or depth past :mod:`.limits` as a :class:`Problem`.
"""

from __future__ import annotations

import json
import math
import stat
from pathlib import Path
from typing import Any

from ..errors import ConfigError, Problem
from .limits import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_INT_DIGITS,
    MAX_ITEMS,
    MAX_KEY,
    MAX_NUMBER,
    MAX_TEXT,
    NOT_IN_LINE,
    NOT_IN_TEXT,
    text_problem,
)

MAX_PROBLEMS = 20
"""Problems reported per document: enough to fix a file, few enough to read."""
_NUMBER_FIX = f"use a number between -{MAX_NUMBER} and {MAX_NUMBER} (2^53)"


class _Refused(Exception):
    """Raised from inside ``json.loads`` hooks; carries (what, fix, the literal)."""

    def __init__(self, what: str, fix: str, literal: str) -> None:
        super().__init__(what)
        self.what, self.fix, self.literal = what, fix, literal


def _int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"a number with {len(literal.lstrip('-'))} digits", _NUMBER_FIX, literal)
    return int(literal)


def _float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused(f"the number {literal[:40]} is too large", _NUMBER_FIX, literal)
    return value


class _Constant(Exception):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python reads them, JSON has no such thing."""


def _constant(literal: str) -> float:
    raise _Constant(literal)


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _structure(text: str, limit: int) -> tuple[int, bool]:
    """Scan ``text`` outside strings: (offset of the first bracket opening level
    ``limit + 1``, or -1; whether a string, object or list is still open at the end)."""
    depth, in_string, escaped = 0, False, False
    for pos, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
            if depth > limit:
                return pos, True
        elif ch in "}]":
            depth -= 1
    return -1, in_string or depth > 0


def parse_json(text: str, source: str) -> Any:
    """Parse ``text`` as strict JSON within the bounds of :mod:`.limits`.

    :param source: the file name or option (``--set``) to name in a problem.
    :raises ConfigError: on nesting past ``MAX_DEPTH`` that Python cannot even parse,
        an integer longer than ``MAX_INT_DIGITS`` digits or ``1e999``; the problem names
        the line and column.
    :raises json.JSONDecodeError: on a syntax error, ``NaN`` and ``Infinity`` included
        (the caller words that one).
    """
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        where = _where(text, max(_structure(text, MAX_DEPTH)[0], 0))
        raise ConfigError(
            Problem(
                source,
                where,
                f"lists or objects nested far more than {MAX_DEPTH} levels deep",
                f"nest at most {MAX_DEPTH} levels",
            )
        ) from None
    except _Constant as exc:
        # A syntax error like any other: ``--set topic=NaN`` stays the text "NaN".
        literal = str(exc)
        message = f"{literal} is not JSON (write a number or null)"
        raise json.JSONDecodeError(message, text, max(text.find(literal), 0)) from None
    except _Refused as exc:
        where = _where(text, max(text.find(exc.literal), 0))
        raise ConfigError(Problem(source, where, exc.what, exc.fix)) from None
    return value


def _shown(number: float) -> str:
    """A number for a message; a huge int is described (``str()`` of it may even fail)."""
    if isinstance(number, int) and number.bit_length() > 64:
        return f"a number of about {int(number.bit_length() * 0.30103)} digits"
    return str(number)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_Link = tuple[Any, ...]
"""A path as a linked list, ``(key, parent)`` or ``()``: built per node at no cost, spelt
out (``content_creation[0].schedule``) only for a node with a problem."""


def _spelt(link: _Link) -> str:
    keys: list[str | int] = []
    while link:
        key, link = link
        keys.append(key)
    path = ""
    for key in reversed(keys):
        path = _join(path, key)
    if len(path) > 80:
        path = path[:77] + "..."
    return path or "(the whole file)"


def _node_problem(item: Any, depth: int) -> tuple[str, str] | None:
    """(what, fix) when this one node is past a bound, else None."""
    if isinstance(item, dict | list):
        if depth >= MAX_DEPTH:
            return (
                f"nested more than {MAX_DEPTH} levels deep",
                f"nest lists and objects at most {MAX_DEPTH} levels",
            )
        if len(item) > MAX_ITEMS:
            return (
                f"has {len(item)} entries, more than the limit of {MAX_ITEMS}",
                f"keep at most {MAX_ITEMS} entries",
            )
        return None
    if isinstance(item, bool) or item is None:
        return None
    if isinstance(item, int | float):
        if math.isfinite(item) and abs(item) <= MAX_NUMBER:
            return None
        kind = "out of range" if math.isfinite(item) else "not a finite number"
        return f"{_shown(item)} is {kind}", _NUMBER_FIX
    if isinstance(item, str):
        problem = text_problem(item, MAX_TEXT, single_line=False)
        if problem is None:
            return None
        what, _, fix = problem.partition(" — ")
        return what, fix
    return f"a {type(item).__name__} is not a JSON value", "use a string, number, list or object"


def value_problems(name: str, value: Any) -> list[Problem]:
    """Every part of ``value`` past the bounds, as problems of file ``name``.

    Walks with an explicit stack, so a value nested thousands deep (built in Python, or
    read before this check existed) is reported, not a RecursionError. Stops after
    ``MAX_PROBLEMS``. Runs on every load (the daemon reloads often), so a node costs a
    few type checks and, for a string, one regex search.
    """
    problems: list[Problem] = []
    stack: list[tuple[Any, _Link, int]] = [(value, (), 0)]
    while stack and len(problems) < MAX_PROBLEMS:
        item, link, depth = stack.pop()
        kind = type(item)
        if kind is str and len(item) <= MAX_TEXT and not NOT_IN_TEXT.search(item):
            continue  # the common case, checked inline
        if kind is bool or item is None or (kind is int and -MAX_NUMBER <= item <= MAX_NUMBER):
            continue
        found = _node_problem(item, depth)
        if found is not None:
            problems.append(Problem(name, _spelt(link), *found))
            continue
        if isinstance(item, list):
            stack.extend((v, (i, link), depth + 1) for i, v in enumerate(item))
        elif isinstance(item, dict):
            for key, v in item.items():
                key = key if isinstance(key, str) else str(key)
                if len(key) <= MAX_KEY and not NOT_IN_LINE.search(key):
                    stack.append((v, (key, link), depth + 1))
                else:
                    what = f"the key {text_problem(key, MAX_KEY, single_line=True)}"
                    problems.append(Problem(name, _spelt((json.dumps(key[:40]), link)), what))
    problems.sort(key=lambda p: p.field)  # the stack pops the last key first
    return problems


def read_json_file(path: Path, name: str, problems: list[Problem]) -> Any:
    """Parse one file within the bounds of :mod:`.limits`; on a problem add it, return None.

    Malformed JSON is reported with its line and column; a file too large, too deeply
    nested or holding a number too long to convert is refused before anything reads it.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            # A FIFO would block every command; a device could be endless.
            problems.append(Problem(name, "", "is not a regular file", "make it a plain file"))
            return None
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            problems.append(
                Problem(
                    name,
                    "",
                    f"is larger than the limit of {MAX_FILE_BYTES} bytes (4 MiB)",
                    "keep it under 4 MiB: a config this size is a mistake or a paste",
                )
            )
            return None
        text = data.decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(name, "", f"cannot read the file ({exc})", "check its permissions"))
        return None
    try:
        return parse_json(text, name)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    except json.JSONDecodeError as exc:
        fix = "fix the JSON syntax there"
        if exc.pos >= len(text.rstrip()) or _structure(text, len(text))[1]:
            fix = "the file ends too early (truncated?): close every { [ and string"
        elif "delimiter" in exc.msg:
            fix = "a comma or colon is missing, or there is a trailing comma"
        problems.append(
            Problem(
                name, f"line {exc.lineno}, column {exc.colno}", f"malformed JSON: {exc.msg}", fix
            )
        )
        return None
