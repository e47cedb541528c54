# The deprived-areas evidence pack. `make pack` builds everything from nothing;
# `make test` runs the tests. Both create .venv themselves.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Raw data come from their public URLs; a local mirror is used first when one is set
# (EVIDENCE_PACK_MIRROR) or when ../shared/mirror exists beside the project.
MIRROR ?= $(or $(EVIDENCE_PACK_MIRROR),$(wildcard ../shared/mirror))
export EVIDENCE_PACK_MIRROR := $(if $(MIRROR),$(abspath $(MIRROR)),)
export MPLBACKEND := Agg
JOBS ?= 2
# The Jupyter kernel every notebook runs on (registered by the install step; config.KERNEL_NAME).
KERNEL := evidence-pack

.PHONY: install lock data pack test lint bench clean browser

# Installs exactly what requirements.lock pins (versions and sha256 hashes), then the package
# itself without dependencies. After editing dependencies in pyproject.toml, run `make lock`
# (tests/test_packaging.py fails while the two disagree).
LOCK_CMD := uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements.lock

$(BIN)/.installed: pyproject.toml requirements.lock
	@echo "== installing into $(VENV) from requirements.lock"
	@if $(PY) -m pip install -q --disable-pip-version-check uv 2>/dev/null && $(PY) -m uv --version >/dev/null 2>&1; then \
	  $(PY) -m uv venv -q --allow-existing --python $(PY) $(VENV) && \
	  $(PY) -m uv pip install -q --python $(BIN)/python --compile-bytecode --require-hashes -r requirements.lock && \
	  $(PY) -m uv pip install -q --python $(BIN)/python --no-deps -e .; \
	else \
	  $(PY) -m venv $(VENV) && $(BIN)/pip install -q --require-hashes -r requirements.lock && \
	  $(BIN)/pip install -q --no-deps -e .; \
	fi
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Evidence pack (Python 3)" >/dev/null
	@touch $@

# Re-pin requirements.lock from pyproject.toml (needs the package index).
lock:
	$(PY) -m pip install -q --disable-pip-version-check uv
	$(PY) -m $(LOCK_CMD)

install: $(BIN)/.installed

data: install
	$(BIN)/evidence-pack fetch
	$(BIN)/evidence-pack prepare

# Every notebook for the borough and each area: reports/<area>/*.html|pdf and reports/index.html.
pack: data
	$(BIN)/evidence-pack build --jobs $(JOBS)

# Debian's Chromium for the browser test of the published index (no browser downloads).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: the browser test will be skipped"; }

# Unit and integration tests, then every notebook under nbval (lax: outputs are not compared,
# each cell must run) with its default parameters on the named kernel.
test: data browser
	$(BIN)/ruff check lib tests scripts
	$(BIN)/python -m pytest
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then \
	  echo "== notebooks under nbval-lax (kernel $(KERNEL))"; \
	  $(BIN)/python -m pytest -p no:cacheprovider --nbval-lax --nbval-kernel-name $(KERNEL) notebooks/; \
	fi

lint: install
	$(BIN)/ruff check lib tests scripts
	$(BIN)/nbstripout --verify notebooks/*.ipynb

bench: data
	$(BIN)/python scripts/bench.py

clean:
	-$(BIN)/evidence-pack clean
