# Okno: every command reads DATABASE_URL (default: SQLite file under var/).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed

.PHONY: install demo test test-sqlite test-postgres bench lint browser-deps bench-deps run worker migrate seed messages

install: $(STAMP)
	./scripts/office-deps.sh

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
	./scripts/office-deps.sh
	./scripts/test.sh

lint: install
	$(BIN)/ruff check okno bench scripts

# Debian's wrk, the HTTP load generator of the ingest benchmark.
bench-deps:
	./scripts/bench-deps.sh

bench: install bench-deps
	$(BIN)/python -m bench

# Re-extracts UI strings into okno/locale/ru/LC_MESSAGES/django.po and compiles django.mo.
# Both files are committed, so running Okno never needs gettext; only this target does.
messages: install
	command -v msgfmt >/dev/null || { SUDO=$$(test "$$(id -u)" = 0 || echo sudo); $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq gettext; }
	$(BIN)/python manage.py makemessages -l ru --no-location -i .venv -i var -i bench -i scripts -i node_modules
	$(BIN)/python manage.py compilemessages -l ru -i .venv -i var
