#!/usr/bin/env bash
# Install the test dependencies into .venv (created if missing) and run every quality gate.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
# Debian packages some tests need (they skip, saying why, without them): installed when root.
APT_PACKAGES=(chromium chromium-driver espeak-ng)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "== apt-get install ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
    fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
echo "== ruff check";         .venv/bin/ruff check automation_manager tests bench
echo "== ruff format --check"; .venv/bin/ruff format --check automation_manager tests bench
echo "== mypy";               .venv/bin/mypy automation_manager
echo "== pytest";             .venv/bin/python -m pytest -p no:cacheprovider "$@"
