# Two commands on a fresh machine: `make run` and `make test`.  Everything else is bootstrap.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.bootstrapped
NODE_STAMP := web_client/node_modules/.bootstrapped
WEB_STAMP := web_client/dist/index.html
WEB_SOURCES := $(shell find web_client/src -type f 2>/dev/null) web_client/index.html \
	web_client/vite.config.ts web_client/tsconfig.json web_client/package.json

.PHONY: run test bootstrap web lint typecheck pytest webtest bench lock clean

run: bootstrap
	$(BIN)/peiliao db upgrade
	$(BIN)/peiliao serve

bootstrap: $(PY_STAMP) $(WEB_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv installs the locked set (constraints.txt) in ~10 s where pip took ~35 s; it is itself pinned
# there and installed by pip.
$(PY_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev]'
	touch $@

$(NODE_STAMP): web_client/package.json web_client/package-lock.json
	cd web_client && npm ci --no-audit --no-fund
	touch $@

$(WEB_STAMP): $(NODE_STAMP) $(WEB_SOURCES)
	cd web_client && npm run build

web: $(WEB_STAMP)

test: bootstrap lint typecheck webtest pytest

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(PY_STAMP)
	$(BIN)/mypy

webtest: $(NODE_STAMP)
	cd web_client && npm test

# Tests marked `alone` assert wall-clock figures (a call back within 5 s of a network switch):
# they run after the parallel run, one at a time, so three workers on two cores do not decide them.
pytest: $(PY_STAMP)
	$(BIN)/pytest -m "not alone"
	$(BIN)/pytest -m alone -n 0

bench: bootstrap
	$(BIN)/python -m bench

lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet uv -e '.[dev]'
	{ echo "# The lock: exact versions of every Python dependency (make bootstrap installs with -c)."; \
	  echo "# Regenerate: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^peiliao'; } > constraints.txt

clean:
	rm -rf $(VENV) web_client/node_modules web_client/dist
