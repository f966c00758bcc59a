# The two commands a newcomer needs: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint unit bench contract clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The scripted tour of the bad-deploy sandbox (stdin closed on purpose; run `.venv/bin/opsbot demo` for a session).
demo: install
	$(BIN)/opsbot demo < /dev/null

lint: install
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest -q

test: lint unit

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache
