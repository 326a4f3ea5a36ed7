# The README's two commands: `make demo` and `make test`. Each installs what is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test bench setup browser clean

# Python packages, installed once per change of pyproject.toml.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# A Chromium for Playwright: its own download where the internet allows, else the system's.
browser: $(STAMP)
	@bash scripts/ensure-chromium.sh $(BIN)/python

setup: $(STAMP) browser

demo: setup
	$(BIN)/storeaudit demo

test: setup
	$(BIN)/python -m pytest

# What only the benchmark needs (matplotlib's sample photos), on top of the test set-up.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(BENCH_STAMP)

# Speed, memory and accuracy figures against the naive way, measured in the same run.
bench: setup $(BENCH_STAMP)
	$(BIN)/python -m bench $(if $(BUSY),--busy) $(if $(BIG),--big)

clean:
	rm -rf $(VENV) storeaudit.db* outbox .pytest_cache
