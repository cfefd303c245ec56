# Two commands on a fresh machine: `make run` and `make test`. Everything else is installed from here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format test-embedded test-postgres install migrate seed migration lock clean bench

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## run: install, migrate, load the demo city when the database is empty, serve on 127.0.0.1:8000
run: install
	$(PY) -m app migrate
	$(PY) -m app seed --demo
	$(PY) -m app serve

## test: the linter and formatter checks, then every test on the embedded default (SQLite + in-process cache)
## and on PostgreSQL + Redis, the two runs side by side (each printed whole when both are done)
test: lint
	$(PY) scripts/test_both_backends.py

## lint: ruff's checks (pyproject.toml [tool.ruff]); `make format` rewrites what the formatter would change
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test-embedded: install
	TEST_BACKEND=embedded $(PY) -m pytest

# Tests marked backend_independent touch neither database nor cache: the embedded pass has run them already.
test-postgres: install
	TEST_BACKEND=postgres $(PY) -m pytest -m "not backend_independent"

migrate: install
	$(PY) -m app migrate

## migration NAME=...: write the next migration (SQLite and PostgreSQL SQL in one file)
migration: install
	$(PY) scripts/makemigrations.py $(or $(NAME),update)

## bench: the booking benchmark on PostgreSQL + Redis (needs wrk: apt-get install wrk); see docs/PERFORMANCE.md
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

## lock: record the exact versions installed, after changing pyproject.toml
lock: install
	$(PY) -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache
