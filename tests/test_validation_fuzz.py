"""Fuzz: a few hundred seeded random mutations of the default files.

``amgr validate`` exits 0 or 2, never 1 and never a traceback; whenever it exits 0,
``plan --days 400``, ``status`` and ``tasks list`` exit 0 on that home too: a config
that validates never crashes a later command. The mutations are what breaks loaders:
huge and non-finite numbers, deep nesting, long and control-character strings, wrong
types, out-of-range durations and schedules, system variables as ``*_env``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fake_platforms import run

FILES = ("config.json", "tasks.json", "schedules.json")


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


_DURATIONS = ["99999999d", "367d", "366d", "1e9", "-5m", "0s", "0.4s", "1s", "15m", "1h", "7d"]
_STRINGS = [
    *_DURATIONS, "", "x" * 301, "t" * 300, "a\x00b", "\ud800", "tab\there", "line\nfeed",
    "HOME", "LC_ALL", "MY_SECRET", "25:00", "09:00", "mon", "Europe/Berlin", "Mars/Base",
    "../../etc", "Europe/" * 300, "é" * 129, "0 9 * * 1-5", "* * 31 2 *", "@yearly", "y" * 10_001,
]  # fmt: skip
_NUMBERS = [0, -1, 1, 31, 32, 2**53, 2**53 + 1, 10**17, 1e308, -1e308, 0.5, 86_401, 604_801]
_OTHER: list[Any] = [True, False, None, [], {}, [1, "a"], {"a": 1}]


def _schedule(rng: random.Random) -> Any:
    shapes: list[Callable[[], Any]] = [
        lambda: {"interval": rng.choice(_DURATIONS + _NUMBERS)},
        lambda: {"interval": rng.choice(_DURATIONS), "jitter": rng.choice(_DURATIONS)},
        lambda: {"every": "month", "day": rng.choice(_NUMBERS), "grace": rng.choice(_DURATIONS)},
        lambda: {"every": "day", "at": ["09:00"] * rng.choice([1, 100, 101])},
        lambda: {"every": "week", "days": ["mon", "fri"] * rng.randint(0, 5)},
        lambda: {"cron": rng.choice(_STRINGS), "timezone": rng.choice(_STRINGS)},
        lambda: rng.choice(["hourly", "daily", "weekly", "biweekly", "monthly"]),
    ]
    return rng.choice(shapes)()


def _value(rng: random.Random) -> Any:
    pick = rng.random()
    if pick < 0.1:
        return f"__DEEP_{rng.choice([31, 33, 900, 5000])}__"
    if pick < 0.15:
        return f"__DIGITS_{rng.choice([16, 17, 5000])}__"
    if pick < 0.25:
        return f"__RAW_{rng.choice(['NaN', '-Infinity', '1e999'])}__"
    if pick < 0.45:
        return _schedule(rng)
    return rng.choice([*_STRINGS, *_NUMBERS, *_OTHER])


def _slots(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in ``doc``."""
    out: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        keys = range(len(node)) if isinstance(node, list) else list(node)
        for key in keys:
            out.append((node, key))
            if isinstance(node[key], dict | list):
                stack.append(node[key])
    return out


def _mutate(rng: random.Random, doc: Any) -> None:
    container, key = rng.choice(_slots(doc))
    action = rng.random()
    if action < 0.1 and isinstance(container, dict):
        del container[key]
    elif action < 0.2 and isinstance(container, dict):
        container[rng.choice(["schedule", "jitter", "x", "timeout_s", "priority"])] = _value(rng)
    elif action < 0.55:
        container[key] = _value(rng)
    else:  # a value of the same kind: often valid, so later commands get exercised
        current = container[key]
        if isinstance(current, bool) or current is None:
            container[key] = rng.choice([True, False, None])
        elif isinstance(current, int | float):
            container[key] = rng.choice([*_NUMBERS, rng.randint(0, 100), rng.random() * 10])
        elif isinstance(current, str):
            container[key] = _schedule(rng) if key == "schedule" else rng.choice(_STRINGS)
        else:
            container[key] = _value(rng)


def _text(doc: Any) -> str:
    text = json.dumps(doc, indent=1)
    text = re.sub(r'"__DEEP_(\d+)__"', lambda m: _deep(int(m.group(1))), text)
    text = re.sub(r'"__DIGITS_(\d+)__"', lambda m: "7" * int(m.group(1)), text)
    return re.sub(r'"__RAW_([^_]+)__"', lambda m: m.group(1), text)


def test_random_files_validate_or_exit_2_and_what_validates_runs(home: Path) -> None:
    rng = random.Random(20261201)
    originals = {name: json.loads((home / name).read_text()) for name in FILES}
    # Every schedule form of the defaults, fewer repeats: plan --days 400 is the cost.
    for category, keep in (("monetization", 2), ("maintenance", 1)):
        del originals["tasks.json"][category][keep:]
    outcomes = {0: 0, 2: 0}
    for round_ in range(250):
        docs = json.loads(json.dumps(originals))
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            _mutate(rng, docs[rng.choice(FILES)])
        for name in FILES:
            (home / name).write_text(_text(docs[name]))
        result = run(home, "validate")
        assert result.exit_code in (0, 2), (round_, docs, result.output, result.exception)
        assert "Traceback" not in result.output and "internal error" not in result.output
        outcomes[result.exit_code] += 1
        if result.exit_code == 0:
            for args in (["plan", "--days", "400"], ["status"], ["tasks", "list"]):
                later = run(home, *args)
                assert later.exit_code == 0, (round_, args, docs, later.output, later.exception)
    assert outcomes[0] >= 20 and outcomes[2] >= 20, outcomes  # both paths exercised
