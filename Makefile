# OpenIOP developer tasks. `make help` lists them.
#
# Everything runs from the project's own virtual environment in .venv, built by `make install`
# from pyproject.toml with the versions pinned in requirements.lock.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The install stamp is named after a hash of pyproject.toml and requirements.lock: `make install`
# reinstalls only when one of them changed in content (a fresh checkout's new mtimes don't count).
INSTALL_HASH := $(shell cat pyproject.toml requirements.lock 2>/dev/null | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(INSTALL_HASH)

# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k audit -x"`.
PYTEST_ARGS ?=
# Parallel test workers (pytest-xdist; each worker gets its own test database, test_openiop_gwN
# on PostgreSQL, in-memory on SQLite). Two by default (CI machines have 2 cores); every worker
# must collect the same test ids, so never parametrize with values made at import time (uuid4(),
# now()). `make test PYTEST_WORKERS=0` runs serially.
PYTEST_WORKERS ?= 2

RUN_ADDR ?= 127.0.0.1:8000

.PHONY: help install run test lint fmt lock clean

help:
	@echo "make install  create .venv and install OpenIOP with its dev tools (pinned by requirements.lock)"
	@echo "make run      migrate, load the demo clinic once, serve on http://$(RUN_ADDR)/ (DEBUG=true)"
	@echo "make test     run the test suite (PYTEST_ARGS=..., PYTEST_WORKERS=$(PYTEST_WORKERS))"
	@echo "make lint     ruff check + ruff format --check"
	@echo "make fmt      ruff format + ruff check --fix"
	@echo "make lock     regenerate requirements.lock from a fresh venv"
	@echo "make clean    delete the SQLite databases under var/ (keeps .venv)"

install: $(STAMP)

$(STAMP):
	@py=$(BIN)/python; [ -x "$$py" ] || py="$$(command -v $(PYTHON) || true)"; \
	if [ -z "$$py" ]; then echo "error: $(PYTHON) not found on PATH; OpenIOP needs Python >= 3.11" >&2; exit 1; fi; \
	if ! "$$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
		echo "error: OpenIOP needs Python >= 3.11, but $$py is $$("$$py" -c 'import sys; print(sys.version.split()[0])')." >&2; \
		if [ "$$py" = "$(BIN)/python" ]; then echo "       Remove $(VENV) and re-run with a newer python3 first on PATH." >&2; \
		else echo "       Put a newer python3 first on PATH (or run make PYTHON=python3.12 install)." >&2; fi; \
		exit 1; \
	fi
	@if [ ! -x $(BIN)/python ]; then echo "Creating $(VENV) with $$(command -v $(PYTHON))"; $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --disable-pip-version-check -q -c requirements.lock -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "OpenIOP installed in $(VENV)"

# DEBUG=true: runserver serves the static files. The database is the settings' default
# (SQLite in var/) unless DATABASE_URL says otherwise.
run: export DEBUG = true
run: install
	@mkdir -p var
	$(BIN)/openiop migrate --noinput
	$(BIN)/openiop demo --if-empty --url http://$(RUN_ADDR)/accounts/login/
	@# The reminder worker (outbox: e-mail to the console, texts to var/sms/) runs beside the
	@# server and stops with it; its log is var/logs/messages.log.
	@mkdir -p var/logs; $(BIN)/openiop messages send --loop --interval 60 >> var/logs/messages.log 2>&1 & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	echo "Reminder worker started (pid $$worker; log var/logs/messages.log)"; \
	$(BIN)/openiop runserver $(RUN_ADDR)

# pytest's exit code 5 ("no tests collected") fails this target like any other non-zero code.
test: install
	$(strip $(BIN)/pytest $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS)) $(PYTEST_ARGS))

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate requirements.lock: install `.[dev]` WITHOUT the old constraints into a throw-away
# venv (so every dependency resolves to its newest release allowed by pyproject.toml), then
# write that venv's `pip freeze --exclude-editable` (everything but OpenIOP itself) as the new
# constraints. Review the diff, run `make install test`, and commit both files together.
lock:
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --disable-pip-version-check -q -e '.[dev]'; \
	{ sed -n '/^#/p' requirements.lock 2>/dev/null || true; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable; } > "$$tmp/lock"; \
	mv "$$tmp/lock" requirements.lock
	@echo "requirements.lock regenerated; review with: git diff requirements.lock"

clean:
	rm -f var/*.sqlite3 var/*.sqlite3-wal var/*.sqlite3-shm var/*.sqlite3-journal
