# connect-analysis: `make help` lists every target.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help demo test lint bench clean system-deps

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

test: $(STAMP) system-deps ## ruff, then pytest
	$(VENV)/bin/ruff check connect_analysis tests bench
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP) ## ruff only
	$(VENV)/bin/ruff check connect_analysis tests bench

bench: $(STAMP) ## run the benchmarks in bench/
	$(PY) bench/run_all.py

clean: ## remove the environment and outputs
	rm -rf $(VENV) demo-output .pytest_cache
