# heimdall-pulumi: `make test` is what CI runs; `make render STACK=dev` renders offline.
PYTHON ?= python3
VENV ?= .venv
CHECKOV_VENV ?= .venv-checkov
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: help uv lock lock-check lint-workflows venv checkov-venv system-deps bench test unit lint typecheck render render-all reference clean

help:
	@echo "make test            lint, type-check and the whole test suite (what CI runs)"
	@echo "make render STACK=dev  render Pulumi.STACK.yaml offline into build/STACK"
	@echo "make render-all      render every stack file in the repository"
	@echo "make lock            refresh uv.lock (make lock-check: the lock agrees with pyproject)"
	@echo "make reference       rewrite README's configuration reference from the model"
	@echo "make bench           time the program under mocks against a floor, and the core"
	@echo "                     install's size (build/bench.json)"

# Every install comes from uv.lock (pyproject.toml declares, the lock pins with hashes), with
# the uv pinned in tools/uv-requirements.txt (installed by pip with --require-hashes).
UV_HOME ?= .venv-uv
UV := $(UV_HOME)/bin/uv
# No Python downloads: uv uses the machine's python3 (>= 3.11).
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON ?= $(PYTHON)

$(UV): tools/uv-requirements.txt
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet --require-hashes --no-deps -r tools/uv-requirements.txt
	touch $@

uv: $(UV)

# The development venv: the core, every database provider's SDK (the extras) and the `dev`
# group. A stack's own venv is the core plus its provider's extra: see README.md, "Quick start".
$(VENV)/.installed: pyproject.toml uv.lock $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --all-extras --group dev
	touch $@

venv: $(VENV)/.installed

# checkov pins packaging<24 and pulls protobuf back, which breaks Pulumi: a workspace member
# (tools/checkov) synced into a venv of its own.
$(CHECKOV_VENV)/.installed: tools/checkov/pyproject.toml uv.lock $(UV)
	UV_PROJECT_ENVIRONMENT=$(CHECKOV_VENV) $(UV) sync --locked --package heimdall-checkov
	touch $@

checkov-venv: $(CHECKOV_VENV)/.installed

# The lock agrees with every pyproject.toml of the workspace (fails when a dependency was
# declared or changed without `make lock`).
lock-check: $(UV)
	$(UV) lock --check

# Refresh the lock: every dependency to the newest version its declaration allows.
lock: $(UV)
	$(UV) lock --upgrade

lint: venv
	$(VENV)/bin/ruff check heimdall tests policy bench __main__.py

# The workflows, the composite action and the Dependabot file: zizmor's offline audit, and
# their structure against the schemas check-jsonschema vendors (actionlint cannot install
# here: its PyPI package downloads a binary at build time).
WORKFLOWS := $(wildcard .github/workflows/*.yml)
lint-workflows: venv
	$(VENV)/bin/zizmor --offline --quiet .github
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-actions .github/actions/*/action.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml

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
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest -q -n auto --dist loadfile

test: lock-check lint lint-workflows typecheck unit

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
