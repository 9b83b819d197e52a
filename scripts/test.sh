#!/usr/bin/env bash
# Install the test dependencies into .venv (created if missing) and run every quality gate.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
echo "== ruff check";         .venv/bin/ruff check automation_manager tests bench
echo "== ruff format --check"; .venv/bin/ruff format --check automation_manager tests bench
echo "== mypy";               .venv/bin/mypy automation_manager
echo "== pytest";             .venv/bin/python -m pytest -p no:cacheprovider "$@"
