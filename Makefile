# Two entry points for a fresh Debian/Ubuntu machine (see README):
#   make run   - install what the station needs and start it (demo: GUI + local server)
#   make test  - install what the tests need (system packages too, when root) and run them all
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench installer system-deps-run system-deps-test clean

run: system-deps-run $(STAMP)
	$(VENV)/bin/ektp-station demo

test: system-deps-test $(STAMP) lint typecheck pytest

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
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

pytest: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/run.py --out bench/results.json

installer:
	@test -n "$(PAYLOAD)" || { echo 'usage: make installer PAYLOAD=dir/of/one-folder/build' >&2; exit 2; }
	bash scripts/build-installer.sh $(PAYLOAD)

clean:
	rm -rf $(VENV) build dist *.egg-info
