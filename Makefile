# gridgov: `make demo` sets everything up from a fresh clone and serves on :8000;
# `make test` runs the whole suite. See README.md.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2
# Cases in the demo history; every one is replayed through the real services (see README).
DEMO_CASES ?= 20000
# Where `make demo` and `make serve` listen: pages and API, and the live event stream.
BIND ?= 127.0.0.1:8000
ASGI_BIND ?= 127.0.0.1:8001
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test setup python-deps assets browser migrate seed serve bench bench-tools messages clean

demo: setup
	$(BIN)/gridgov migrate --noinput
	$(BIN)/gridgov collectstatic --noinput -v 0
	$(BIN)/gridgov seed --demo --cases $(DEMO_CASES)
	$(BIN)/gridgov serve --bind $(BIND) --asgi-bind $(ASGI_BIND)

test: setup browser
	$(BIN)/gridgov collectstatic --noinput -v 0
	$(BIN)/pytest $(PYTEST_ARGS)

setup: python-deps assets

python-deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed
	$(BIN)/python scripts/vendor_assets.py

browser:
	scripts/ensure-chromium.sh

migrate: setup
	$(BIN)/gridgov migrate --noinput

seed: migrate
	$(BIN)/gridgov seed --demo --cases $(DEMO_CASES)

serve:
	$(BIN)/gridgov serve --bind $(BIND) --asgi-bind $(ASGI_BIND)

bench: setup bench-tools
	for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# wrk, the load generator of the HTTP benchmarks (bench/lib/wrkload.py; not needed by the tests).
bench-tools:
	scripts/ensure-wrk.sh

messages:
	cd src/gridgov && ../../$(BIN)/gridgov makemessages -l zh_Hans --no-obsolete && ../../$(BIN)/gridgov compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) node_modules src/gridgov/static/vendor var
