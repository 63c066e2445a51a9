#!/usr/bin/env bash
# `make run`: the web server, and — when a broker is configured — a Celery worker and beat.
# Ctrl-C (or killing this script) stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${1:-127.0.0.1}
PORT=${2:-8000}
VENV=${VENV:-.venv}  # `make run VENV=...` passes its own
PY=$VENV/bin/python
export REGISTRY_URL=${REGISTRY_URL:-http://$HOST:$PORT/registry-sim}
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ -n "${CELERY_BROKER_URL:-${REDIS_URL:-}}" ]; then
  mode="PostgreSQL/Redis, Celery worker + beat"
  "$VENV/bin/celery" -A config worker -l warning --concurrency 4 --pool threads &
  pids+=($!)
  "$VENV/bin/celery" -A config beat -l warning --pidfile= -s var/celerybeat-schedule &
  pids+=($!)
else
  mode="embedded: SQLite, tasks run inline"
fi
cat <<TXT

  求学圆梦 — 职工学历教育补助申领系统 ($mode)

  首页 Home:            http://$HOST:$PORT/
  管理后台 Admin:       http://$HOST:$PORT/admin/
  审核工作台 Review:    http://$HOST:$PORT/review/
  API docs:             http://$HOST:$PORT/api/docs/

  演示账号 Demo logins
    市总工会 city staff (superuser)      city / demo-city-2024
    区总工会 district reviewers          yuexiu@demo.gz / demo-district-2024
                                         (also haizhu, liwan, tianhe, baiyun, huangpu, huadu,
                                          panyu, nansha, conghua, zengcheng @demo.gz)
    产业工会 industry reviewers          jiaotong@demo.gz, jiaoyu@demo.gz, jinrong@demo.gz
                                         / demo-district-2024
    基层工会 grassroots reviewer         13800000001 (越秀区示范单位工会), SMS code
    申领人 applicants                    13900000001 … 13900000300, SMS code
                                         (13900000001 is eligible)
  SMS codes are printed in this console (SMS_BACKEND=${SMS_BACKEND:-console}).

TXT
$PY manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
wait "${pids[-1]}"
