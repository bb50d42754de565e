# Postino: `make run` brings the product up on embedded defaults; `make test`
# installs everything and runs lint, types and the whole test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Tests use real PostgreSQL and Redis (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postino
TEST_REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: install run test lint typecheck pytest bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m postino.runner

browser:
	@bash scripts/ensure-chromium.sh
	@bash scripts/ensure-dovecot.sh

# lint-imports checks the layering contracts in pyproject.toml ([tool.importlinter]).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

typecheck: install
	DEBUG=true $(VENV)/bin/mypy .

pytest: install browser
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The bench recreates its own database (postino_bench) on the tests' server and
# flushes its own Redis database on the tests' Redis, never the tests' one.
BENCH_REDIS_DB ?= 15

bench: install
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
	$(PY) bench/send_throughput.py --redis-db $(BENCH_REDIS_DB)
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(PY) bench/import_throughput.py
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(PY) bench/segment_count.py
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
	$(PY) bench/tracking_ingest.py --redis-db $(BENCH_REDIS_DB)
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
	$(PY) bench/redirect_latency.py --redis-db $(BENCH_REDIS_DB)
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
	$(PY) bench/tx_api.py --redis-db $(BENCH_REDIS_DB)
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(PY) bench/report_render.py
	$(PY) bench/dkim_sign.py
	$(PY) bench/bounce_parse.py
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" $(PY) bench/relay_throughput.py --redis-db $(BENCH_REDIS_DB)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .grimp_cache
