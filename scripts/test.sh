#!/usr/bin/env bash
# Install the test dependencies into .venv (created if missing) and run every quality gate.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# Debian packages some tests run for real; installed as root when missing, else those tests skip.
APT_PACKAGES="redis-server"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=""
  for pkg in $APT_PACKAGES; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
  if [ -n "$missing" ]; then
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi
echo "== ruff check";         .venv/bin/ruff check automation_manager tests bench
echo "== ruff format --check"; .venv/bin/ruff format --check automation_manager tests bench
echo "== mypy";               .venv/bin/mypy automation_manager
echo "== pytest";             .venv/bin/python -m pytest -p no:cacheprovider "$@"
