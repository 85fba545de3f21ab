# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench soak clean fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/digestbot --config samples/demo.toml run --once

lint: $(STAMP)
	$(BIN)/ruff check bot digests tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

# A longer soak of the fuzz set (make test runs it with 60 examples per property);
# Hypothesis's statistics show how many cases ran and how long they took.
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider \
		--hypothesis-show-statistics tests/test_fuzz_*.py

# A longer chaos run than the one in `make test`: 200 SIGKILLs of `digestbot run`.
soak: $(STAMP)
	CHAOS_KILLS=200 $(BIN)/pytest -q -s tests/bot/test_chaos.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data
