"""A running daemon imports only what it needs (issue 19: an idle daemon's RSS).

The daemon is started the way ``amgr run`` starts it, in a child process; once it says
it is ready (``daemon.json`` ``ready_at``) the child writes what it imported and the
configuration it holds, and stops itself with SIGTERM.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from automation_manager.config.defaults import default_config, default_schedules
from automation_manager.engine.warm import AHEAD_S

# Imported by a run that needs them, never by a daemon's start.
HEAVY = (
    "PIL",  # visuals
    "imageio_ffmpeg",
    "openai",  # llm
    "starlette",  # dashboard
    "uvicorn",
    "jinja2",
    "celery",  # executor celery
    "kombu",
    "redis",
    "sklearn",  # pipeline
    "rapidfuzz",  # near-duplicates
    "selenium",
    "prometheus_client",  # metrics
    "psutil",  # resources
    "ebooklib",
    "rich",
    "asyncio",
    "httpx",
    "croniter",  # only a cron schedule needs it
    "difflib",  # only a mistake to name needs it
    "filelock",  # the daemon lock and the recovery lock are a plain flock
    "pydantic",  # the files are validated by a child process (config.apart)
    "pydantic_core",
)
# amgr's own packages a start does not need either.
OURS = (
    "automation_manager.visuals",
    "automation_manager.pipeline",
    "automation_manager.dashboard",
    "automation_manager.publishers",
    "automation_manager.distributed.app",
    "automation_manager.executors.content",
)

CHILD = """
import json, os, signal, sys, threading, time
from pathlib import Path

home, out = Path(sys.argv[1]), Path(sys.argv[2])


def report():
    try:
        info = home / ".mp" / "state" / "daemon.json"
        while True:
            try:
                if json.loads(info.read_text()).get("ready_at"):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        import gc

        from automation_manager.config.loader import Workspace

        ws = next(o for o in gc.get_objects() if isinstance(o, Workspace))
        platforms = {
            name: [type(p).__name__, p.max_concurrent, p.window.mode]
            for name, p in ws.config.platforms.items()
        }
        held = {"tasks": [s.id for s in ws.tasks], "platforms": platforms}
        out.write_text(json.dumps({"modules": sorted(sys.modules), "held": held}))
    finally:
        os.kill(os.getpid(), signal.SIGTERM)


threading.Thread(target=report, daemon=True).start()
sys.argv = ["amgr", "--home", str(home), "run"]
from automation_manager.cli import main

main()
"""


def start_and_report(
    root: Path,
    platforms: dict[str, Any] | None = None,
    *,
    child: str = CHILD,
    schedule: str | dict[str, str] = "hourly",
) -> dict[str, Any]:
    home = root / "home"
    home.mkdir(parents=True)
    config = default_config() | {"log_level": "warning"}
    if platforms is not None:
        config["platforms"] = platforms
    (home / "config.json").write_text(json.dumps(config))
    (home / "schedules.json").write_text(json.dumps(default_schedules()))
    task = {"id": "hourly", "type": "pending_report", "schedule": schedule}
    (home / "tasks.json").write_text(json.dumps({"maintenance": [task]}))
    out = root / "report.json"
    try:
        done = subprocess.run(
            [sys.executable, "-c", child, str(home), str(out)],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "AMGR_VISUALS": "none"},
        )
    except subprocess.TimeoutExpired as exc:  # say where it stood
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr
        state = home / ".mp" / "state" / "daemon.json"
        raise AssertionError(
            f"the daemon did not start and stop in 120 s; report written: {out.exists()}; "
            f"daemon.json: {state.read_text() if state.exists() else 'none'}; stderr: {err}"
        ) from None
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def test_an_idle_daemon_imports_no_heavy_library(tmp_path: Path) -> None:
    report = start_and_report(tmp_path)
    modules = set(report["modules"])
    assert "automation_manager.engine.daemon" in modules  # it did start the daemon
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], f"a daemon's start imported {heavy}"
    ours = sorted(m for m in modules if m.startswith(OURS))
    assert ours == [], f"a daemon's start imported {ours}"


def test_a_daemon_holds_its_validated_configuration_without_pydantic(tmp_path: Path) -> None:
    platforms = {"site": {"kind": "filesystem", "path": "site"}, "youtube": {"kind": "outbox"}}
    report = start_and_report(tmp_path, platforms)
    assert "pydantic" not in report["modules"]
    # what a child process validated, defaults filled in, as the daemon's own objects
    assert report["held"] == {
        "tasks": ["hourly"],
        "platforms": {
            "site": ["FilesystemPlatform", 1, "immediate"],
            "youtube": ["OutboxPlatform", 1, "immediate"],
        },
    }


WARM_CHILD = """
import json, os, signal, sys, threading, time
from pathlib import Path

home, out = Path(sys.argv[1]), Path(sys.argv[2])
RUNNER = "automation_manager.executors.maintenance"


def report():
    try:
        info = home / ".mp" / "state" / "daemon.json"
        while not json.loads(info.read_text() if info.exists() else "{}").get("ready_at"):
            time.sleep(0.01)
        at_ready, ready_at = RUNNER in sys.modules, time.time()
        give_up = time.monotonic() + 30
        while RUNNER not in sys.modules and time.monotonic() < give_up:
            time.sleep(0.005)
        imported_at = time.time()
        logs = home / ".mp" / "automation" / "logs"
        lines = []
        while not lines and time.monotonic() < give_up:
            lines = [l for p in logs.glob("*.jsonl") for l in p.read_text().splitlines()]
            time.sleep(0.02)
        due = json.loads(lines[0])["scheduled_for"] if lines else None
        out.write_text(json.dumps({"at_ready": at_ready, "ready_at": ready_at,
                                   "imported_at": imported_at, "first_due": due}))
    finally:
        os.kill(os.getpid(), signal.SIGTERM)


threading.Thread(target=report, daemon=True).start()
sys.argv = ["amgr", "--home", str(home), "run"]
from automation_manager.cli import main

main()
"""


def warm_round(root: Path) -> dict[str, Any]:
    report = start_and_report(root, child=WARM_CHILD, schedule={"interval": "8s"})
    assert report["first_due"] is not None, "the task never ran"
    return report


def test_a_types_runner_is_imported_before_its_first_run_not_by_it(tmp_path: Path) -> None:
    # Not at start (an idle daemon stays small), but ahead of the first firing: its run
    # finds its executor (and pydantic) imported. A first firing due within seconds of
    # the start has it imported before serving. Where the first firing falls depends on
    # the start's instant: rounds until one was due well after the start.
    ahead_checked = False
    for round_ in range(6):
        report = warm_round(tmp_path / str(round_))
        due = datetime.fromisoformat(report["first_due"]).timestamp()
        lead = due - report["ready_at"]
        if lead > AHEAD_S + 0.5:
            assert report["at_ready"] is False, report
            ahead = due - report["imported_at"]
            assert ahead > 1.0, f"imported {ahead:.2f} s before the first firing"
            ahead_checked = True
            break
        if lead < AHEAD_S - 0.5:
            assert report["at_ready"] is True, report
    assert ahead_checked, "no round had its first firing due seconds after its start"
