# Two commands: `make demo` and `make test`. Each makes its own virtualenv in .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HUB_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export HUB_TEST_DATABASE_URL

.PHONY: demo test lint venv clean crash-test bench bench-dashboard translations translations-extract browser serve

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# The dashboard's message catalogs: the .po files are the source, the .mo files build output (not committed).
translations: $(STAMP)
	$(BIN)/pybabel compile -d hub/translations --statistics

# After changing strings: refresh the template and merge it into every catalog, then translate what is new.
translations-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output -o hub/translations/messages.pot hub
	$(BIN)/python scripts/update_catalogs.py

# The browser tests drive Debian's Chromium; install it when missing and we can (root with apt), else say so.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		apt-get install -y chromium >/dev/null; } || echo "chromium missing and not installable: browser tests skip (fail under CI)"

lint: $(STAMP)
	$(BIN)/ruff check .

# The whole suite on SQLite, then again on PostgreSQL when it is reachable (and it must be under CI).
test: $(STAMP) translations browser lint
	@$(BIN)/python scripts/run_tests.py

# Kill a pulling worker with SIGKILL at random points and restart it; the suite runs this too (both backends).
crash-test: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -q tests/sync/test_crash.py

# A demo seller with catalog, stock, orders and one channel per marketplace sandbox in var/hub.sqlite3; the
# sandboxes (127.0.0.1:5101-5105), the sync worker and the dashboard (127.0.0.1:5000) run until Ctrl-C.
demo: $(STAMP) translations
	@mkdir -p var
	HUB_DEMO=true $(BIN)/hub db upgrade
	HUB_DEMO=true $(BIN)/hub demo seed
	HUB_DEMO=true $(BIN)/hub demo run

# Production serving: gunicorn, one process per core plus one (config/gunicorn.conf.py), on 127.0.0.1:8000.
# Settings come from HUB_* variables (HUB_DATABASE_URL, HUB_SECRET_KEY, ...); the scheduler runs in `hub worker`.
serve: $(STAMP) translations
	$(BIN)/gunicorn -c config/gunicorn.conf.py wsgi:app

# The sync engine's figures (README "Sync engine: measured figures"): each script prints its table.
bench: $(STAMP)
	$(BIN)/python -m bench.pull_throughput
	$(BIN)/python -m bench.rate_limit_efficiency
	$(BIN)/python -m bench.push_efficiency

# The dashboard under load (README "Dashboard: measured figures"): seeds 1,000,000 orders in a scratch PostgreSQL
# database (about a minute), then 16 clients for a minute. ORDERS=100000 for a quicker run.
ORDERS ?= 1000000
bench-dashboard: $(STAMP)
	$(BIN)/python -m bench.dashboard_bench --orders $(ORDERS)

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache .ruff_cache
