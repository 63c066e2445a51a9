# The project's vocabulary: run, test, lint, bench, vendor.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench vendor venv migrate seed clean services-check

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# Starts the whole system with demo data. Embedded (SQLite + inline tasks) unless DATABASE_URL
# and REDIS_URL / CELERY_BROKER_URL are set; then PostgreSQL, Redis, a worker and beat.
run: seed
	@bash scripts/run.sh $(HOST) $(PORT)

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
