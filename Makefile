# Every target is self-contained: it creates .venv and installs the course (editable, with its
# test extra) when that has not been done yet or pyproject.toml changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.rnncourse-installed
PYTEST_FLAGS ?= -n 2 --dist loadfile -p randomly
NBVAL_FLAGS  := --nbval-lax --nbval-current-env --nbval-cell-timeout=120
# The course's matrices are small: one BLAS thread is faster and steadier than two fighting
# over a laptop's cores (measured: a small training run 0.13 s vs 0.45 s under load).
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
# make lab works in a git-ignored copy of the lessons, so the committed notebooks stay clean
WORKSPACE ?= rnncourse-workspace
LAB_ARGS ?=

.PHONY: lab test exercises grade bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## lab: open the course in JupyterLab on the welcome notebook, in the git-ignored $(WORKSPACE)/
# (`rnncourse init` first brings in lesson changes from the checkout; it never overwrites a file
# changed in the workspace but writes the new version beside it)
lab: $(STAMP)
	$(BIN)/rnncourse init $(WORKSPACE)
	$(BIN)/rnncourse lab $(WORKSPACE) $(LAB_ARGS)

## test: the whole test suite (unit, golden, widgets, grading, every notebook through nbval)
test: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	MPLBACKEND=Agg $(BIN)/python -m pytest $(PYTEST_FLAGS) tests notebooks $(wildcard solutions/*.ipynb) $(NBVAL_FLAGS)

## exercises: regenerate exercises/ from solutions/ (never overwrites a notebook a student changed)
exercises: $(STAMP)
	$(BIN)/rnncourse exercises

## grade: grade every notebook under $(SUBMISSIONS) into $(GRADES)/grades.csv + feedback/
SUBMISSIONS ?= submissions
GRADES ?= grades
grade: $(STAMP)
	$(BIN)/rnncourse grade $(SUBMISSIONS) --out $(GRADES) --jobs 2

## bench: NumPy kernels (and torch, if installed in this environment)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet threadpoolctl
	$(BIN)/python benchmarks/bench_kernels.py --quick
	MPLBACKEND=Agg $(BIN)/python benchmarks/bench_widgets.py
	$(BIN)/python benchmarks/bench_grader.py --copies 20

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
