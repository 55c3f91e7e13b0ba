# The two commands of the README: `make book` and `make test`. Both create .venv and install on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOTSTRAP ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
MATHJAX := book/_vendor/mathjax/tex-chtml.js
MATHJAX_VERSION := 3.2.2
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

.PHONY: help book test lab lint unit notebooks site-check bench lock browser-deps clean

help:
	@echo "make book   build the site into book/_build/html (BOOK_SCALE=standard)"
	@echo "make test   ruff, unit tests, every notebook (nbmake), strict book build and browser check (BOOK_SCALE=quick)"
	@echo "make lab    JupyterLab on book/ with the course environment"
	@echo "make bench  speed comparisons in benchmarks/"

# ---------------------------------------------------------------------------------------------- set-up
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt -e ".[book,test]"
	@touch $@

$(MATHJAX):
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (Debian: apt-get install npm), or put MathJax 3's es5/ folder in book/_vendor/mathjax"; exit 1; }
	npm install --no-audit --no-fund --loglevel=error --prefix .cache/npm mathjax@$(MATHJAX_VERSION)
	rm -rf book/_vendor/mathjax && mkdir -p book/_vendor && cp -r .cache/npm/node_modules/mathjax/es5 book/_vendor/mathjax

browser-deps:
	@test -x "$(CHROMIUM)" || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium chromium-driver; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -q && sudo apt-get install -y -q chromium chromium-driver; \
	  else echo "Chromium not found at $(CHROMIUM): install the Debian packages chromium and chromium-driver, or set CHROMIUM=/path/to/chrome"; exit 1; fi; }

lock: $(STAMP)
	@{ echo "# Full lock of the environment that 'make book' and 'make test' install (pip install -c constraints.txt)."; \
	   echo "# Regenerate with: make lock   (after changing a pin in pyproject.toml)"; \
	   $(BIN)/pip freeze --exclude-editable | grep -v '^-e'; } > constraints.txt

# ---------------------------------------------------------------------------------------------- the book
# jupyter-cache keys on the notebook's code only, and Sphinx re-reads only changed sources: when the scale or
# the helpers change, drop the cache and the doctrees so that every notebook executes again.
define build_book
	@mkdir -p book/_build
	@key="$(1)-$$(find helpers -name '*.py' | sort | xargs cat | sha1sum | cut -c1-16)"; \
	if [ "$$(cat book/_build/.build-key 2>/dev/null)" != "$$key" ]; then \
	  echo "scale or helpers changed: executing every notebook again"; \
	  rm -rf book/_build/.jupyter_cache book/_build/.doctrees book/_build/html book/_build/jupyter_execute; fi
	BOOK_SCALE=$(1) $(BIN)/jupyter-book build book -W -n --keep-going
	@echo "$(1)-$$(find helpers -name '*.py' | sort | xargs cat | sha1sum | cut -c1-16)" > book/_build/.build-key
endef

book: $(STAMP) $(MATHJAX)
	$(call build_book,$(or $(BOOK_SCALE),standard))

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=book

# ---------------------------------------------------------------------------------------------- the tests
lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks book
	$(BIN)/ruff format --check helpers tests benchmarks

unit: $(STAMP)
	BOOK_SCALE=quick $(BIN)/pytest -m "not site" tests

notebooks: $(STAMP)
	BOOK_SCALE=quick $(BIN)/pytest --nbmake --nbmake-timeout=900 -p no:cacheprovider book --ignore=book/_build

site-check: $(STAMP) browser-deps
	$(BIN)/pytest -m site tests

test: $(STAMP) $(MATHJAX) browser-deps
	$(MAKE) lint
	BOOK_SCALE=quick $(BIN)/pytest -m "not site" tests book --nbmake --nbmake-timeout=900 --ignore=book/_build
	rm -rf book/_build/.build-key  # the test build always executes every notebook
	$(call build_book,quick)
	$(BIN)/pytest -m site tests

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_estimators.py

clean:
	rm -rf book/_build .pytest_cache .ruff_cache
