"""Rendering helpers: rich on a TTY, plain text when piped, one JSON document with --json.

Everything the CLI prints goes through :func:`masked_output`: stdout and stderr (click,
rich, the daemon's log lines, ``history --csv``) are wrapped so every secret in the
registry is masked on its way out.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Protocol

import click

from ..secrets import REGISTRY

if TYPE_CHECKING:
    from rich.console import Console

    from ..home import Home
    from ..manager import AutomationManager


def is_tty() -> bool:
    return sys.stdout.isatty()


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def manager(ctx: click.Context, *, read_only: bool = False) -> AutomationManager:
    """The manager for ``--home``; the workspace is validated (exit 2 on bad files).

    :param read_only: the command only shows things: when a file fails validation it
        prints one warning naming the problem and uses the last good configuration the
        daemon loaded, or the defaults (:mod:`~automation_manager.config.lastgood`).
    """
    from ..errors import ConfigError
    from ..manager import AutomationManager

    obj = ctx.find_root().obj
    if obj.get("manager") is None:
        mgr = AutomationManager(obj.get("home"))
        try:
            ws = mgr.workspace
        except ConfigError as exc:
            if not read_only or not any(
                p.exists() for p in (mgr.home.config_path, mgr.home.tasks_path)
            ):
                raise
            from ..config.lastgood import fallback

            used = fallback(mgr.home)
            ws = mgr.use_workspace(used.workspace)
            first = str(exc.problems[0]) if exc.problems else str(exc)
            more = len(exc.problems) - 1
            also = f" (and {more} more: amgr validate lists them)" if more > 0 else ""
            click.echo(f"warning: {first}{also}; showing {used.source}", err=True)
        else:
            obj["validated"] = True  # the files themselves, not a fallback
        REGISTRY.register_config(ws.config)  # masked from the first line out
        obj["workspace"] = ws
        obj["manager"] = mgr
    result: AutomationManager = obj["manager"]
    return result


class HomeView(Protocol):
    """What a command that only reads the log needs: the home and the time."""

    @property
    def home(self) -> Home: ...

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class _KeptView:
    """A :class:`HomeView` from the kept facts (:mod:`~automation_manager.config.facts`)."""

    home: Home
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock()


def home_view(ctx: click.Context) -> HomeView:
    """The home and clock for a read-only command that needs nothing else from the files
    (``history``): from the facts kept when they last validated, without pydantic, while
    the files are unchanged; else :func:`manager` (``read_only``: validation, and the
    last-good fallback with its warning). Either way the config's secrets are registered
    before anything is printed.
    """
    from ..config.facts import current, remember
    from ..home import Home

    obj = ctx.find_root().obj
    if obj.get("view") is not None:
        return obj["view"]  # type: ignore[no-any-return]
    if obj.get("workspace") is not None:
        return manager(ctx)  # validated already, by an earlier call
    preset: AutomationManager | None = obj.get("manager")
    home = preset.home if preset is not None else Home.resolve(obj.get("home"))
    facts = current(home)
    if facts is None:
        mgr = manager(ctx, read_only=True)
        if obj.get("validated"):
            remember(obj["workspace"])  # so that the next one starts light
        return mgr
    REGISTRY.register_names(facts.secret_names)  # masked from the first line out
    clock = preset.injected_clock if preset is not None else None
    if clock is None:
        from ..engine.clock import system_clock

        clock = system_clock(facts.timezone_name)
    kept = _KeptView(home, clock)
    obj["view"] = kept
    return kept


def table(title: str | None, columns: list[str], rows: list[list[str]]) -> None:
    """A rich table on a TTY; tab-separated plain text when piped."""
    if is_tty():
        from rich.table import Table

        t = Table(title=title, show_lines=False)
        for col in columns:
            t.add_column(col)
        for row in rows:
            t.add_row(*row)
        console().print(t)
    else:
        if title:
            click.echo(title)
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join(row))


class _Passthrough:
    """What a masking stream forwards to the stream it wraps, unchanged."""

    inner: IO[Any]

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self.inner.flush()

    def fileno(self) -> int:
        return self.inner.fileno()

    def isatty(self) -> bool:
        return self.inner.isatty()


class MaskedBytes(_Passthrough, io.RawIOBase):
    """A binary stdout that masks every registered secret in what is written to it.

    Its file descriptor is the real one: ``history --json`` sends the records' stored
    bytes with a zero-copy ``writev`` (scanning a year of records for secrets would cost
    seconds; each record was scrubbed when it was written), and the rest through here.
    """

    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self.inner = inner

    def write(self, data: Any) -> int:
        raw = bytes(data)
        self.inner.write(REGISTRY.mask_bytes(raw) if REGISTRY.forms else raw)
        return len(raw)


class MaskedText(_Passthrough, io.TextIOBase):
    """A text stream that masks every registered secret before writing to ``inner``.

    Looks like the stream it wraps (encoding, ``isatty``, ``fileno``) so click and rich
    write to it as they would to the terminal, instead of around it.
    """

    def __init__(self, inner: IO[str]) -> None:
        super().__init__()
        self.inner = inner
        binary = getattr(inner, "buffer", None)
        self._buffer = MaskedBytes(binary) if binary is not None else None

    @property
    def buffer(self) -> MaskedBytes:
        if self._buffer is None:
            raise AttributeError("buffer")
        return self._buffer

    # typeshed calls these attributes; io makes them read-only properties.
    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None) or "strict"

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.inner.write(REGISTRY.mask(text))
        return len(text)


@contextmanager
def masked_output() -> Iterator[None]:
    """Wrap ``sys.stdout`` and ``sys.stderr`` in :class:`MaskedText` for the duration."""
    saved = sys.stdout, sys.stderr
    if isinstance(sys.stdout, MaskedText) or sys.stdout is None or sys.stderr is None:
        yield  # already masked (a nested invoke), or no streams to print to at all
        return
    sys.stdout, sys.stderr = MaskedText(sys.stdout), MaskedText(sys.stderr)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = saved
