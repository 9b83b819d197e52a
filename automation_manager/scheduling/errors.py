"""The one error a bad schedule value raises."""

from __future__ import annotations


class ScheduleSpecError(ValueError):
    """A schedule value is wrong: where, what, and how to fix it.

    :param field: dotted path inside the schedule value (``''`` for the whole value,
        e.g. ``'at'``, ``'at[1]'``, ``'timezone'``, ``'cron'``).
    :param message: what is wrong, quoting the offending value.
    :param fix: how to fix it, with a concrete example of a valid value.
    """

    def __init__(self, field: str, message: str, fix: str) -> None:
        self.field = field
        self.message = message
        self.fix = fix
        where = f"{field}: " if field else ""
        super().__init__(f"{where}{message} — {fix}" if fix else f"{where}{message}")

    def __reduce__(self) -> tuple[type[ScheduleSpecError], tuple[str, str, str]]:
        return (type(self), (self.field, self.message, self.fix))


def quoted(value: object, width: int = 60) -> str:
    """``value``'s repr for a message, cut to ``width`` characters: a 10,000-character
    value quoted whole would bury the fix."""
    shown = repr(value)
    return shown if len(shown) <= width else shown[: width - 3] + "..."
