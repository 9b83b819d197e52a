"""A home's files validated in a child process, for the daemon.

The daemon holds its configuration for as long as it runs; validating it in its own
process would import pydantic and keep its compiled validators (~18 MiB of an idle
daemon that is otherwise ~20). So :func:`load_apart` has ``python -m
automation_manager.config.apart`` validate the files with :func:`.loader.load_workspace`
and send the :class:`~.loader.Workspace` back pickled: plain dataclasses (see
:mod:`.base`), which the daemon unpickles without pydantic. The problems of a bad file
come back as the same :class:`~automation_manager.errors.ConfigError`.

The child reads the files itself, as the daemon would; it writes nothing, and its
answer is the only thing on its stdout.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AmgrError, ConfigError

if TYPE_CHECKING:
    from ..home import Home
    from .loader import Workspace

TIMEOUT_S = 120.0
"""A validation taking longer than this is a failure (the default home takes ~0.45 s,
most of it the child's start and its import of pydantic)."""

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def load_apart(home: Home) -> Workspace:
    """:func:`~.loader.load_workspace` of ``home``, run in a child process.

    :raises ConfigError: with every problem found, as in-process loading would.
    :raises AmgrError: when the child fails (it is named, with its last words).
    """
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = _PACKAGE_ROOT + (os.pathsep + path if path else "")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", __name__],
            input=os.fsencode(home.root),
            capture_output=True,
            timeout=TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AmgrError(f"could not validate the files of {home.root}: {exc}") from None
    kind: str = ""
    value: Any = None
    if proc.returncode == 0:
        with contextlib.suppress(Exception):  # a child that died halfway: stderr says why
            kind, value = pickle.loads(proc.stdout)
    if kind == "ok":
        ws: Workspace = value
        return ws
    if kind == "problems":
        raise ConfigError(list(value))
    said = str(value) if kind == "error" else proc.stderr.decode("utf-8", "replace")
    last = said.strip().splitlines()[-1] if said.strip() else "no output"
    raise AmgrError(f"validating the files of {home.root} failed (exit {proc.returncode}): {last}")


def _main() -> int:
    from ..home import Home
    from .loader import load_workspace

    root = os.fsdecode(sys.stdin.buffer.read())
    answer: tuple[str, Any]
    try:
        answer = ("ok", load_workspace(Home(Path(root))))
    except ConfigError as exc:
        answer = ("problems", exc.problems)
    except Exception as exc:
        answer = ("error", f"{type(exc).__name__}: {exc}")
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
