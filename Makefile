# ccbhub — `make run` serves the hub, `make test` runs every test. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= $(or $(HUB_PORT),8000)
HTMX_VERSION := 2.0.4
HTMX := core/web/static/vendor/htmx.min.js

.PHONY: run test lint bench install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

# htmx enhances the pages (boosted links and forms); every page also works without it.
$(HTMX):
	@mkdir -p var/htmx $(dir $(HTMX))
	@if command -v npm >/dev/null 2>&1 && (cd var/htmx && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null 2>&1); then \
	  tar -xzf var/htmx/htmx.org-$(HTMX_VERSION).tgz -C var/htmx package/dist/htmx.min.js && \
	  cp var/htmx/package/dist/htmx.min.js $(HTMX); \
	else echo "htmx not fetched (no npm or no registry): pages work without it"; fi

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

# A private hub.toml with a fixed secret: sessions survive restarts, and the synthetic customers' access
# codes (keyed hashes) verify in every ccbhub command run from this folder.
hub.toml:
	@printf '# made by make run; keep it private\nsecret_key = "%s"\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')" > $@
	@chmod 600 $@

run: $(VENV)/.installed $(HTMX) hub.toml
	@mkdir -p var
	@$(BIN)/ccbhub db upgrade
	@$(BIN)/ccbhub demo seed
	@echo
	@echo "  ccbhub is starting on http://127.0.0.1:$(PORT)/ui/"
	@echo "  Sign in as admin, lead, csr or security; their passwords and API tokens are in"
	@echo "  var/demo-credentials.txt (readable by you only; not printed here, so they stay out of scrollback and logs)."
	@echo "  Synthetic customers (account ids, demo access codes) are in var/demo-customers.jsonl."
	@echo
	@HUB_PORT=$(PORT) $(BIN)/ccbhub serve

test: $(VENV)/.installed-dev $(HTMX)
	$(BIN)/pytest -n auto

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
