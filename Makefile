# rbmtut: `make book` builds the book, `make test` runs every test and chapter.
# Needs only python3 (>= 3.10) and make; everything else goes into .venv.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECK_DIR := _build/check

# Full MNIST from ../shared/data when it is there, unless the caller chose a
# directory already (an empty value is respected too).
SHARED_DATA := $(abspath ../shared/data)
ifeq ($(origin RBMTUT_DATA_DIR),undefined)
ifneq ($(wildcard $(SHARED_DATA)/mnist.npz),)
export RBMTUT_DATA_DIR := $(SHARED_DATA)
endif
endif
export TF_CPP_MIN_LOG_LEVEL ?= 2
# TensorFlow's oneDNN CPU kernels stay as TensorFlow sets them (on for x86),
# as in Jupyter and Colab, where readers run the chapters: the matrix products
# are faster with them.  Where oneDNN fuses a graph's ops it may round the
# last bit differently from the same ops run eagerly, so tests compare such
# runs within rounding.  `make test TF_ENABLE_ONEDNN_OPTS=0` runs everything
# on the Eigen kernels instead; every chapter passes with both.

PYTEST_NBVAL := --nbval-lax --nbval-current-env --nbval-cell-timeout=1200

.PHONY: help install test book book-check browser-check browser-check-book colab-check bench clean distclean

help:
	@echo "make book        build the book (executes every chapter) into _build/html"
	@echo "make test        unit tests and every chapter under nbval"
	@echo "make book-check  build without executing: references, TOC, citations, API"
	@echo "make browser-check       book-check, then open every page in headless Chromium"
	@echo "make browser-check-book  the same check on the executed book of 'make book'"
	@echo "make colab-check run the chapters' install cell in fresh Colab-like environments"
	@echo "make bench       run benchmarks/*.py: every performance comparison in full (tens of minutes)"
	@echo "make install     create .venv and install rbmtut with [book,test]"
	@echo "make clean       remove build artefacts (make distclean also removes .venv)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "rbmtut needs Python >= 3.10; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade --progress-bar off pip
	$(BIN)/python -m pip install --progress-bar off -e ".[book,test]"
	@touch $@

install: $(STAMP)

test: install
	@echo "RBMTUT_DATA_DIR=$${RBMTUT_DATA_DIR-<unset>}"
	$(BIN)/python -m pytest tests book $(PYTEST_NBVAL) --durations=20

# -W turns every Sphinx warning into a failure (--keep-going reports them all
# first); a notebook that raises fails the build (execute.raise_on_error).
# --all rebuilds every page, so warnings of unchanged pages are not lost.
book: install
	@echo "RBMTUT_DATA_DIR=$${RBMTUT_DATA_DIR-<unset>}"
	$(BIN)/jupyter-book build . --all -W --keep-going
	@test -f _build/html/index.html
	@echo "Open _build/html/index.html"

# The same build without executing notebooks, into $(CHECK_DIR)/_build/html:
# catches broken references, TOC entries, citations and API docs in a minute.
# Glue keys only exist after execution, so only their warnings are suppressed.
book-check: install
	@mkdir -p $(CHECK_DIR)
	@echo "Writing $(CHECK_DIR)/_config.yml (execute_notebooks: off)"
	@$(BIN)/python -c 'import sys, yaml; \
	  cfg = yaml.safe_load(open("_config.yml", encoding="utf-8")); \
	  cfg.setdefault("execute", {})["execute_notebooks"] = "off"; \
	  sphinx = cfg.setdefault("sphinx", {}); sphinx["config"] = sphinx.get("config") or {}; \
	  sphinx["config"]["suppress_warnings"] = sphinx["config"].get("suppress_warnings", ["myst.domains"]) + ["mystnb.glue", "mystnb.glue_ref"]; \
	  yaml.safe_dump(cfg, open(sys.argv[1], "w", encoding="utf-8"), allow_unicode=True, sort_keys=False)' \
	  $(CHECK_DIR)/_config.yml
	$(BIN)/jupyter-book build . --config $(CHECK_DIR)/_config.yml --path-output $(CHECK_DIR) --all -W --keep-going
	@test -f $(CHECK_DIR)/_build/html/index.html

# Every page opened offline in headless Chromium (tests/browser_check.py):
# typeset maths, images, internal links and anchors, no local paths.  Needs
# Debian's chromium and chromium-driver (.ci/run installs them).
SCREENSHOT_PAGES := --screenshot-page 01_energy_models --screenshot-page 02_gibbs_cd_pcd
browser-check: book-check
	$(BIN)/python tests/browser_check.py $(CHECK_DIR)/_build/html \
	  --screenshots _build/screenshots/check $(SCREENSHOT_PAGES)

browser-check-book: install
	@test -f _build/html/index.html || { echo "No _build/html: run 'make book' first." >&2; exit 1; }
	$(BIN)/python tests/browser_check.py _build/html \
	  --screenshots _build/screenshots/book $(SCREENSHOT_PAGES)

# The install cell of every chapter, run as in Colab: in fresh environments
# holding the lowest and the newest TensorFlow stack (downloads ~1.5 GB).
colab-check: install
	$(BIN)/python tests/colab_install_check.py

bench: install
	@shopt -s nullglob; scripts=(benchmarks/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "No benchmarks in benchmarks/."; exit 0; fi; \
	for script in "$${scripts[@]}"; do echo "== $$script"; $(BIN)/python "$$script"; done

clean:
	rm -rf _build .pytest_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
