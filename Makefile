# Two commands: `make demo` and `make test`. Each makes its own virtualenv in .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HUB_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export HUB_TEST_DATABASE_URL

.PHONY: demo test lint venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

# The whole suite on SQLite, then again on PostgreSQL when it is reachable (and it must be under CI).
test: $(STAMP) lint
	@$(BIN)/python scripts/run_tests.py

# A demo seller with catalog, stock and orders in var/hub.sqlite3, served on 127.0.0.1:5000.
demo: $(STAMP)
	@mkdir -p var
	HUB_DEMO=true $(BIN)/hub db upgrade
	HUB_DEMO=true $(BIN)/hub demo seed
	HUB_DEMO=true $(BIN)/hub run --host 127.0.0.1 --port 5000

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache .ruff_cache
