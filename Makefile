# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Install, load the example unit tree (once), and chat with the bot in this terminal.
run: $(STAMP)
	$(BIN)/initiative-bot seed examples/industrial-zone.yaml > /dev/null
	$(BIN)/initiative-bot chat --user "$${USER_ID:-demo}" --name "$${USER_NAME:-Nguyễn Văn An}" --start DEMO-SMT1

## Install, then lint, type-check and run every test on SQLite and PostgreSQL.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n 2 --dist worksteal

## Benchmarks (not part of the tests): see bench/README.md.
bench: $(STAMP)
	$(BIN)/python -m bench.throughput
	$(BIN)/python -m bench.pg_transaction
	$(BIN)/python -m bench.broadcast
	$(BIN)/python -m bench.broadcast --messenger zalo
	$(BIN)/python -m bench.replies_during_broadcast
	$(BIN)/python -m bench.digest
	$(BIN)/python -m bench.digest_contention
	$(BIN)/python -m bench.export_contention
	$(BIN)/python -m bench.export
	$(BIN)/python -m bench.import_members
	$(BIN)/python -m bench.similar_quality
	$(BIN)/python -m bench.search

clean:
	rm -rf $(VENV) data
