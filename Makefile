# Two commands do everything: `make demo` and `make test`.
# Both create .venv on first use, install what they need, and are idempotent:
#   make demo   the runtime set (torch CPU, numpy, matplotlib, tqdm, pandas): ~1 GB
#   make test   the development set on top (triton, pytest, ruff, Jupyter's runner)
# After either, the CLI is .venv/bin/lstm-scratch (or `source .venv/bin/activate`).
#
# TORCH_SPEC picks the torch to install. The default pins the CPU build that these
# machines carry as a local wheel; an unpinned `torch` would pull the multi-GB CUDA
# build. With a CUDA torch already installed system-wide, keep it:
#     make test TORCH_SPEC= VENV_ARGS=--system-site-packages

PYTHON     ?= python3.11
TORCH_SPEC ?= torch==2.13.0
VENV_ARGS  ?=
VENV       := .venv
BIN        := $(VENV)/bin
PIP        := $(BIN)/pip install --progress-bar on
RUNTIME    := $(VENV)/.installed-runtime
DEV        := $(VENV)/.installed-dev

.PHONY: demo test lint install install-dev notebooks jupyter clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV_ARGS) $(VENV)

$(RUNTIME): $(BIN)/python requirements.txt setup.py
	@echo "==> installing torch ($(or $(TORCH_SPEC),kept as found)), the largest download"
	$(if $(strip $(TORCH_SPEC)),$(PIP) "$(TORCH_SPEC)")
	@echo "==> installing the runtime set (requirements.txt)"
	$(PIP) -r requirements.txt
	@echo "==> installing lstm-scratch itself (editable: edits to the code take effect at once)"
	@# setuptools' default editable mode: its import hook also maps lstm_scratch.kernels to
	@# kernels/ (setup.py's package_dir), which a plain path entry (compat mode) cannot do
	$(PIP) --no-build-isolation --no-deps -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME) requirements-dev.txt
	@echo "==> installing the development set (requirements-dev.txt: triton, pytest, ruff, jupyter runner)"
	$(PIP) -r requirements-dev.txt
	touch $(DEV)

install: $(RUNTIME)

install-dev: $(DEV)

demo: $(RUNTIME)
	$(BIN)/lstm-scratch demo

lint: $(DEV)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -n 2

# The teaching notebooks as .ipynb (their sources are py:percent files).
notebooks: $(DEV)
	$(BIN)/jupytext --to ipynb notebooks/[0-9]*.py

# Jupyter's UI is not part of the development set (CI never opens a browser): this
# installs it on first use and opens the notebooks.
jupyter: notebooks
	$(BIN)/python -c "import notebook" 2>/dev/null || $(PIP) notebook
	$(BIN)/jupyter notebook notebooks/

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
