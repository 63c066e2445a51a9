# The project's vocabulary: run, test, lint, bench, vendor.
#   make run    the whole system with demo data (SQLite + inline tasks unless DATABASE_URL and
#               REDIS_URL / CELERY_BROKER_URL are set: then PostgreSQL, Redis, worker and beat)
#   make test   the whole suite (CI: .ci/run, against PostgreSQL)
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench vendor venv migrate seed clean

venv:
	@bash scripts/ensure_venv.sh $(VENV)

migrate: venv
	@$(PY) scripts/ensure_db.py
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@VENV=$(VENV) bash scripts/run.sh $(HOST) $(PORT)

test: venv
	$(PY) -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv
	$(PY) -m tests.perf.run $(BENCH)

vendor:
	bash scripts/vendor.sh

clean:
	rm -rf var staticfiles
