"""Small wording helpers shared by every command's output (one place for the grammar)."""

from __future__ import annotations

from datetime import timedelta


def plural(count: int | float, noun: str, many: str | None = None) -> str:
    """``1 run``, ``2 runs``, ``0 runs``; ``many`` for irregular nouns (``1 entry``/``entries``).

    A float count keeps its shortest form (``next 1.5 days``, ``next 1 day``).
    """
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    word = noun if count == 1 else (many if many is not None else noun + "s")
    return f"{shown} {word}"


def span(value: timedelta) -> str:
    """A duration for a person, its two largest units: ``2h 5m``, ``3d 4h``, ``42s``.

    Like ``systemctl list-timers``' LEFT and PASSED: exact enough to read, short enough
    for a column. Negative durations read as zero (a moment that has just passed).
    """
    seconds = max(0, int(value.total_seconds()))
    parts: list[str] = []
    for unit, name in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        count, seconds = divmod(seconds, unit)
        if count or (parts and len(parts) < 2):
            parts.append(f"{count}{name}")
        if len(parts) == 2:
            break
    if parts and parts[-1].startswith("0") and len(parts) == 2:
        parts.pop()
    return " ".join(parts) or "0s"


def format_ms(value: object) -> str:
    """A run's duration in milliseconds for a person: ``850 ms``, ``12.3 s``, ``4.5 min``
    ('' for a value that is not a number)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    if value < 1000:
        return f"{int(value)} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.1f} min"
