"""SIGINT/SIGTERM → a clean stop; a second one stops waiting for running tasks."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Installs stop handlers for the duration of a ``with`` block (main thread only).

    :param on_stop: called with the signal's name on the first signal.
    :param on_force: called on any further signal (stop waiting for the grace period).
    """

    def __init__(self, on_stop: Callable[[str], None], on_force: Callable[[str], None]) -> None:
        self._on_stop = on_stop
        self._on_force = on_force
        self._previous: dict[int, Any] = {}
        self._count = 0

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._count += 1
        name = signal.Signals(signum).name
        if self._count == 1:
            self._on_stop(name)
        else:
            self._on_force(name)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
