# Two commands for a fresh clone on a machine with only python3:
#   make demo   -> builds .venv, runs `windforce reproduce` into ./results/
#   make test   -> builds .venv with the test extras, runs the whole test suite
#   make docs   -> adds the docs extras, builds the site offline into docs/_build/html
#                  (tutorials executed, warnings are errors)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs
# 2-core machines: one BLAS thread per process; parallelism comes from processes.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg

.PHONY: demo test test-fast lint bench env docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

env: $(STAMP)

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e ".[test,docs]"
	touch $(DOCS_STAMP)

# The pages are read afresh each time (-E); executed tutorials are cached in
# docs/_build/.jupyter_cache and rerun when their source changes (WINDFORCE_DOCS_EXECUTE=force
# reruns them all, e.g. after a change to the code they call).
docs: $(DOCS_STAMP)
	rm -rf docs/api/generated
	$(BIN)/sphinx-build -E -W --keep-going -b html docs docs/_build/html

demo: $(STAMP)
	$(BIN)/windforce reproduce all --out results

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache docs/_build docs/api/generated
