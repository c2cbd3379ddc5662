# Okno: every command reads DATABASE_URL (default: SQLite file under var/).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed

.PHONY: install demo test test-sqlite test-postgres bench lint browser-deps run worker migrate seed

install: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# make demo: migrate, seed (once), start web + worker, print the login.
demo: install
	./scripts/demo.sh

# Debian's Chromium for the browser tests (never a downloaded browser).
browser-deps:
	./scripts/browser-deps.sh

test: install browser-deps
	./scripts/test.sh

lint: install
	$(BIN)/ruff check okno bench scripts

bench: install
	$(BIN)/python -m bench
