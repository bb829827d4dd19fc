# sitegen: `make run` starts the whole local stack, `make test` runs every test. Both set up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
STATE_DIR ?= .sitegen
PYTEST_ARGS ?=

.PHONY: setup run test migrate clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(PY) -m infra.local --port $(PORT) --state-dir $(STATE_DIR)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Apply database migrations to DATABASE_URL (a deployed stage's database, for example).
migrate: $(STAMP)
	@test -n "$$DATABASE_URL" || (echo "set DATABASE_URL" >&2; exit 2)
	$(PY) -m chalicelib.db.migrate

clean:
	rm -rf $(VENV) $(STATE_DIR) .pytest_cache
