"""Resource admission with an injected machine-state probe: a run that does not fit
waits, then is skipped with the reason; one that fits once another run releases runs."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from automation_manager.config.base import validate
from automation_manager.config.operations import Resources
from automation_manager.engine.runner import RunRequest, execute_run
from automation_manager.manager import AutomationManager
from automation_manager.operations import resources
from automation_manager.operations.resources import MachineState, Share, why_not

MACHINE = MachineState(
    cpu_used_pct=10.0,
    memory_total_mb=1000.0,
    memory_available_mb=600.0,
    disk_total_mb=10_000.0,
    disk_free_mb=5_000.0,
)


def probe(home: Path) -> MachineState:
    return MACHINE


def add(home: Path, task: dict[str, Any]) -> None:
    data = json.loads((home / "tasks.json").read_text())
    data["maintenance"].append(task)
    (home / "tasks.json").write_text(json.dumps(data))


def report_task(task_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": task_id, "type": "actions", "actions": [{"type": "report"}], **extra}


def test_share_in_percent_and_absolute() -> None:
    share = Share.of(Resources(cpu=20.0, memory=30.0, storage=50.0), MACHINE)
    assert share == Share(20.0, 300.0, 5_000.0)
    assert Share.of(Resources(memory_mb=512), MACHINE).memory_mb == 512


def test_why_not_names_the_resource() -> None:
    assert why_not(Share(cpu_pct=95), Share(), MACHINE) is not None
    assert "cpu 95%" in str(why_not(Share(cpu_pct=95), Share(), MACHINE))
    assert why_not(Share(memory_mb=500), Share(), MACHINE) is None
    held = Share(memory_mb=600)  # what running runs hold counts too
    assert "memory 500 MB does not fit" in str(why_not(Share(memory_mb=500), held, MACHINE))
    assert "storage" in str(why_not(Share(storage_mb=6_000), Share(), MACHINE))


def test_a_run_that_does_not_fit_waits_then_is_skipped_with_the_reason(home: Path) -> None:
    add(home, report_task("big", resources={"memory_mb": 700}, resource_wait_s=0.3))
    mgr = AutomationManager(home)
    with resources.use_probe(probe):
        t0 = time.monotonic()
        record = mgr.run(mgr.resolve_task("maintenance", "big"))
        waited = time.monotonic() - t0
    assert record.status == "skipped"
    assert record.error is not None
    assert record.error.startswith("resources: memory 700 MB does not fit (600 MB free")
    assert "waited 0.3 s (resource_wait_s)" in record.error
    assert waited >= 0.3
    assert record.resources_used is not None


def test_a_run_waits_for_a_running_run_to_release_its_share(home: Path) -> None:
    add(home, report_task("most", resources={"memory": 60.0}, resource_wait_s=10))
    mgr = AutomationManager(home)
    spec = mgr.resolve_task("maintenance", "most")
    roomy = dataclasses.replace(MACHINE, memory_available_mb=900.0)
    with resources.use_probe(lambda home: roomy):
        resources.admit(spec, home, "other-run")  # a running run holds 600 of 1000 MB
        assert resources.why_not(Share(memory_mb=600), Share(memory_mb=600), roomy)
        timer = threading.Timer(0.3, resources.release, args=("other-run",))
        timer.start()
        t0 = time.monotonic()
        record = mgr.run(spec)
        timer.join()
    assert record.status == "success", record.error
    assert 0.25 <= time.monotonic() - t0 < 8


def test_tasks_without_resources_never_probe(home: Path) -> None:
    add(home, report_task("plain"))
    mgr = AutomationManager(home)

    def boom(home: Path) -> MachineState:
        raise AssertionError("probed")

    with resources.use_probe(boom):
        assert mgr.run(mgr.resolve_task("maintenance", "plain")).status == "success"


@pytest.mark.parametrize("value", [{"cpu": 100.5}, {"memory": 30, "memory_mb": 10}])
def test_resources_model_refuses(value: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        validate(Resources, value)


def test_a_waiting_run_shows_its_reason_in_status(home: Path) -> None:
    from click.testing import CliRunner

    from automation_manager.cli import cli

    add(home, report_task("big", resources={"memory_mb": 700}, resource_wait_s=30))
    mgr = AutomationManager(home)
    spec = mgr.resolve_task("maintenance", "big")
    seen: dict[str, Any] = {}
    cancel = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "status" not in seen:
            out = CliRunner().invoke(cli, ["--home", str(home), "status", "--json"])
            runs = json.loads(out.stdout)["in_progress"] if out.exit_code == 0 else []
            if runs and runs[0].get("waiting_for_resources"):
                seen["status"] = runs[0]
                seen["table"] = CliRunner().invoke(cli, ["--home", str(home), "status"]).output
            time.sleep(0.05)
        cancel.set()  # stop waiting: the run is skipped at once

    watcher = threading.Thread(target=watch)
    with resources.use_probe(probe):
        watcher.start()
        record = execute_run(mgr.workspace, RunRequest(spec=spec), cancel=cancel)
        watcher.join()
    assert seen, "status never showed the waiting run"
    assert seen["status"]["waiting_for_resources"].startswith("memory 700 MB does not fit")
    assert "(queued: memory 700 MB does not fit" in seen["table"]
    assert record.status == "skipped" and record.error is not None
    assert record.error.startswith("resources: memory 700 MB")
    assert not list((home / ".mp" / "state" / "waiting").glob("*.json"))
