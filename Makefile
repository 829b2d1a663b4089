# Fresh machine: `make bench` (set up + the main job) or `make test` (set up + the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
# The MIT-BIH records shipped beside the repo; MADS_ZOO_DATA_DIR set by you wins.
export MADS_ZOO_DATA_DIR ?= $(abspath $(wildcard ../shared/data/mitdb))

.PHONY: install test lint bench clean

$(VENV)/.installed: pyproject.toml $(addsuffix pyproject.toml,$(PLUGINS))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]' $(addprefix -e ,$(PLUGINS))
	touch $@

install: $(VENV)/.installed  ## create .venv with mads-zoo, its dev tools and the plugins/ packages

lint: install  ## ruff, then mypy (strict on the engine, the plugins and benchmarks/)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint  ## ruff and mypy, then the whole test suite
	$(BIN)/python -m pytest

bench: install  ## the main job: every (architecture x imbalance strategy) combo under the default budget
	$(BIN)/mads-zoo bench --all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
