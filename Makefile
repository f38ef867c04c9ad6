# Two commands on a fresh clone:  make run   (poll + publish with ./feeds.yaml)
#                                 make test  (the whole test suite)
# Both build a local .venv first, and rebuild it when pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test bench fuzz fuzz-atheris serve demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/aggregator run

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

fuzz: $(STAMP)
	FUZZ_EXAMPLES=20000 $(BIN)/python -m pytest -q tests/test_fuzz.py -p no:xdist

fuzz-atheris: $(STAMP)
	$(BIN)/python -m pip install --quiet atheris
	mkdir -p .fuzz-corpus && cp -n tests/data/feeds/* .fuzz-corpus/
	$(BIN)/python tests/fuzz_atheris.py -max_total_time=$${FUZZ_SECONDS:-600} .fuzz-corpus

serve: $(STAMP)
	$(BIN)/aggregator serve

demo: $(STAMP)
	$(BIN)/aggregator demo

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
