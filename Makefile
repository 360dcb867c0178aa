# The two commands a newcomer needs: `make demo` and `make test`.
# Everything else is a step of those two.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin

CUSTOMERS ?= 10000
SEED ?= 7
# The demo plants every kind of dirty raw data, so its quarantine has rows to show.
FAULTS ?= --faults
# Which company's raw tables: full, orders_only, experiment or multi_currency (see the generator's --help).
SHAPE ?= full
BENCH_CUSTOMERS ?= 1000000

export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export CIW_RAW_DATA_PATH ?= $(CURDIR)/data/raw
export CIW_DUCKDB_PATH ?= $(CURDIR)/data/warehouse.duckdb
# Lint compiles the models, which read the raw files' columns: it gets a tiny
# dataset of its own so it never depends on (or disturbs) the demo's data.
LINT_RAW := $(CURDIR)/data/lint/raw
# Dagster's instance (run history, schedules' state) lives with the other generated data.
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: help install data build validate demo summary report browser test lint pytest bench simulate docs ui clean distclean

help:
	@echo "make demo    set up; through Dagster: generate sample data ($(CUSTOMERS) customers), build and validate every layer; print a summary; write the HTML report"
	@echo "make report  the HTML report of the warehouse (data/report/index.html; make demo writes it too)"
	@echo "make test    set up, lint (sqlfluff, ruff) and run the whole test suite"
	@echo "make lint    sqlfluff on every model, ruff on the Python code"
	@echo "make ui      the Dagster UI on http://127.0.0.1:3000 (assets grouped by layer, schedule, sensor)"
	@echo "make bench   generate $(BENCH_CUSTOMERS) customers; raw-scan floor, first and next day's build: time, peak memory, size (docs/scale.md)"
	@echo "make simulate  closed loop: every STEP days over DAYS days build, sync, let $(SIM_CUSTOMERS) customers respond; planted vs measured"
	@echo "make clean   remove data/ (generated data, warehouse, exports, sync state) and build output (keeps .venv); distclean removes .venv too"

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

data: install
	$(BIN)/ciw data --customers $(CUSTOMERS) --seed $(SEED) $(FAULTS) --shape $(SHAPE) --out $(CIW_RAW_DATA_PATH)

# `ciw dbt` is dbt that waits while another process (a Dagster run) holds the warehouse.
build: install
	mkdir -p $(dir $(CIW_DUCKDB_PATH))
	$(BIN)/ciw dbt build

summary: install
	$(BIN)/ciw summary

# The HTML report (docs/report.md) of the warehouse at CIW_DUCKDB_PATH, beside it in report/.
report: install
	$(BIN)/ciw report

# Plain dbt, without Dagster: `make data build validate summary` is the demo's steps by hand.
validate: install
	$(BIN)/ciw validate

# The whole asset graph, headless, through Dagster: fresh sample data, every dbt layer,
# its tests and Great Expectations checks (a blocking failure stops the later layers),
# then the summary. Exits non-zero when the run failed. `make ui` shows the run afterwards.
demo: install
	mkdir -p $(dir $(CIW_DUCKDB_PATH)) $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/ciw demo --customers $(CUSTOMERS) --seed $(SEED) $(if $(FAULTS),--faults,--no-faults) --shape $(SHAPE)

$(LINT_RAW)/_truth/manifest.json: $(VENV)/.installed
	$(BIN)/ciw data --customers 200 --seed 1 --faults --quiet --out $(LINT_RAW)

lint: install $(LINT_RAW)/_truth/manifest.json
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests
	CIW_RAW_DATA_PATH=$(LINT_RAW) CIW_DUCKDB_PATH=$(CURDIR)/data/lint/lint.duckdb \
		$(BIN)/sqlfluff lint models tests/dbt

# Two workers: a dbt build keeps about one core busy (Python per node), so two builds side by
# side use the machine; tests sharing a build stay on one worker (tests/python/conftest.py).
PYTEST_WORKERS ?= 2
pytest: install browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=20

test: lint pytest

# The report's browser test (tests/python/test_report_browser.py) drives headless Chromium through
# chromedriver: Debian's packages, installed only when missing (needs root, as on the project's machines).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver)

bench: install
	$(BIN)/ciw bench --customers $(BENCH_CUSTOMERS) --seed $(SEED) --faults --out $(CURDIR)/data/bench/raw

# Closed-loop simulation (docs/simulation.md): about 10 minutes on 2 cores at the
# defaults. `make simulate CUSTOMERS=5000 DAYS=90 STEP=7 SEED=3` changes them; output in SIM_OUT.
SIM_CUSTOMERS := $(if $(filter command line environment,$(origin CUSTOMERS)),$(CUSTOMERS),5000)
DAYS ?= 60
STEP ?= 7
SIM_OUT ?= $(CURDIR)/data/simulation
simulate: install
	$(BIN)/ciw simulate --customers $(SIM_CUSTOMERS) --days $(DAYS) --step $(STEP) --seed $(SEED) --out $(SIM_OUT)

ui: install
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

docs: install
	$(BIN)/ciw dbt docs generate

# data/ is the project's own folder (sample data, warehouse, exports and sync state, Dagster
# history): clean removes it whole, unless data/raw holds files the generator did not write
# (your own raw files there are refused, not deleted: move them or remove them yourself).
clean:
	@if [ -d data/raw ] && [ ! -f data/raw/_truth/manifest.json ] && [ -n "$$(find data/raw -type f -print -quit)" ]; then \
		echo "make clean: refusing to remove data/: data/raw holds files the sample-data generator did not write (e.g. $$(find data/raw -type f -print -quit)); move them out first." >&2; exit 1; fi
	rm -rf data target logs dbt_packages .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
