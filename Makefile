# connect-analysis: `make help` lists every target.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help demo test test-fast lint docs docs-generate bench clean system-deps

help: ## list every target
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v uv >/dev/null 2>&1 || python3 -m pip install -q uv
	@test -x $(PY) || uv venv -q $(VENV) --python 3.11 || uv venv -q $(VENV)
	uv pip install -q --compile-bytecode --python $(PY) -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP) ## run the whole kit against the embedded simulator; prints the report path
	$(VENV)/bin/connect-analysis demo --out demo-output

system-deps: ## install what the tests use (chromium, postgresql, shellcheck, pdftotext, node; npm ci in tests/browser)
	@bash .ci/system-deps

test: lint system-deps ## lint, then the whole test suite
	$(VENV)/bin/python -m pytest -q

test-fast: $(STAMP) ## the unit and integration tests that take seconds (not e2e, not slow)
	$(VENV)/bin/python -m pytest -q -m "not e2e and not slow"

lint: $(STAMP) ## ruff, import-linter's layer contracts (pyproject.toml), the size limits, the docs' drift check
	$(VENV)/bin/ruff check connect_analysis connect_simulator tests bench tools
	$(VENV)/bin/lint-imports
	$(PY) tools/check_sizes.py
	$(PY) tools/gen_docs.py --check

docs-generate: $(STAMP) ## rewrite the docs pages generated from the code (tools/gen_docs.py)
	$(PY) tools/gen_docs.py

docs: $(STAMP) ## render docs/ with Quarto when present, else check the generated pages
	@if command -v quarto >/dev/null 2>&1; then $(PY) tools/gen_docs.py --check && quarto render docs; \
	else echo "quarto not found: checking the generated pages only"; $(PY) tools/gen_docs.py --check; fi

bench: $(STAMP) ## run the benchmarks in bench/
	$(PY) bench/run_all.py

clean: ## remove the environment and outputs
	rm -rf $(VENV) demo-output .pytest_cache docs/_site
