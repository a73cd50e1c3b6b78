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
# with a local copy: `MOVIES_CSV=/path/to/tmdb-movies.zip make run`. A copy put in catalog/ (as for image
# builds), or the team machines' shared copy beside the checkout, is used when present: those machines are offline.
LOCAL_CATALOG := $(firstword $(wildcard catalog/tmdb-movies.zip catalog/tmdb-movies.csv ../shared/data/tmdb-movies.zip))
ifneq ($(LOCAL_CATALOG),)
export MOVIES_CSV ?= $(abspath $(LOCAL_CATALOG))
endif

# The lock files pin every dependency with its hash (pip-compile, `make lock`). The ingest lock holds the CPU
# build of torch, torch==2.13.0+cpu, which lives on PyTorch's CPU index (PyPI's Linux torch pulls CUDA, several GB).
TORCH_INDEX ?= --extra-index-url https://download.pytorch.org/whl/cpu
LOCKS := requirements/serve.txt requirements/qdrant-client.txt requirements/ingest.txt
PIP_COMPILE := $(BIN)/pip-compile --quiet --strip-extras --generate-hashes --allow-unsafe --no-emit-index-url \
	--no-emit-find-links

.PHONY: setup run test test-light lint bench eval lock

$(STAMP): pyproject.toml $(LOCKS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first, alone and without its dependencies (the lock has them): PyTorch's index, asked about every
	# package, would make an offline machine wait on each one.
	$(BIN)/pip install --quiet --no-deps torch==2.13.0+cpu $(TORCH_INDEX)
	$(BIN)/pip install --quiet --require-hashes $(addprefix -r ,$(LOCKS))
	# The project itself and the dev tools; every runtime dependency is already pinned above.
	$(BIN)/pip install --quiet -e ".[all,dev-ingest]"
	touch $(STAMP)

# No torch, sentence-transformers, tokenizers or pandas: the serving lock, plus pytest and the linters.
$(LIGHT_STAMP): pyproject.toml requirements/serve.txt
	$(PYTHON) -m venv $(LIGHT_VENV)
	$(LIGHT_VENV)/bin/pip install --quiet --upgrade pip
	$(LIGHT_VENV)/bin/pip install --quiet --require-hashes -r requirements/serve.txt -r requirements/qdrant-client.txt
	$(LIGHT_VENV)/bin/pip install --quiet -e ".[telegram,discord,server,dev]"
	touch $(LIGHT_STAMP)

# Refresh the locks after changing dependencies in pyproject.toml (or to take newer releases), then commit them.
lock: setup
	$(BIN)/pip install --quiet pip-tools
	$(PIP_COMPILE) --extra telegram --extra discord -o requirements/serve.txt pyproject.toml
	$(PIP_COMPILE) --extra server -o requirements/qdrant-client.txt pyproject.toml
	$(PIP_COMPILE) $(TORCH_INDEX) --extra server --extra ingest -o requirements/ingest.txt \
		pyproject.toml requirements/torch-cpu.in

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
