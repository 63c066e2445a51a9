#!/usr/bin/env bash
# Creates the virtualenv if needed and installs the pinned dependencies only when some are
# missing (an existing, complete virtualenv — e.g. a shared one — is left untouched).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" scripts/check_deps.py; then
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e ".[dev]"
fi
