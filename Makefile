# Two entry points: `make demo` runs the quickstart, `make test` runs every check.
# Each creates .venv with what it needs; only python3 and make are required.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck unit docs package bench test-slow test-oldest test-prerelease clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

# The ecosystem extra too: CI runs the tests against qiskit-experiments and -algorithms.
$(VENV)/.test: $(VENV)/.base
	$(PIP) install -e '.[test,ecosystem]'
	touch $@

demo: $(VENV)/.base
	$(PY) examples/quickstart.py

lint: $(VENV)/.test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.test
	$(PY) -m mypy

# The suite, with line coverage of the package (fails under 90%), on two processes: the
# tests wait on worker processes and sockets as much as they compute, and each test owns
# its emulator, database and port, so two at once share nothing. worksteal keeps the
# long tests from queueing behind each other at the end.
unit: $(VENV)/.test
	$(PY) -m pytest -n 2 --dist worksteal --durations=10 --cov=qiskit_vendor_provider --cov-report=term:skip-covered --cov-fail-under=90

# The documentation site, warnings as errors.
docs: $(VENV)/.test
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

# An sdist and a wheel, installed in a clean virtual environment, run the quickstart.
package: $(VENV)/.test
	bash .ci/check-package

test: lint typecheck unit docs package

# The slow layer: how soon a cancel, timeout, Ctrl-C or long poll acts (generous limits),
# and the thousands-of-examples differential runs. Not part of `make test`.
test-slow: $(VENV)/.test
	$(PY) -m pytest --slow -m slow

# Issues 13 and 22's table, in one run: each workload over loopback HTTP and embedded
# against its reference (sweep, distinct circuits, estimator, tiny job) and a fresh
# script's first job, with the goal and PASS/FAIL (a few minutes). BENCH_ARGS passes
# options, e.g. BENCH_ARGS="--baseline ../main" for another checkout's first-job figures.
# `benchmarks/table.py --profile` splits the distinct-circuit workload's time;
# benchmarks/primitives.py adds Qiskit's generic wrappers.
BENCH_ARGS ?=
bench: $(VENV)/.base
	$(PY) benchmarks/table.py $(BENCH_ARGS)

# The suite on the oldest qiskit and qiskit-aer that pyproject.toml allows (slow: a
# separate environment).
test-oldest:
	bash .ci/test-oldest

# The primitives' tests on the newest qiskit 2.x pre-release, when the index has one newer
# than the installed qiskit (a separate environment); says so and passes when none exists.
test-prerelease:
	bash .ci/test-prerelease

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info docs/_build
