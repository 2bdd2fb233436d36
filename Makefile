# Two commands do everything (see README): `make run` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test notebooks sync-notebooks

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install vaelib with everything for notebooks and tests

run: setup  ## train a good 2-D model with the fast recipe, then generate a grid of new digits
	$(BIN)/vae-train --recipe fast --epochs 10
	$(BIN)/vae-generate --num_samples 100 --output generated.png

test: setup  ## the whole suite: unit, CLI, reliability, notebooks (nbval, quick mode) and the browser test
	VAELIB_QUICK=1 $(BIN)/python -m pytest

notebooks: setup  ## open JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks

sync-notebooks: setup  ## after editing a notebook or its .py twin, bring the pair back in step
	$(BIN)/jupytext --sync notebooks/*.ipynb
