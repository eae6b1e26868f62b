# Two entry points: `make demo` runs the quickstart, `make test` runs the checks and the suite.
# Each creates .venv with what it needs; only python3 and make are required.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck unit clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PIP) install -e '.[test]'
	touch $@

demo: $(VENV)/.base
	$(PY) examples/quickstart.py

lint: $(VENV)/.test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(VENV)/.test
	$(PY) -m mypy

unit: $(VENV)/.test
	$(PY) -m pytest

test: lint typecheck unit

# Times the primitives against Qiskit's generic wrappers and Aer's own (a few minutes).
.PHONY: bench
bench: $(VENV)/.base
	$(PY) benchmarks/primitives.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
