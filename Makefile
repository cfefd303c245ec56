# Two commands on a fresh machine: `make run` and `make test`. Everything else is installed from here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format test-embedded test-postgres install migrate seed migration lock clean bench \
	frontends miniprograms test-js browser nginx cluster api-client bench-reads

# The front ends (console/, miniprogram/, packages/) are one npm workspace; Node.js is optional for `make run`
# (the server then answers /console and /m/ with how to build them) and required by `make test`.
HAVE_NODE := $(shell command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && echo yes)
IN_CI := $(filter true 1,$(CI))
NODE_STAMP := node_modules/.installed

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## run: install, build the front ends (when Node.js is present), migrate, load the demo city when the database is
## empty, serve on 127.0.0.1:8000 (the staff console at /console, the citizen app at /m/)
run: install frontends
	$(PY) -m app migrate
	$(PY) -m app seed --demo
	$(PY) -m app serve

## test: the linter and formatter checks, then every test on the embedded default (SQLite + in-process cache)
## and on PostgreSQL + Redis, the two runs side by side (each printed whole when both are done)
## Before them: the JS unit tests and every front-end build (console, H5, weapp, alipay), which the browser tests
## (PostgreSQL pass) and the mini-program output checks (embedded pass) stand on.
test: lint browser nginx test-js
	$(PY) scripts/test_both_backends.py

$(NODE_STAMP): package.json package-lock.json packages/api-client/package.json console/package.json miniprogram/package.json
	npm ci
	touch $(NODE_STAMP)

## frontends: npm ci, then the console (console/dist) and the citizen app's H5 build (miniprogram/dist/h5)
frontends:
ifeq ($(HAVE_NODE),yes)
	$(MAKE) $(NODE_STAMP)
	npm run build -w console
	npm run build:h5 -w miniprogram
else
	@echo "Node.js not found: the front ends are not built (/console and /m/ answer how to build them)"
endif

## miniprograms: the WeChat and Alipay mini-programs (miniprogram/dist/weapp, dist/alipay; see README)
miniprograms: $(NODE_STAMP)
	npm run build:weapp -w miniprogram
	npm run build:alipay -w miniprogram

## test-js: the JS unit tests (vitest, after tsc) and every front-end build; Node.js is required under CI=true
test-js:
ifeq ($(HAVE_NODE),yes)
	$(MAKE) $(NODE_STAMP)
	npm test
	$(MAKE) frontends miniprograms
else ifneq ($(IN_CI),)
	@echo "Node.js is required under CI=true (the front ends are built and tested)" >&2; exit 1
else
	@echo "Node.js not found: skipping the JS tests and the front-end builds (the browser tests will skip)"
endif

## browser: Debian's Chromium and CJK fonts for the browser tests (as root; Playwright never downloads a browser)
browser:
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		apt-get install -y chromium fonts-noto-cjk || (apt-get update && apt-get install -y chromium fonts-noto-cjk); \
	fi

## nginx: Debian's nginx for the local cluster (scripts/cluster.py) and its tests (run by the script, not as a service)
nginx:
	@if [ ! -x /usr/sbin/nginx ]; then \
		apt-get install -y nginx || (apt-get update && apt-get install -y nginx); \
	fi

## cluster: nginx in front of two app nodes and two workers on loopback, over PostgreSQL and Redis (Ctrl-C stops it)
cluster: install nginx
	$(PY) scripts/cluster.py

## api-client: regenerate packages/api-client/src/schema.d.ts from the backend's OpenAPI document
api-client: install $(NODE_STAMP)
	$(PY) scripts/export_openapi.py

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

## bench-reads: the citizen reads (case, my cases, inbox, guide, search) against the bare endpoint; needs wrk too;
## BENCH_ARGS="--workers 2 --scale 100 --explain" for two workers on a city's year of data, with the query plans
bench-reads: install
	$(PY) bench/citizen_reads.py $(BENCH_ARGS)

## bench-cluster: the booking benchmark through nginx in front of two app nodes and at one node directly (needs nginx)
.PHONY: bench-cluster
bench-cluster: install nginx
	$(PY) bench/cluster.py $(BENCH_ARGS)

## lock: record the exact versions installed, after changing pyproject.toml
lock: install
	$(PY) -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache node_modules console/dist miniprogram/dist
