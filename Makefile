# heimdall-pulumi: `make test` is what CI runs; `make render STACK=dev` renders offline.
PYTHON ?= python3
VENV ?= .venv
CHECKOV_VENV ?= .venv-checkov
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: help venv checkov-venv system-deps bench test unit lint typecheck render render-all reference clean

help:
	@echo "make test            lint, type-check and the whole test suite (what CI runs)"
	@echo "make render STACK=dev  render Pulumi.STACK.yaml offline into build/STACK"
	@echo "make render-all      render every stack file in the repository"
	@echo "make reference       rewrite README's configuration reference from the model"
	@echo "make bench           time the program under mocks against a floor, and the core"
	@echo "                     install's size (build/bench.json)"

# The development venv: the core, every database provider's SDK (each provider package's
# requirements.txt) and the test tools. A stack's own venv needs only the core plus its
# provider's file: see README.md, "Quick start".
PROVIDER_REQUIREMENTS := $(wildcard heimdall/database/*/requirements.txt)

$(VENV)/.installed: requirements.txt requirements-dev.txt $(PROVIDER_REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt $(addprefix -r ,$(PROVIDER_REQUIREMENTS))
	touch $@

venv: $(VENV)/.installed

# checkov pins packaging<24 and pulls protobuf back, which breaks Pulumi: its own venv.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

checkov-venv: $(CHECKOV_VENV)/.installed

lint: venv
	$(VENV)/bin/ruff check heimdall tests policy bench __main__.py

typecheck: venv
	$(VENV)/bin/mypy

# The real-PostgreSQL tests need the server binaries; Debian's package provides them.
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing PostgreSQL (Debian package postgresql)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; fi; \
	fi

unit: venv checkov-venv system-deps
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest -q

test: lint typecheck unit

render: venv
	$(PY) -m heimdall render $(STACK)

render-all: venv
	@set -e; for f in Pulumi.*.yaml examples/stacks/Pulumi.*.yaml; do \
	  [ -f "$$f" ] || continue; echo "== $$f"; $(PY) -m heimdall render "$$f" --out "build/$$(basename $$f .yaml | sed 's/^Pulumi\.//')"; done

reference: venv
	$(PY) -c "import pathlib, heimdall.tooling.reference as r; p = pathlib.Path('README.md'); t = p.read_text(); p.write_text(t.replace(r.readme_block(t), r.reference()))"

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis

bench: venv
	$(PY) bench/bench.py
