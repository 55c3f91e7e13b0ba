# The two commands of the README: `make book` and `make test`. Both create .venv and install on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOTSTRAP ?= $(shell command -v python3.11 || command -v python3)
# Debian packages, installed as root or through `sudo -n` when missing (CI has no terminal to ask for a password)
APT_INSTALL = DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo -n) apt-get
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
# the course's named Jupyter kernel, installed into .venv by the set-up: the notebooks' kernelspec is "vi-course",
# so JupyterLab, nbmake and jupyter-book all run them with .venv's Python (a student with several environments sees
# "VI course" in the kernel picker)
KERNEL_NAME := vi-course
KERNEL  := $(VENV)/share/jupyter/kernels/$(KERNEL_NAME)/kernel.json
INSTALL_KERNEL = $(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL_NAME) --display-name "VI course"
MATHJAX_VERSION := 3.2.2
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

.PHONY: help book book-student student-branch pdf test lab lint unit notebooks test-build site-check bench reference reference-status lock notebook-headers browser-deps datasets clean
# the targets of `make test` run in the order they are listed, also under `make -j`
.NOTPARALLEL:

help:
	@echo "The two commands:"
	@echo "  make book          build the site into book/_build/html (BOOK_SCALE=standard)"
	@echo "  make test          lint, unit, test-build and site-check, in that order (BOOK_SCALE=quick)"
	@echo "The student edition (no solutions, a stub in each self-check; README.md, \"Student edition\"):"
	@echo "  make book-student  build it into book/_build/student/html, at the scale of the last make book"
	@echo "  make student-branch  commit its notebooks as the git branch student (then: git push origin student)"
	@echo "The steps of make test, each usable alone:"
	@echo "  make lint          ruff check and ruff format --check"
	@echo "  make unit          the unit tests (tests/, without the browser check)"
	@echo "  make test-build    every notebook executed once (fails on any error, with its traceback), then the"
	@echo "                     strict book build from those executions, and of the student edition, at BOOK_SCALE=quick"
	@echo "  make site-check    the browser check of every page of book/_build/html in headless Chromium"
	@echo "Other targets:"
	@echo "  make notebooks     every notebook executed top to bottom with nbmake alone (BOOK_SCALE=quick; no build)"
	@echo "  make pdf           the PDFs of every chapter and of the book, printed from the built site (make book"
	@echo "                     runs it; output in book/_build/html/_downloads/pdf/)"
	@echo "  make lab           JupyterLab on book/ with the course environment"
	@echo "  make bench         the speed comparisons in benchmarks/, written to benchmarks/RESULTS.md"
	@echo "  make reference     train the deep chapters' reference runs (resumable; RUN=chapter/name for one,"
	@echo "                     TARGET=passes to train beyond the catalogue, ROUND_ROBIN=1 for a few passes each in turn)"
	@echo "  make reference-status  what the reference runs hold and what is left, and their size against the cap"
	@echo "  make lock          rewrite constraints.txt after a pin in pyproject.toml changes"
	@echo "  make notebook-headers  rewrite each notebook's macros cell and Colab guard (_config.yml, pyproject.toml)"
	@echo "  make datasets      install Debian's Fashion-MNIST when apt-get is available"
	@echo "  make browser-deps  install Chromium and its driver for the browser check"
	@echo "  make clean         remove the built site and the caches (the next build executes every notebook)"

# ---------------------------------------------------------------------------------------------- set-up
$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON_BOOTSTRAP)" || { echo "Python 3.11 not found: install it (Debian: apt-get install python3.11 python3.11-venv)"; exit 1; }
	@$(PYTHON_BOOTSTRAP) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "$(PYTHON_BOOTSTRAP) is not Python 3.11, which the pinned torch 2.14.1 needs: set PYTHON_BOOTSTRAP=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON_BOOTSTRAP) -m venv $(VENV) || \
	  { echo "could not create .venv: install the venv module (Debian: apt-get install python3.11-venv)"; exit 1; }
	$(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt -e ".[book,test]"
	$(INSTALL_KERNEL)
	@touch $@

# a .venv set up before the kernel existed gets it without a reinstall
$(KERNEL): $(STAMP)
	@test -f $@ || $(INSTALL_KERNEL)

# MathJax for an offline site, from the npm package; the stamp file re-fetches it when MATHJAX_VERSION changes
MATHJAX_STAMP := book/_vendor/.mathjax-$(MATHJAX_VERSION)
$(MATHJAX_STAMP):
	@command -v npm >/dev/null || { $(APT_INSTALL) update -q && $(APT_INSTALL) install -y -q nodejs npm; } || \
	  { echo "npm not found and could not be installed: install Node.js and npm, or put MathJax 3's es5/ folder in book/_vendor/mathjax"; exit 1; }
	npm install --no-audit --no-fund --loglevel=error --prefix .cache/npm mathjax@$(MATHJAX_VERSION)
	rm -rf book/_vendor/mathjax book/_vendor/.mathjax-* && mkdir -p book/_vendor
	cp -r .cache/npm/node_modules/mathjax/es5 book/_vendor/mathjax && touch $@

browser-deps:
	@test -x "$(CHROMIUM)" || { $(APT_INSTALL) update -q && $(APT_INSTALL) install -y -q chromium chromium-driver; } || \
	  { echo "Chromium not found at $(CHROMIUM) and could not be installed: install the Debian packages chromium and chromium-driver, or set CHROMIUM=/path/to/chrome"; exit 1; }

# Fashion-MNIST from Debian's dataset-fashion-mnist (IDX files), so the deep-model chapters have real 28x28 images
# offline. Without apt-get (macOS, conda) the chapters fall back to scikit-learn's 8x8 digits; online, MNIST and
# Fashion-MNIST also download through torchvision (helpers.load_images says how).
FASHION_MNIST_DIR := /usr/share/datasets/fashion-mnist
datasets:
	@test -f $(FASHION_MNIST_DIR)/t10k-images-idx3-ubyte.gz || ! command -v apt-get >/dev/null || \
	  { $(APT_INSTALL) update -q && $(APT_INSTALL) install -y -q dataset-fashion-mnist; } || \
	  { echo "could not install the Debian package dataset-fashion-mnist: run 'apt-get install dataset-fashion-mnist' as root"; exit 1; }
	@test -f $(FASHION_MNIST_DIR)/t10k-images-idx3-ubyte.gz || \
	  echo "note: Fashion-MNIST is not installed (no apt-get); the deep-model chapters use scikit-learn's 8x8 digits"

# The lock is resolved in a clean, throw-away venv, so that nothing installed by hand in .venv leaks into it. The
# package's own dependencies are ranges in pyproject.toml (so that it installs beside Colab's torch): the lock keeps
# the versions it has for them (edit their lines in constraints.txt to move one, e.g. torch), and resolves the rest
# afresh from pyproject's pins.
LOCK_KEEP = import re, tomllib; names = {re.split(r"[<>=!~;\s\[]", d)[0].lower().replace("_", "-") for d in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]}; print("".join(line for line in open("constraints.txt") if line.split("==")[0].lower().replace("_", "-") in names), end="")
lock:
	rm -rf .cache/lock-venv && $(PYTHON_BOOTSTRAP) -m venv .cache/lock-venv
	$(PYTHON_BOOTSTRAP) -c '$(LOCK_KEEP)' > .cache/lock-keep.txt
	.cache/lock-venv/bin/python -m pip install --disable-pip-version-check -q -c .cache/lock-keep.txt -e ".[book,test]"
	@{ echo "# Full lock of the environment that 'make book' and 'make test' install (pip install -c constraints.txt)."; \
	   echo "# Regenerate with: make lock   (after changing a pin in pyproject.toml)"; \
	   .cache/lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e'; } > constraints.txt
	rm -rf .cache/lock-venv .cache/lock-keep.txt

# The first two cells of every chapter notebook, written from one place each (book/_ext/notebook_header.py): the
# LaTeX macros of book/_config.yml (so that JupyterLab-MyST, Colab and the website typeset them alike) and the
# Colab guard's `%pip install` line for pyproject.toml's [project.urls] Repository. Run it after changing either.
notebook-headers: $(STAMP)
	$(BIN)/python book/_ext/notebook_header.py

# ---------------------------------------------------------------------------------------------- the book
# jupyter-cache keys on the notebook's code only, and Sphinx re-reads only changed sources: when the scale, the
# helpers, the pins or the local Sphinx extension change, drop the cache and the doctrees so that every
# notebook executes again. book/_ext/execute_parallel.py first executes the notebooks on every core (BOOK_JOBS,
# default: the number of cores; one BLAS thread each) into the cache, so the build itself only reads them.
# (book/_ext/student_edition.py is left out of the key: it runs after the main build and changes none of its outputs.)
BUILD_HASH = find helpers book/_ext \( -name '*.py' -o -name manifest.json \) ! -name student_edition.py | sort | xargs cat constraints.txt | sha1sum | cut -c1-16
define build_book
	@mkdir -p book/_build
	@key="$(1)-$$($(BUILD_HASH))"; \
	if [ "$$(cat book/_build/.build-key 2>/dev/null)" != "$$key" ]; then \
	  echo "scale or helpers changed: executing every notebook again"; \
	  rm -rf book/_build/.jupyter_cache book/_build/.doctrees book/_build/html book/_build/jupyter_execute; fi
	BOOK_SCALE=$(1) $(2) $(BIN)/python book/_ext/execute_parallel.py book
	BOOK_SCALE=$(1) $(2) $(BIN)/jupyter-book build book -W -n --keep-going
	@echo "$(1)-$$($(BUILD_HASH))" > book/_build/.build-key
endef

# The PDFs (book/_ext/pdf.py): every chapter and the whole book printed from the built site by headless Chromium
# through Playwright (no TeX Live needed; the maths is the site's MathJax), into book/_build/html/_downloads/pdf/
# (book.pdf and <part>-<chapter>.pdf), which each chapter page links. `make book` and `make test-build` run it.
PRINT_PDF = $(BIN)/python book/_ext/pdf.py book/_build/html

book: $(STAMP) $(KERNEL) $(MATHJAX_STAMP) datasets browser-deps
	$(call build_book,$(or $(BOOK_SCALE),standard))
	$(PRINT_PDF)

pdf: $(STAMP) browser-deps
	@test -f book/_build/html/intro.html || { echo "no site to print: run 'make book' (or 'make test-build') first"; exit 1; }
	$(PRINT_PDF)

# The student edition (book/_ext/student_edition.py): a copy of book/ in book/_build/student/src without the
# solutions and with a stub in each self-check cell, built strictly into book/_build/student/html. Its notebooks are
# not executed twice: the outputs of the cells it keeps come from the main build's jupyter-cache when that cache is
# at the same scale (.build-key), and only the stub and summary cells run (all chapters in one kernel per BOOK_JOBS,
# about 40 s in all at quick on 2 loaded cores); otherwise the student notebooks are executed in full. Its launch
# buttons open the branch STUDENT_BRANCH (make student-branch writes it).
STUDENT := book/_build/student
STUDENT_BRANCH ?= student
define build_student
	BOOK_SCALE=$(1) $(BIN)/python book/_ext/student_edition.py prepare book $(STUDENT)/src \
	  --cache $(STUDENT)/.jupyter_cache --main-cache book/_build/.jupyter_cache --main-key "$(1)-$$($(BUILD_HASH))"
	rm -rf $(STUDENT)/build $(STUDENT)/html $(STUDENT)/launch.json
	BOOK_SCALE=$(1) BOOK_REPOSITORY_BRANCH=$(STUDENT_BRANCH) BOOK_EXECUTION_CACHE=$(STUDENT)/.jupyter_cache $(2) \
	  $(BIN)/jupyter-book build $(STUDENT)/src --path-output $(STUDENT)/build -W -n --keep-going
	mv $(STUDENT)/build/_build/html $(STUDENT)/html && mv $(STUDENT)/build/_build/launch.json $(STUDENT)/launch.json
endef

book-student: $(STAMP) $(KERNEL) $(MATHJAX_STAMP) datasets
	$(call build_student,$(or $(BOOK_SCALE),$(firstword $(subst -, ,$(shell cat book/_build/.build-key 2>/dev/null))),standard))

student-branch: $(STAMP)
	@test -d $(STUDENT)/src || { echo "$(STUDENT)/src is missing: run make book-student first"; exit 1; }
	$(BIN)/python book/_ext/student_edition.py branch $(STUDENT)/src --branch $(STUDENT_BRANCH)

# JupyterLab on book/ with the course kernel; LAB_ARGS adds options (e.g. LAB_ARGS="--port=8890 --no-browser").
# tests/book/test_lab.py starts it the same way (own port, token and a temporary home) and runs a chapter in Chromium.
LAB_FLAGS = --notebook-dir=book --MultiKernelManager.default_kernel_name=$(KERNEL_NAME) $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP) $(KERNEL) datasets
	$(BIN)/jupyter lab $(LAB_FLAGS) $(LAB_ARGS)

# ---------------------------------------------------------------------------------------------- the tests
lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks book
	$(BIN)/ruff format --check helpers tests benchmarks book

unit: $(STAMP) datasets
	BOOK_SCALE=quick $(BIN)/pytest -m "not site" tests

# Not a step of `make test`: test-build executes every notebook once and fails on any error; this runs them alone.
notebooks: $(STAMP) $(KERNEL) datasets
	BOOK_SCALE=quick $(BIN)/pytest --nbmake --nbmake-timeout=900 -p no:cacheprovider book --ignore=book/_build

site-check: $(STAMP) browser-deps
	$(BIN)/pytest -m site tests

# book/_ext/execute_parallel.py executes every notebook of _toc.yml once (tests/book/test_notebooks.py checks that
# _toc.yml lists every notebook) and exits with status 1 and the failing cell's traceback on any error, which stops
# make before the build; the strict build then reads every notebook from the jupyter-cache.
# The strict build has no launch buttons (BOOK_REPOSITORY_URL=off, whatever the checkout's remote); a second
# variant with an example repository goes to book/_build/launch-check/ from the same jupyter-cache (no notebook
# runs twice), and the browser check (tests/book/test_site.py) checks the launch links of both. Last, the student
# edition at the same scale, with the example repository's branch student (tests/book/test_student_edition.py).
LAUNCH_CHECK_URL := https://github.com/example/vi-course
LAUNCH_CHECK_BRANCH := main
test-build: $(STAMP) $(KERNEL) $(MATHJAX_STAMP) datasets browser-deps
	rm -rf book/_build/.build-key  # the test build always executes every notebook
	$(call build_book,quick,BOOK_REPOSITORY_URL=off)
	$(PRINT_PDF)
	rm -rf book/_build/launch-check
	BOOK_SCALE=quick BOOK_REPOSITORY_URL=$(LAUNCH_CHECK_URL) BOOK_REPOSITORY_BRANCH=$(LAUNCH_CHECK_BRANCH) \
	  BOOK_EXECUTION_CACHE=book/_build/.jupyter_cache \
	  $(BIN)/jupyter-book build book --path-output book/_build/launch-check -W -n --keep-going
	$(call build_student,quick,BOOK_REPOSITORY_URL=$(LAUNCH_CHECK_URL))

test: lint unit test-build site-check

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# The reference runs (helpers/deep/reference/): one torch thread (the other core stays free for the build); stop at
# any time, the same command resumes bit for bit from the last completed pass. Commit helpers/deep/reference/ to keep
# the progress (checkpoint.pt and progress.json of runs in progress, weights and manifests of finished ones).
reference: $(STAMP) datasets
	$(BIN)/python -m helpers.deep.reference $(RUN) $(if $(TARGET),--target $(TARGET)) $(if $(ROUND_ROBIN),--round-robin) $(REFERENCE_ARGS)

reference-status: $(STAMP)
	$(BIN)/python -m helpers.deep.reference --status $(RUN)

clean:
	rm -rf book/_build .pytest_cache .ruff_cache
