"""The daemon's signals: SIGINT/SIGTERM stop it, a second one stops waiting, SIGHUP reloads.

SIGHUP is the reload signal of the systemd ``ExecReload=kill -HUP $MAINPID`` convention
(and of most Unix daemons); left at its default it would kill the daemon instead.
The handlers run on the main thread between two bytecodes, so they only set flags, log
and wake the loop: the loop does the work.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
RELOAD_SIGNAL = signal.SIGHUP


class StopSignals:
    """Installs the daemon's handlers for the duration of a ``with`` block (main thread only).

    :param on_stop: called with the signal's name on the first SIGINT/SIGTERM.
    :param on_force: called on any further one (stop waiting for the grace period).
    :param on_reload: called with ``"SIGHUP"`` on each SIGHUP; None leaves SIGHUP alone.
    """

    def __init__(
        self,
        on_stop: Callable[[str], None],
        on_force: Callable[[str], None],
        on_reload: Callable[[str], None] | None = None,
    ) -> None:
        self._on_stop = on_stop
        self._on_force = on_force
        self._on_reload = on_reload
        self._previous: dict[int, Any] = {}
        self._count = 0

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._count += 1
        name = signal.Signals(signum).name
        if self._count == 1:
            self._on_stop(name)
        else:
            self._on_force(name)

    def _handle_reload(self, signum: int, frame: FrameType | None) -> None:
        if self._on_reload is not None:
            self._on_reload(signal.Signals(signum).name)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
            if self._on_reload is not None:
                self._previous[RELOAD_SIGNAL] = signal.signal(RELOAD_SIGNAL, self._handle_reload)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
