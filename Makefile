# Two entry points for a fresh Debian/Ubuntu machine (see README):
#   make run   - install what the station needs and start it (demo: GUI + local server)
#   make test  - install what the tests need (system packages too, when root) and run them all
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench freeze installer system-deps-run system-deps-test clean

run: system-deps-run $(STAMP)
	$(VENV)/bin/ektp-station demo

test: system-deps-test $(STAMP) lint typecheck pytest

$(STAMP): pyproject.toml Makefile
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (python3 is $$(python3 -V 2>&1)); install it, e.g. apt-get install python3.11, and put it first on PATH" >&2; exit 2; }
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test,freeze]'
	touch $(STAMP)

system-deps-run:
	bash scripts/system-deps.sh run

system-deps-test:
	bash scripts/system-deps.sh test

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# One worker per core (pytest-xdist); a file's tests stay on one worker, so its module and
# session fixtures (wine prefix, pcscd, PostgreSQL cluster) are made once per worker at most.
# The 30 slowest tests are listed at the end, to keep the suite inside its 20-minute budget.
PYTEST_WORKERS ?= auto
pytest: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=30

bench: $(STAMP)
	$(PY) bench/run.py --out bench/results.json

# The one-folder build the installer wraps (tests/freeze/ makes its own and tries it).
freeze: $(STAMP)
	$(PY) -m PyInstaller --noconfirm --distpath build/dist --workpath build/work packaging/ektp-station.spec

installer:
	@test -n "$(PAYLOAD)" || { echo 'usage: make installer PAYLOAD=dir/of/one-folder/build' >&2; exit 2; }
	bash scripts/build-installer.sh $(PAYLOAD)

clean:
	rm -rf $(VENV) build dist *.egg-info
