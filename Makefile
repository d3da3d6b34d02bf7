# Two commands do everything: `make demo` and `make test`.
# Both create .venv on first use, install what they need, and are idempotent.
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
STAMP      := $(VENV)/.installed

.PHONY: demo test lint install notebooks clean

$(STAMP): requirements-dev.txt setup.py
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV_ARGS) $(VENV)
	$(if $(strip $(TORCH_SPEC)),$(BIN)/pip install -q "$(TORCH_SPEC)")
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-build-isolation --no-deps -e . --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m lstm_scratch demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -n 2

notebooks: $(STAMP)
	$(BIN)/jupytext --to ipynb notebooks/[0-9]*.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
