# Two commands do everything (see README): `make run` and `make test`. Both create .venv first.
# README's "Without make" shows the same steps as plain commands; tests/test_readme.py keeps the two in step.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint notebooks sync-notebooks screenshots results

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install vaelib with everything for notebooks and tests

run: setup  ## train a good 2-D model with the fast recipe, then generate a grid of new digits
	$(BIN)/vae-train --recipe fast --epochs 10
	$(BIN)/vae-generate --num_samples 100 --output generated.png

test: lint  ## lint, then the whole suite: unit, CLI, reliability, wheel, notebooks (nbval, quick mode), browser
	$(BIN)/python -m pytest

lint: setup  ## ruff: lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

notebooks: setup  ## open JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks

sync-notebooks: setup  ## after editing a notebook or its .py twin, bring the pair back in step
	$(BIN)/jupytext --sync notebooks/*.ipynb

screenshots: setup  ## drive both latent explorers in JupyterLab (headless Chromium) and save notebooks/images/*.png
	$(BIN)/python tools/screenshots.py

results: setup  ## write the results page, benchmarks/RESULTS.md, from benchmarks/results/*.json
	$(BIN)/python benchmarks/report.py --write
