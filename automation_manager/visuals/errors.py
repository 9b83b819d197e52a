"""Why a visual could not be made: the setting to change and how."""

from __future__ import annotations

from ..errors import TaskError


class VisualsError(TaskError):
    """A visual failed for a reason a person fixes (a logo, a font, a size, a refusal).

    The item keeps its text and is marked ``needs_visuals`` with this message; the run
    does not fail.

    :param setting: the config field at fault, e.g. ``config.json: brand.logo``.
    """

    def __init__(self, setting: str, what: str, fix: str) -> None:
        super().__init__(f"{setting}: {what} — {fix}")
        self.setting = setting
