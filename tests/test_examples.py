"""The repository's own config.json, tasks.json and schedules.json: working examples.

They are what ``amgr init`` writes (so they never drift from the defaults), and a clone
is a home the CLI accepts as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from automation_manager.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FILES = ("config.json", "tasks.json", "schedules.json")


def test_the_examples_are_what_init_writes(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "fresh")])
    assert result.exit_code == 0, result.output
    for name in FILES:
        ours = json.loads((ROOT / name).read_text())
        assert ours == json.loads((tmp_path / "fresh" / name).read_text()), (
            f"{name} differs from `amgr init`: run `amgr init` in a scratch folder and copy it"
        )


def test_the_examples_validate_and_plan(tmp_path: Path) -> None:
    home = tmp_path / "clone"
    home.mkdir()
    for name in FILES:
        (home / name).write_text((ROOT / name).read_text())
    valid = CliRunner().invoke(cli, ["--home", str(home), "validate"])
    assert valid.exit_code == 0, valid.output
    assert "valid:" in valid.output
    plan = CliRunner().invoke(cli, ["--home", str(home), "plan", "--days", "2", "--json"])
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.output)
