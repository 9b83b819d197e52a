"""The ``http_check`` and ``command`` actions.

``command`` runs a program with arguments from a list — never through a shell — under a
timeout, an address-space limit (``RLIMIT_AS``), a CPU-time limit (``RLIMIT_CPU``) and
``nice``; its output goes to files, not pipes, so a chatty program cannot block, and its
exact CPU time and peak memory come back from ``wait4``. Going past a limit fails that
action with a message that says which limit; the daemon is never touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import TaskError, TransientError
from . import resources

if TYPE_CHECKING:
    from ..executors.base import RunContext

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_NICE = 10
OUTPUT_TAIL = 2_000


def http_check_action(ctx: RunContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """GET ``url`` and expect ``expect`` (default 200)."""
    import httpx

    url = str(params["url"])
    expect = int(params.get("expect", 200))
    timeout = float(params.get("timeout_s", 10.0))
    t0 = time.monotonic()
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise TransientError(f"GET {url} failed: {type(exc).__name__}: {exc}") from exc
    ms = int((time.monotonic() - t0) * 1000)
    if response.status_code != expect:
        raise TaskError(f"GET {url} answered HTTP {response.status_code}, expected {expect}")
    return {
        "summary": f"GET {url}: HTTP {response.status_code} in {ms} ms",
        "url": url,
        "status_code": response.status_code,
        "elapsed_ms": ms,
    }


def _tail(path: str) -> str:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - OUTPUT_TAIL))
        return f.read().decode("utf-8", "replace")


def command_action(ctx: RunContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``argv`` (no shell) under the task's limits; fails on a non-zero exit."""
    import subprocess

    argv = [str(a) for a in params["argv"]]
    timeout = float(params.get("timeout_s", DEFAULT_TIMEOUT_S))
    limits = resources.child_limits(
        ctx.spec.task.resources,
        memory_mb=params.get("memory_mb"),
        cpu_s=params.get("cpu_s", timeout),
        nice=int(params.get("nice", DEFAULT_NICE)),
        home=ctx.home.root,
    )
    with tempfile.TemporaryDirectory(prefix="amgr-cmd-") as scratch:
        out_path, err_path = os.path.join(scratch, "out"), os.path.join(scratch, "err")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    cwd=ctx.home.root,
                    preexec_fn=limits.apply,
                    start_new_session=True,
                )
            except OSError as exc:
                raise TaskError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from exc
            status, usage, timed_out = _wait(proc.pid, timeout, ctx)
        resources.note_child(ctx.record_id, usage)
        stdout, stderr = _tail(out_path), _tail(err_path)
    code = os.waitstatus_to_exitcode(status)
    cpu_s = round(usage.ru_utime + usage.ru_stime, 3)
    peak_mb = round(usage.ru_maxrss / 1024, 1)
    result = {
        "argv": argv,
        "exit_code": code,
        "cpu_s": cpu_s,
        "peak_rss_mb": peak_mb,
        "stdout": stdout,
        "stderr": stderr,
    }
    if timed_out:
        raise TaskError(f"{argv[0]} ran past its timeout_s ({timeout:g} s) and was killed")
    if code == -signal.SIGXCPU or (
        code == -signal.SIGKILL and limits.cpu_s and cpu_s >= limits.cpu_s
    ):
        raise TaskError(
            f"{argv[0]} went past its CPU-time limit ({limits.cpu_s:g} s) and was stopped"
        )
    if code != 0:
        why = f"{argv[0]} exited with {code}"
        if limits.memory_mb is not None and (code != 0) and _memory_failure(stderr, code):
            why += f": it went past its memory limit ({limits.memory_mb:g} MB, RLIMIT_AS)"
        raise TaskError(why + (f"; stderr: {stderr.strip()[-300:]}" if stderr.strip() else ""))
    return {"summary": f"{argv[0]} exited 0 in {cpu_s:g} CPU s", **result}


def _memory_failure(stderr: str, code: int) -> bool:
    text = stderr.lower()
    return code in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGKILL) or any(
        s in text
        for s in ("memoryerror", "cannot allocate", "out of memory", "bad_alloc", "std::bad_alloc")
    )


def _wait(pid: int, timeout: float, ctx: RunContext) -> tuple[int, Any, bool]:
    """Wait for ``pid`` (its exact rusage), killing its group on timeout or cancel."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    timed_out = False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done == pid:
            return status, usage, timed_out
        if not timed_out and (time.monotonic() > deadline or ctx.cancel.is_set()):
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
