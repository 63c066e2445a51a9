#!/usr/bin/env bash
# `make run`: the web server, and — when a broker is configured — a Celery worker and beat.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${1:-127.0.0.1}
PORT=${2:-8000}
PY=.venv/bin/python
export REGISTRY_URL=${REGISTRY_URL:-http://$HOST:$PORT/registry-sim}
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if [ -n "${CELERY_BROKER_URL:-${REDIS_URL:-}}" ]; then
  mode="PostgreSQL/Redis + Celery worker"
  .venv/bin/celery -A subsidy worker -l info --concurrency 8 --pool threads &
  pids+=($!)
  .venv/bin/celery -A subsidy beat -l info &
  pids+=($!)
else
  mode="embedded SQLite, tasks run inline"
fi
cat <<TXT

  求学圆梦 is starting ($mode)
  Open:            http://$HOST:$PORT/
  Admin:           http://$HOST:$PORT/admin/      (city / demo-city-2024)
  Review desk:     http://$HOST:$PORT/review/
  Demo logins:     see README.md ("Demo logins"); SMS codes print here (SMS_BACKEND=console)

TXT
$PY manage.py runserver "$HOST:$PORT" --noreload
