# Two commands matter on a fresh machine: `make run` (set up, build the index on first run, chat) and
# `make test` (set up, lint, type-check, test). Both create .venv themselves; nothing is installed by hand.
# `make test-light` runs the tests that need no model in .venv-light: serving dependencies and test tools only.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LIGHT_VENV := .venv-light
LIGHT_STAMP := $(LIGHT_VENV)/.installed
# The first `make run` builds the index from MOVIES_CSV (default: the seed's public copy of the catalog);
# with a local copy: `MOVIES_CSV=/path/to/tmdb-movies.zip make run`.

.PHONY: setup run test test-light lint bench eval

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first: a bare `torch` requirement would pull a CUDA build of several GB.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[all,dev-ingest]"
	touch $(STAMP)

# No torch, sentence-transformers, tokenizers or pandas: what serving installs, plus pytest and the linters.
$(LIGHT_STAMP): pyproject.toml
	$(PYTHON) -m venv $(LIGHT_VENV)
	$(LIGHT_VENV)/bin/pip install --quiet --upgrade pip
	$(LIGHT_VENV)/bin/pip install --quiet -e ".[telegram,discord,server,dev]"
	touch $(LIGHT_STAMP)

setup: $(STAMP)

run: setup
	@$(BIN)/python -c "import sys; from core.index.bundle import BundleStore; from core.settings import load_settings; \
	sys.exit(0 if BundleStore(load_settings().index_path).live_dir() else 1)" || $(BIN)/movie-bot ingest
	$(BIN)/movie-bot serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q -p no:cacheprovider

# Tests that need the model, pandas or the built fixture index skip themselves here; `make test` runs them all.
test-light: $(LIGHT_STAMP)
	$(LIGHT_VENV)/bin/pytest -p no:cacheprovider -m "not slow"

bench: setup
	$(BIN)/movie-bot bench

eval: setup
	$(BIN)/movie-bot eval --queries eval/dev_queries.jsonl
