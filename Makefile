# redline: the two commands a newcomer needs are `make demo` and `make test`.
# Both start from a fresh machine with Python >= 3.11 and the package registries only.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed
OUT    ?= out/demo

.PHONY: demo test bench lint system-deps clean sample-data

# redline and its runtime dependencies only: what the demo (and a planner) needs
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e .
	touch $@

# the test toolchain on top (pytest, playwright, jupyter kernel, linters)
$(STAMP): $(DEMO_STAMP)
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

## Screen the bundled sample sites: verdicts, findings, 三线 table and the offline map in $(OUT)/
demo: $(DEMO_STAMP)
	$(BIN)/redline demo --out $(OUT)

## Install everything the tests need (Python packages and Chromium) and run the whole suite
test: $(STAMP) system-deps
	$(BIN)/python -m pytest -n auto  # pytest-xdist: one worker per core

## Headless Chromium for the browser tests (Debian packages; no browser download at test time)
system-deps:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends \
	    chromium chromium-driver fonts-noto-cjk; \
	fi

## Benchmark redline against the naive geopandas.overlay baseline, and the avoidance searches
## (writes benchmarks/results/)
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/avoidance.py

## Regenerate the bundled sample data (deterministic)
sample-data: $(STAMP)
	$(BIN)/python data/make_sample.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks data/make_sample.py data/sample
	$(BIN)/ruff format --check src tests benchmarks data/make_sample.py data/sample
	$(BIN)/mypy

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
