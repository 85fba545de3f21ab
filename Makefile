# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint native bench soak clean fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip 'setuptools>=77'
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# The digests core compiled to C by mypyc (setup.py): the pipeline ran 1.1-1.4x faster. Where
# that fails (no C compiler), Python runs the same modules from source. ~8 s when nothing
# changed; bot.native runs the sources if they changed since.
native: $(STAMP)
	DIGESTBOT_NATIVE=1 $(BIN)/python setup.py -q build_ext --inplace \
		|| { rm -f digests/*.so digests/native-build.json; \
		     echo 'compiling the digests core failed: it runs as Python'; }
	@$(BIN)/python -c 'from bot.native import BUILD; print("digests core:", BUILD)'

demo: native
	$(BIN)/digestbot --config samples/demo.toml run --once

lint: $(STAMP)
	$(BIN)/ruff check bot digests tests bench setup.py
	$(BIN)/mypy

test: lint native
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

bench: native
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data build digests/*.so digests/native-build.json
