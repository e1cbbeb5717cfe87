# Two commands do all the set-up on a fresh machine:
#   make run    create .venv (Python >= 3.12), install, run the baseline batch and its report
#   make test   the same set-up plus the dev extras, then every test
# Optional: make native  compiles the month's code with mypyc (same results, about half the instructions);
#           make pure    removes the compiled modules again (sim/native.py)
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
# pyenv shims exist for versions that are not active, so also look in pyenv's own folders.
PYTHON_CANDIDATES := python3.12 python3.13 python3.14 python3 $(sort $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3))
PY := $(shell for p in $(PYTHON_CANDIDATES); do \
        command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 && { echo $$p; break; }; \
      done)
RUNS ?= 300

.PHONY: run test install dev native pure bench bench-batch screenshot clean

$(BIN)/python:
	@if [ -z "$(PY)" ]; then \
	  echo "error: computemarket needs Python >= 3.12 (Mesa 3.5); none of $(PYTHON_CANDIDATES) on PATH is new enough. Install one (e.g. pyenv install 3.12) and re-run."; \
	  exit 1; fi
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

run: install
	$(BIN)/computemarket batch experiments/batches/baseline.toml --runs $(RUNS) --overwrite

test: dev
	$(BIN)/python -m pytest

native: install
	$(BIN)/pip install -q -e '.[native]'
	$(BIN)/python sim/native.py ensure

pure:
	@if [ -x $(BIN)/python ]; then $(BIN)/python sim/native.py clean; else rm -f sim/*.so agents/*.so sim/_native.json; fi

# the speed targets are measured on the compiled build (docs/performance.md)
bench: native
	$(BIN)/python benchmarks/bench_run.py

bench-batch: dev native
	$(BIN)/python benchmarks/bench_batch.py

screenshot: dev
	$(BIN)/python -m tests.browser.screenshot docs/img/viz.png

clean:
	rm -rf $(VENV) build *.egg-info sim/*.so agents/*.so sim/_native.json
