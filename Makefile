# Two commands for a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYENV_ROOT ?= $(HOME)/.pyenv
PORT ?= 8000

# The first Python 3.12+ found: $(PYTHON) if given, then python3.13/python3.12
# on PATH, then pyenv's installs, then python3 if it is new enough.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 \
	$(wildcard $(PYENV_ROOT)/versions/3.14*/bin/python) \
	$(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python) \
	$(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python) python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: run test test-postgres test-browser venv demo worker media-worker bench messages clean

$(VENV)/.installed: requirements.txt
	@if [ -z "$(PYTHON)" ]; then \
		echo "Contacts Portal needs Python 3.12 or newer (Django 6.1). None was found:"; \
		echo "install one (for example 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'."; \
		exit 1; fi
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

venv: $(VENV)/.installed

# The server, a task worker (long jobs: imports, exports, syncs) and one for
# the files customers send (their own queue) side by side; Ctrl+C stops all.
run: venv
	DEBUG=1 $(PY) manage.py migrate --noinput
	@if [ ! -f .demo-login ]; then DEBUG=1 $(PY) manage.py seed_demo --contacts 500 --duplicates 12 --with-users > .demo-login; fi
	@echo; echo "Contacts Portal: http://127.0.0.1:$(PORT)/"; cat .demo-login; echo
	@DEBUG=1 $(PY) manage.py db_worker & worker=$$!; \
	DEBUG=1 $(PY) manage.py db_worker --queue-name media & media=$$!; \
	trap 'kill $$worker $$media 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

worker: venv
	DEBUG=1 $(PY) manage.py db_worker

media-worker: venv
	DEBUG=1 $(PY) manage.py db_worker --queue-name media

test: venv
	$(PY) -m pytest -m "not browser" -n 2 -q

test-postgres: venv
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/contacts_portal} $(PY) -m pytest -m "not browser" -q

test-browser: venv
	$(PY) -m pytest -m browser -q -p no:xdist

bench: venv
	$(PY) benchmarks/list_search.py

messages: venv
	DEBUG=1 $(PY) manage.py makemessages -l pt_BR --no-obsolete --ignore=.venv --ignore=benchmarks
	DEBUG=1 $(PY) manage.py compilemessages -l pt_BR --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .test-media test-artifacts
